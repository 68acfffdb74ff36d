package product

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertPostgresApplicationName checks the properties that every
// PostgresApplicationName result has. It is at most 63 bytes of printable
// ASCII and is the whole token when that fits. Otherwise, whenever one byte of
// the feature fits, it parses to the same application and to the version
// without build metadata.
func assertPostgresApplicationName(t *testing.T, p Product) {
	t.Helper()

	name := p.PostgresApplicationName()
	assert.LessOrEqual(t, len(name), maxPostgresApplicationName, "name %q", name)
	for i := 0; i < len(name); i++ {
		assert.True(t, name[i] >= 0x20 && name[i] <= 0x7e, "name %q has byte 0x%02x at %d", name, name[i], i)
	}
	assert.False(t, strings.ContainsAny(name, ` '"\\`), "name %q needs no quoting in a libpq connection string", name)

	token := p.UserAgent()
	if len(token) <= maxPostgresApplicationName {
		assert.Equal(t, token, name)
		return
	}

	version, _, _ := strings.Cut(p.App().Version(), "+")
	withoutBuild := p.App().Name() + "/" + version
	if p.Feature() != "" {
		withoutBuild = p.App().Name() + "_" + p.Feature() + "/" + version
	}
	if len(withoutBuild) <= maxPostgresApplicationName {
		assert.Equal(t, withoutBuild, name)
		return
	}
	if p.Feature() == "" || len(p.App().Name())+len("_x/")+len(version) > maxPostgresApplicationName {
		// A cut inside the version may drop more bytes, but only to parse.
		cut := withoutBuild[:maxPostgresApplicationName]
		assert.True(t, strings.HasPrefix(cut, name), "name %q is a prefix of %q", name, cut)
		if name != cut {
			_, err := ParseUserAgent(name)
			assert.NoError(t, err, "name %q is shorter than the cut, so it must parse", name)
		}
		return
	}

	parsed, err := ParseUserAgent(name)
	require.NoError(t, err, "name %q", name)
	assert.Equal(t, p.App().Name(), parsed.App().Name())
	assert.Equal(t, version, parsed.App().Version())
	assert.True(t, strings.HasPrefix(p.Feature(), parsed.Feature()), "feature %q is a prefix of %q", parsed.Feature(), p.Feature())
	assert.Len(t, name, maxPostgresApplicationName, "a cut feature fills the name")
}

func TestPostgresApplicationName(t *testing.T) {
	long := strings.Repeat("f", maxNameLength)
	sixtyFour := strings.Repeat("a", maxNameLength)
	tests := []struct {
		name    string
		app     string
		version string
		feature string
		want    string
	}{
		{"app fits", "acme", "0.1.0", "", "acme/0.1.0"},
		{"feature fits", "acme", "0.1.0", "crew_gen", "acme_crew_gen/0.1.0"},
		{
			"exactly 63 bytes", "acme", "0.1.0", strings.Repeat("f", 63-len("acme_/0.1.0")),
			"acme_" + strings.Repeat("f", 63-len("acme_/0.1.0")) + "/0.1.0",
		},
		{
			"build metadata dropped", "acme", "1.0.0+" + strings.Repeat("b", 50), "mcp",
			"acme_mcp/1.0.0",
		},
		{
			"pre-release kept", "acme", "1.0.0-rc.1+" + strings.Repeat("b", 50), "mcp",
			"acme_mcp/1.0.0-rc.1",
		},
		{
			"feature cut", "acme", "0.1.0", long,
			"acme_" + long[:63-len("acme_/0.1.0")] + "/0.1.0",
		},
		{
			"feature cut to one byte", "acme", "1.0.0-" + strings.Repeat("r", 50), "crew_gen",
			"acme_c/1.0.0-" + strings.Repeat("r", 50),
		},
		{
			"no byte of the feature fits", "acme", "1.0.0-" + strings.Repeat("r", 51), "crew_gen",
			("acme_crew_gen/1.0.0-" + strings.Repeat("r", 51))[:63],
		},
		{
			"app too long for a feature", sixtyFour[:60], "0.1.0", "mcp",
			(sixtyFour[:60] + "_mcp/0.1.0")[:63],
		},
		{
			"app alone too long", sixtyFour, "0.1.0", "",
			(sixtyFour + "/0.1.0")[:63],
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := mustApp(t, tt.app, tt.version).Product(tt.feature)
			require.NoError(t, err)

			got := p.PostgresApplicationName()

			assert.Equal(t, tt.want, got)
			assertPostgresApplicationName(t, p)
		})
	}
}

func TestPostgresApplicationNameZero(t *testing.T) {
	assert.Empty(t, Product{}.PostgresApplicationName())
}

func TestPostgresApplicationNameCutVersion(t *testing.T) {
	p := mustApp(t, "acme", "1.0.0-"+strings.Repeat("a", 60)).AsProduct()

	name := p.PostgresApplicationName()

	assert.Equal(t, "acme/1.0.0-"+strings.Repeat("a", 52), name)
	parsed, err := ParseUserAgent(name)
	require.NoError(t, err, "a cut inside the version can still parse")
	assert.Equal(t, "1.0.0-"+strings.Repeat("a", 52), parsed.App().Version())
	assert.NotEqual(t, p.App().Version(), parsed.App().Version())
}
