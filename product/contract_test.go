package product_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/product"
)

func mustNewApp(t *testing.T, name, version string) product.App {
	t.Helper()

	app, err := product.NewApp(name, version)
	require.NoError(t, err)
	return app
}

// TestNewAppRejectsOddNames checks names with characters outside
// [0-9A-Za-z.+-], and that each error carries the package prefix.
func TestNewAppRejectsOddNames(t *testing.T) {
	names := []string{
		"", "acme_x", "ac me", "acme/x", "acme\t", "café", "\xff", "a;b", "a(b)", "a\x00",
		strings.Repeat("a", 65),
	}
	for _, name := range names {
		app, err := product.NewApp(name, "1.0.0")
		require.Error(t, err, "name %q", name)
		assert.True(t, app.IsZero(), "name %q", name)
		assert.True(t, strings.HasPrefix(err.Error(), "product: "), "error %q", err)
	}

	app, err := product.NewApp(strings.Repeat("a", 64), "1.0.0")
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("a", 64)+"/1.0.0", app.UserAgent())
}

// TestNewAppReplacementCharacter checks the error for U+FFFD, which is
// valid UTF-8 and so must not be reported as an invalid UTF-8 byte.
func TestNewAppReplacementCharacter(t *testing.T) {
	_, err := product.NewApp("acme\uFFFD", "1.0.0")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "invalid UTF-8")

	_, err = product.NewApp("acme\xef", "1.0.0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid UTF-8 byte 0xef")
}

