package product

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewExtra(t *testing.T) {
	tests := []struct {
		key   string
		value string
	}{
		{"partner", "acme"},
		{"partner", "acme_corp"},
		{"cicd", "azure-devops"},
		{"runtime", "15.4"},
		{"plugin-version", "1.2.0-rc.1+build.7"},
		{"a.b+c_d-e", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"/"+tt.value, func(t *testing.T) {
			e, err := NewExtra(tt.key, tt.value)

			require.NoError(t, err)
			assert.Equal(t, tt.key, e.Key())
			assert.Equal(t, tt.value, e.Value())
			assert.Equal(t, tt.key+"/"+tt.value, e.String())
			assert.False(t, e.IsZero())
		})
	}
}

func TestNewExtraRejects(t *testing.T) {
	tests := []struct {
		name  string
		key   string
		value string
		want  string
	}{
		{"empty key", "", "acme", "product: extra key is empty"},
		{"empty value", "partner", "", `product: extra "partner" value is empty`},
		{"slash in key", "par/tner", "acme", `extra key "par/tner" contains the invalid character '/' at byte 3`},
		{"slash in value", "partner", "acme/eu", `extra "partner" value "acme/eu" contains the invalid character '/'`},
		{"space in value", "partner", "acme corp", `invalid character ' '`},
		{"colon in value", "partner", "acme:1", `invalid character ':'`},
		{"non-ASCII value", "partner", "acmé", `invalid character 'é'`},
		{"long key", strings.Repeat("k", maxNameLength+1), "acme", "use at most 64"},
		{"long value", "partner", strings.Repeat("v", maxNameLength+1), "use at most 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewExtra(tt.key, tt.value)

			require.Error(t, err)
			assert.ErrorContains(t, err, tt.want)
			assert.ErrorContains(t, err, "use ")
			assert.True(t, e.IsZero())
		})
	}
}

func TestNewPartner(t *testing.T) {
	e, err := NewPartner("globex")
	require.NoError(t, err)

	assert.Equal(t, "partner/globex", e.String())

	_, err = NewPartner("globex inc")
	assert.ErrorContains(t, err, `"globex inc"`)
}

func TestZeroExtra(t *testing.T) {
	var e Extra

	assert.True(t, e.IsZero())
	assert.Empty(t, e.Key())
	assert.Empty(t, e.Value())
	assert.Empty(t, e.String())
}

func TestUserAgentWithExtras(t *testing.T) {
	p, err := mustApp(t, "acme", "0.1.0").Product("crew_gen")
	require.NoError(t, err)
	partner, err := NewPartner("globex")
	require.NoError(t, err)
	runtime, err := NewExtra("runtime", "15.4")
	require.NoError(t, err)
	other, err := NewPartner("initech")
	require.NoError(t, err)

	assert.Equal(t, "acme_crew_gen/0.1.0", p.UserAgentWithExtras())
	assert.Equal(t, "acme_crew_gen/0.1.0 partner/globex", p.UserAgentWithExtras(partner))
	assert.Equal(t, "acme_crew_gen/0.1.0 partner/globex runtime/15.4 partner/initech",
		p.UserAgentWithExtras(partner, runtime, other), "order kept, repeated key kept")
	assert.Equal(t, "acme_crew_gen/0.1.0 runtime/15.4", p.UserAgentWithExtras(Extra{}, runtime, Extra{}))
	assert.Equal(t, "partner/globex runtime/15.4", Product{}.UserAgentWithExtras(partner, runtime))
	assert.Empty(t, Product{}.UserAgentWithExtras(Extra{}))
}

func TestUserAgentWithExtrasParsesBack(t *testing.T) {
	p, err := mustApp(t, "acme", "0.1.0").Product("crew_gen")
	require.NoError(t, err)
	partner, err := NewPartner("globex")
	require.NoError(t, err)

	tokens := strings.Fields(p.UserAgentWithExtras(partner))
	require.Len(t, tokens, 2)

	parsed, err := ParseUserAgent(tokens[0])
	require.NoError(t, err)
	assert.Equal(t, p, parsed)
}
