package product

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzParseUserAgent checks that ParseUserAgent never panics and accepts
// exactly the tokens that Product.UserAgent formats.
func FuzzParseUserAgent(f *testing.F) {
	for _, token := range []string{
		"acme/0.1.0",
		"acme_crew_gen/0.1.0",
		"acme__/1.0.0-rc.1+build.7",
		"acme_/0.1.0",
		"_acme/0.1.0",
		"acme/v0.1.0",
		"acme/0.1.0/x",
		"acme_mcp/0.1.0 databricks-sdk-go/0.100.0",
		"acmé/0.1.0",
		"acme\xff/0.1.0",
		"",
	} {
		f.Add(token)
	}

	f.Fuzz(func(t *testing.T, token string) {
		p, err := ParseUserAgent(token)
		if err != nil {
			assert.True(t, p.IsZero(), "a failed parse returns the zero Product")
			assert.Contains(t, err.Error(), "product: User-Agent token ")
			return
		}

		require.False(t, p.IsZero())
		assert.Equal(t, token, p.UserAgent())

		again, err := NewApp(p.App().Name(), p.App().Version())
		require.NoError(t, err, "the parsed application passes NewApp")
		assert.Equal(t, p.App(), again)
		assertPostgresApplicationName(t, p)
	})
}

// FuzzProductRoundTrip checks that every product NewApp and App.Product
// accept parses back from its User-Agent to an equal Product.
func FuzzProductRoundTrip(f *testing.F) {
	f.Add("acme", "0.1.0", "crew_gen")
	f.Add("acme", "1.0.0-rc.1+build.7", "")
	f.Add("a", "0.0.0", "_")
	f.Add("acme_crew", "0.1.0", "gen")
	f.Add("acme", "0.1.0", "crew gen")

	f.Fuzz(func(t *testing.T, name, version, feature string) {
		app, err := NewApp(name, version)
		if err != nil {
			assert.True(t, app.IsZero())
			return
		}
		p, err := app.Product(feature)
		if err != nil {
			assert.True(t, p.IsZero())
			return
		}

		parsed, err := ParseUserAgent(p.UserAgent())
		require.NoError(t, err)
		assert.Equal(t, p, parsed)
		assertPostgresApplicationName(t, p)
	})
}
