package product

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseUserAgent(t *testing.T) {
	tests := []struct {
		token   string
		app     string
		feature string
		version string
	}{
		{"acme/0.1.0", "acme", "", "0.1.0"},
		{"acme_mcp/0.1.0", "acme", "mcp", "0.1.0"},
		{"acme_crew_gen/0.1.0", "acme", "crew_gen", "0.1.0"},
		{"acme__lead/0.1.0", "acme", "_lead", "0.1.0"},
		{"acme_a_b_c_/2.0.0-rc.1+sha.5114f85", "acme", "a_b_c_", "2.0.0-rc.1+sha.5114f85"},
		{"Acme.Corp+EU-1_x/1.0.0", "Acme.Corp+EU-1", "x", "1.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			p, err := ParseUserAgent(tt.token)

			require.NoError(t, err)
			assert.Equal(t, tt.app, p.App().Name())
			assert.Equal(t, tt.feature, p.Feature())
			assert.Equal(t, tt.version, p.App().Version())
			assert.Equal(t, tt.token, p.UserAgent())
		})
	}
}

func TestParseUserAgentRejects(t *testing.T) {
	tests := []struct {
		token string
		want  string
	}{
		{"", "missing '/'"},
		{"acme", "missing '/'"},
		{"acme_mcp", "missing '/'"},
		{"/0.1.0", "application name is empty"},
		{"_mcp/0.1.0", "application name is empty"},
		{"acme_/0.1.0", "feature name is empty"},
		{"acme/", "version is empty"},
		{"acme/0.1", "not a semantic version"},
		{"acme/v0.1.0", "drop the leading 'v'"},
		{"acme/0.1.0/extra", `version "0.1.0/extra" is not a semantic version`},
		{"acme_mcp/0.1.0 databricks-sdk-go/0.100.0", "not a semantic version"},
		{"acme mcp/0.1.0", "invalid character ' '"},
		{"acme_crew gen/0.1.0", `feature name "crew gen"`},
		{"acme_crew/gen/0.1.0", "not a semantic version"},
		{" acme/0.1.0", "invalid character ' '"},
		{"acme/0.1.0\r\n", "not a semantic version"},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			p, err := ParseUserAgent(tt.token)

			require.Error(t, err)
			assert.True(t, p.IsZero())
			assert.ErrorContains(t, err, "product: User-Agent token ")
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestParseUserAgentErrorNamesToken(t *testing.T) {
	_, err := ParseUserAgent("acme_mcp/latest")

	assert.EqualError(t, err, `product: User-Agent token "acme_mcp/latest": version "latest" is not a semantic version: `+
		`use MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] such as 0.1.0 or 1.2.0-rc.1`)
}

// identifierChars lists the bytes of a semver pre-release or build
// identifier.
const identifierChars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"

// randomString returns 1 to maxLength bytes drawn from alphabet.
func randomString(r *rand.Rand, alphabet string, maxLength int) string {
	var b strings.Builder
	for range 1 + r.IntN(maxLength) {
		b.WriteByte(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

// randomIdentifiers returns 1 to 3 dot-separated semver identifiers. A
// pre-release identifier is either a number without leading zeros or
// contains a non-digit, while build identifiers may be any of identifierChars.
func randomIdentifiers(r *rand.Rand, preRelease bool) string {
	identifiers := make([]string, 1+r.IntN(3))
	for i := range identifiers {
		switch {
		case !preRelease:
			identifiers[i] = randomString(r, identifierChars, 8)
		case r.IntN(2) == 0:
			identifiers[i] = strconv.Itoa(r.IntN(1000))
		default:
			identifiers[i] = randomString(r, identifierChars, 4) + "x" + randomString(r, identifierChars, 4)
		}
	}
	return strings.Join(identifiers, ".")
}

// randomVersion returns a valid semantic version, with a pre-release and
// build metadata about half of the time each.
func randomVersion(r *rand.Rand) string {
	version := fmt.Sprintf("%d.%d.%d", r.IntN(100), r.IntN(1000), r.IntN(10000))
	if r.IntN(2) == 0 {
		version += "-" + randomIdentifiers(r, true)
	}
	if r.IntN(2) == 0 {
		version += "+" + randomIdentifiers(r, false)
	}
	return version
}

func TestParseUserAgentRoundTripGenerated(t *testing.T) {
	const cases = 20000
	seed := uint64(0x5eed1761)
	r := rand.New(rand.NewPCG(seed, seed))
	features := 0

	for i := range cases {
		app, err := NewApp(randomString(r, nameChars, maxNameLength), randomVersion(r))
		require.NoError(t, err, "case %d, seed %#x", i, seed)

		feature := ""
		if r.IntN(4) != 0 {
			feature = randomString(r, nameChars+"____", maxNameLength)
			features++
		}
		p, err := app.Product(feature)
		require.NoError(t, err, "case %d, seed %#x", i, seed)

		parsed, err := ParseUserAgent(p.UserAgent())
		require.NoError(t, err, "case %d, seed %#x", i, seed)
		require.Equal(t, p, parsed, "case %d, seed %#x, token %q", i, seed, p.UserAgent())
		assertPostgresApplicationName(t, p)
	}
	assert.Greater(t, features, cases/2, "the generator covers features")
}

func TestParseUserAgentHugeTokenShortError(t *testing.T) {
	huge := strings.Repeat("a", 1<<20)
	tokens := map[string]string{
		"name":    huge + "/1.0.0",
		"version": "acme/" + huge,
		"feature": "acme_" + huge + "/1.0.0",
		"slash":   huge,
	}
	for part, token := range tokens {
		_, err := ParseUserAgent(token)

		require.Error(t, err, part)
		assert.Less(t, len(err.Error()), 1024, "%s: the error quotes a bounded prefix of the token", part)
		assert.Contains(t, err.Error(), fmt.Sprintf("(%d bytes)", len(token)), "%s: the error gives the token's length", part)
	}
}