// TestNewAppVersions checks semantic versions at their edges.
func TestNewAppVersionForms(t *testing.T) {
	valid := []string{
		"0.0.0", "1.2.3-rc.1+build.7", "1.0.0-0A.is.legal", "1.0.0+0001", "10.20.30-x-y-z.--",
		"0.0.0-dev+" + strings.Repeat("a", 118),
	}
	for _, version := range valid {
		_, err := product.NewApp("acme", version)
		assert.NoError(t, err, "version %q", version)
	}

	invalid := []string{
		"", "1", "1.0", "01.0.0", "1.0.0-01", "1.0.0-", "1.0.0+", "1.0.0\n", " 1.0.0", "1.0.0-rc..1",
		"0.0.0-dev+" + strings.Repeat("a", 119), "1.0.0/x", "1.0.0 extra",
	}
	for _, version := range invalid {
		_, err := product.NewApp("acme", version)
		assert.Error(t, err, "version %q", version)
	}

	_, err := product.NewApp("acme", "v1.2.3")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"1.2.3"`, "the error should give the version without the leading 'v'")
}

// TestUserAgentRoundTrip parses the User-Agent of products at the
// edges back into the same product.
func TestUserAgentRoundTrip(t *testing.T) {
	long := strings.Repeat("z", 64)
	tests := []struct {
		app, version, feature string
	}{
		{app: "acme", version: "0.1.0", feature: ""},
		{app: "acme", version: "0.1.0", feature: "crew_gen"},
		{app: "acme", version: "0.1.0", feature: "_leading"},
		{app: "acme", version: "0.1.0", feature: "trailing_"},
		{app: "acme", version: "0.1.0", feature: "__"},
		{app: "a.b+c-d", version: "1.2.3-rc.1+build.7", feature: "x.y+z-w_v"},
		{app: "ACME", version: "1.0.0", feature: "Mixed_Case"},
		{app: long, version: "0.0.0-dev+" + strings.Repeat("f", 118), feature: long},
	}
	for _, tt := range tests {
		p, err := mustNewApp(t, tt.app, tt.version).Product(tt.feature)
		require.NoError(t, err)

		parsed, err := product.ParseUserAgent(p.UserAgent())
		require.NoError(t, err, "token %q", p.UserAgent())
		assert.Equal(t, p, parsed)
		assert.Equal(t, tt.feature, parsed.Feature())
		assert.Equal(t, tt.app, parsed.App().Name())
		assert.Equal(t, tt.version, parsed.App().Version())
	}
}

// TestParseUserAgentRejectsOthers checks tokens that no Product formats.
func TestParseUserAgentRejectsOthers(t *testing.T) {
	tokens := []string{
		"", "/", "acme", "acme/", "/1.0.0", "_x/1.0.0", "acme_/1.0.0", "acme/1.0.0/x",
		"acme/1.0.0 databricks-sdk-go/0.100.0", "acme_x y/1.0.0", "acme/v1.0.0", "ácme/1.0.0",
		"acme_" + strings.Repeat("f", 65) + "/1.0.0", " acme/1.0.0", "acme/1.0.0\r\n",
	}
	for _, token := range tokens {
		p, err := product.ParseUserAgent(token)
		assert.Error(t, err, "token %q", token)
		assert.True(t, p.IsZero(), "token %q", token)
	}
}

// TestParseUserAgentErrorBounded checks that the error for a huge
// hostile token stays short.
func TestParseUserAgentErrorBounded(t *testing.T) {
	tokens := []string{
		strings.Repeat("a", 1<<20),
		strings.Repeat("a", 1<<20) + "/1.0.0",
		"acme/" + strings.Repeat("1", 1<<20),
		"acme_" + strings.Repeat("f", 1<<20) + "/1.0.0",
	}
	for _, token := range tokens {
		_, err := product.ParseUserAgent(token)
		require.Error(t, err)
		assert.Less(t, len(err.Error()), 1024, "error for a %d-byte token", len(token))
	}
}

// TestExtrasMerging checks order, duplicates, zero extras and the zero
// Product.
func TestExtrasMerging(t *testing.T) {
	p, err := mustNewApp(t, "acme", "0.1.0").Product("mcp")
	require.NoError(t, err)
	partner, err := product.NewPartner("globex")
	require.NoError(t, err)
	other, err := product.NewPartner("initech")
	require.NoError(t, err)
	build, err := product.NewExtra("build", "1.2.0-rc.1+build.7")
	require.NoError(t, err)

	assert.Equal(t, "acme_mcp/0.1.0 partner/globex build/1.2.0-rc.1+build.7 partner/initech",
		p.UserAgentWithExtras(partner, product.Extra{}, build, other))
	assert.Equal(t, "acme_mcp/0.1.0", p.UserAgentWithExtras())
	assert.Equal(t, "acme_mcp/0.1.0", p.UserAgentWithExtras(product.Extra{}))
	assert.Equal(t, "partner/globex", product.Product{}.UserAgentWithExtras(partner))
	assert.Equal(t, "", product.Product{}.UserAgentWithExtras(product.Extra{}))

	for _, bad := range [][2]string{{"", "x"}, {"x", ""}, {"a/b", "x"}, {"x", "a/b"}, {"x", "a b"}, {"ключ", "x"}} {
		e, err := product.NewExtra(bad[0], bad[1])
		assert.Error(t, err, "extra %q", bad)
		assert.True(t, e.IsZero(), "extra %q", bad)
	}
}

// TestPostgresNameCutInVersion checks step 3 of PostgresApplicationName:
// a cut that falls inside the version's pre-release drops the bytes that
// would leave an invalid version, so the result parses, while a cut inside
// major.minor.patch leaves a name that does not parse.
func TestPostgresNameCutInVersion(t *testing.T) {
	tests := []struct {
		name, version, want string
	}{
		{name: strings.Repeat("a", 58), version: "1.0.0-abcdefgh", want: ""},
		{name: strings.Repeat("a", 56), version: "1.0.0-abcdefgh", want: "1.0.0"},
		{name: strings.Repeat("a", 54), version: "1.0.0-a.bcdefgh", want: "1.0.0-a"},
		{name: strings.Repeat("a", 54), version: "1.0.0-01a.bcdefgh", want: "1.0.0-0"},
	}
	for _, tt := range tests {
		p := mustNewApp(t, tt.name, tt.version).AsProduct()
		got := p.PostgresApplicationName()
		require.LessOrEqual(t, len(got), 63)
		require.Greater(t, len(got), len(tt.name)+1, "the cut should fall inside the version")

		parsed, err := product.ParseUserAgent(got)
		if tt.want == "" {
			assert.Error(t, err, "application name %q", got)
			continue
		}
		if assert.NoError(t, err, "application name %q", got) {
			assert.Equal(t, tt.name, parsed.App().Name())
			assert.Equal(t, tt.want, parsed.App().Version())
		}
	}
}

// TestPostgresNameCutInFeature checks step 2: the result parses to the
// same application and a prefix of the feature.
func TestPostgresNameCutInFeature(t *testing.T) {
	app := mustNewApp(t, "acme", "1.2.3-rc.1+build.77")
	p, err := app.Product(strings.Repeat("f_", 32))
	require.NoError(t, err)

	got := p.PostgresApplicationName()
	assert.LessOrEqual(t, len(got), 63)

	parsed, err := product.ParseUserAgent(got)
	require.NoError(t, err)
	assert.Equal(t, "acme", parsed.App().Name())
	assert.Equal(t, "1.2.3-rc.1", parsed.App().Version())
	assert.True(t, strings.HasPrefix(p.Feature(), parsed.Feature()))
	assert.Equal(t, "", product.Product{}.PostgresApplicationName())
}

// TestContextIsolation stores a different product in each of many
// goroutines' contexts and checks that nil and zero values behave as
// documented.
func TestContextIsolation(t *testing.T) {
	app := mustNewApp(t, "acme", "0.1.0")

	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			feature := strings.Repeat("f", i+1)
			p, err := app.Product(feature)
			if !assert.NoError(t, err) {
				return
			}
			got, ok := product.FromContext(product.NewContext(context.Background(), p))
			assert.True(t, ok)
			assert.Equal(t, feature, got.Feature())
		}()
	}
	wg.Wait()

	//nolint:staticcheck // A nil context is the case under test.
	var nilCtx context.Context
	assert.NotPanics(t, func() {
		_, ok := product.FromContext(nilCtx)
		assert.False(t, ok)

		got, ok := product.FromContext(product.NewContext(nilCtx, app.AsProduct()))
		assert.True(t, ok)
		assert.Equal(t, app.AsProduct(), got)
	})

	outer := product.NewContext(context.Background(), app.AsProduct())
	_, ok := product.FromContext(product.NewContext(outer, product.Product{}))
	assert.False(t, ok, "a zero product should hide the outer one")

	_, err := product.App{}.Product("x")
	assert.Error(t, err)
	assert.True(t, product.App{}.AsProduct().IsZero())
	assert.Equal(t, "", product.App{}.String())
}
