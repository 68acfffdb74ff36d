package product

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustApp(t *testing.T, name, version string) App {
	t.Helper()

	app, err := NewApp(name, version)
	require.NoError(t, err)
	return app
}

func TestProductUserAgent(t *testing.T) {
	tests := []struct {
		app     string
		version string
		feature string
		want    string
	}{
		{"acme", "0.1.0", "", "acme/0.1.0"},
		{"acme", "0.1.0", "mcp", "acme_mcp/0.1.0"},
		{"acme", "0.1.0", "crew_gen", "acme_crew_gen/0.1.0"},
		{"acme", "0.1.0", "_lead", "acme__lead/0.1.0"},
		{"acme", "0.1.0", "tail_", "acme_tail_/0.1.0"},
		{"Acme.Corp+EU-1", "1.2.3-rc.1+build.7", "a.b+c-d_e", "Acme.Corp+EU-1_a.b+c-d_e/1.2.3-rc.1+build.7"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			app := mustApp(t, tt.app, tt.version)

			p, err := app.Product(tt.feature)

			require.NoError(t, err)
			assert.Equal(t, tt.want, p.UserAgent())
			assert.Equal(t, tt.want, p.String())
			assert.Equal(t, app, p.App())
			assert.Equal(t, tt.feature, p.Feature())
			assert.False(t, p.IsZero())
		})
	}
}

func TestProductEmptyFeatureIsApp(t *testing.T) {
	app := mustApp(t, "acme", "0.1.0")

	p, err := app.Product("")

	require.NoError(t, err)
	assert.Equal(t, app.AsProduct(), p)
	assert.Equal(t, app.UserAgent(), p.UserAgent())
	assert.Empty(t, p.Feature())
}

func TestProductRejectsFeatures(t *testing.T) {
	app := mustApp(t, "acme", "0.1.0")
	tests := []struct {
		feature string
		want    string
	}{
		{"crew gen", `feature name "crew gen" contains the invalid character ' ' at byte 4`},
		{"crew/gen", `'/'`},
		{"crew\r\ngen", `'\r'`},
		{"génération", `'é'`},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "too long (65 bytes): use at most 64"},
	}
	for _, tt := range tests {
		t.Run(tt.feature, func(t *testing.T) {
			p, err := app.Product(tt.feature)

			require.Error(t, err)
			assert.ErrorContains(t, err, "product: ")
			assert.ErrorContains(t, err, tt.want)
			assert.ErrorContains(t, err, "use ")
			assert.True(t, p.IsZero())
		})
	}
}

func TestZeroProduct(t *testing.T) {
	var p Product

	assert.True(t, p.IsZero())
	assert.True(t, p.App().IsZero())
	assert.Empty(t, p.Feature())
	assert.Empty(t, p.UserAgent())
	assert.Empty(t, p.String())
}

func TestProductComparable(t *testing.T) {
	app := mustApp(t, "acme", "0.1.0")
	first, err := app.Product("mcp")
	require.NoError(t, err)
	second, err := app.Product("mcp")
	require.NoError(t, err)
	other, err := app.Product("crew")
	require.NoError(t, err)

	assert.True(t, first == second)
	assert.False(t, first == other)

	counts := map[Product]int{}
	counts[first]++
	counts[second]++
	counts[other]++
	assert.Equal(t, 2, counts[first])
	assert.Equal(t, 1, counts[other])
}
