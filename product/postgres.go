package product

import "strings"

// maxPostgresApplicationName is NAMEDATALEN-1 for the default NAMEDATALEN of
// 64. The PostgreSQL documentation of application_name allows fewer than
// NAMEDATALEN characters, and it replaces bytes that are not printable ASCII
// with '?' (PostgreSQL 15 and earlier) or hex escapes (16 and later).
const maxPostgresApplicationName = 63

// PostgresApplicationName returns p's User-Agent product token shortened to
// fit the Postgres application_name parameter: at most 63 bytes of printable
// ASCII. Product tokens contain only [0-9A-Za-z_.+-/], so only the length
// needs care. A token that is too long is shortened in these steps, stopping
// at the first that fits:
//
//  1. The version's build metadata ("+..." at its end) is dropped, which
//     keeps the version's semver precedence.
//  2. The feature is cut to the bytes that fit, keeping at least one. The
//     result still parses with [ParseUserAgent], to the same application,
//     the version without build metadata and a prefix of the feature.
//  3. When not even one byte of the feature fits, the token from step 1 is
//     cut to 63 bytes. When the cut falls inside the version, the bytes at
//     the end that leave an invalid version are dropped too: a trailing '.'
//     or '-', or a numeric identifier with a leading zero. The result then
//     parses to a different, shorter version, so "acme/1.0.0-" followed by
//     60 letters comes back as "acme/1.0.0-" followed by 52. The result does
//     not parse when the cut falls before the '/', or inside the version's
//     major.minor.patch where no shorter prefix is a version.
//
// Two features that share a long prefix can therefore share a name. It
// returns "" for the zero Product.
//
// The result contains no space, quote or backslash, so it needs no quoting
// in a libpq key=value connection string. In a postgres:// URL, escape it
// with [net/url.QueryEscape], because [net/url.ParseQuery] decodes '+' as a
// space.
func (p Product) PostgresApplicationName() string {
	token := p.UserAgent()
	if len(token) <= maxPostgresApplicationName {
		return token
	}

	version, _, _ := strings.Cut(p.app.version, "+")
	short := Product{app: App{name: p.app.name, version: version}, feature: p.feature}
	token = short.UserAgent()
	if len(token) <= maxPostgresApplicationName {
		return token
	}

	// The feature gets the bytes that "<app>_" and "/<version>" leave free.
	room := maxPostgresApplicationName - len(p.app.name) - len("_") - len("/") - len(version)
	if p.feature != "" && room >= 1 {
		short.feature = p.feature[:room]
		return short.UserAgent()
	}
	return cutToken(token, maxPostgresApplicationName)
}

// cutToken returns the first n bytes of token, without the bytes at the end
// that would leave an invalid version after the '/'. It returns the n bytes
// as they are when no shorter prefix parses.
func cutToken(token string, n int) string {
	cut := token[:n]
	slash := strings.IndexByte(cut, '/')
	if slash < 0 {
		return cut
	}
	for end := len(cut); end > slash+1; end-- {
		if _, err := ParseUserAgent(cut[:end]); err == nil {
			return cut[:end]
		}
	}
	return cut
}
