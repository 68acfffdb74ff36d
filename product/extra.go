package product

import (
	"fmt"
	"strings"
)

// partnerKey is the key that databricks-sdk-go v0.100.0 uses in
// useragent.WithPartner for the partner that built an integration.
const partnerKey = "partner"

// Extra is one "key/value" pair in the form that the Databricks SDK appends
// to its User-Agent, such as "partner/acme". [NewExtra] validates both parts,
// so every non-zero Extra formats as a valid pair. An Extra is an immutable,
// comparable value and is safe for concurrent use. The zero Extra formats
// as "" and [Product.UserAgentWithExtras] leaves it out.
type Extra struct {
	key   string
	value string
}

// NewExtra validates key and value and returns the pair. Both are 1 to 64
// bytes of letters, digits and _ . + -, the characters that databricks-sdk-go
// v0.100.0 accepts for keys and values (it panics on others, where NewExtra
// returns an error that names the invalid value). Values that are semantic
// versions, such as "1.2.0-rc.1+build.7", fit these characters.
func NewExtra(key, value string) (Extra, error) {
	if err := validateName("extra key", key, true); err != nil {
		return Extra{}, fmt.Errorf("product: %w", err)
	}
	if err := validateName(fmt.Sprintf("extra %q value", key), value, true); err != nil {
		return Extra{}, fmt.Errorf("product: %w", err)
	}
	return Extra{key: key, value: value}, nil
}

// NewPartner returns the extra "partner/<name>", which names the partner
// that built the application, as useragent.WithPartner in the Databricks SDK
// does.
func NewPartner(name string) (Extra, error) {
	return NewExtra(partnerKey, name)
}

// Key returns the key, or "" for the zero Extra.
func (e Extra) Key() string { return e.key }

// Value returns the value, or "" for the zero Extra.
func (e Extra) Value() string { return e.value }

// IsZero reports whether e is the zero Extra.
func (e Extra) IsZero() bool { return e.key == "" }

// String returns "key/value", or "" for the zero Extra.
func (e Extra) String() string {
	if e.IsZero() {
		return ""
	}
	return e.key + "/" + e.value
}

// UserAgentWithExtras returns p's User-Agent product token followed by each
// extra as "key/value", separated by single spaces, for example
// "acme_mcp/0.1.0 partner/globex". Extras keep the order given, a key given
// twice appears twice (as in the Databricks SDK), and zero extras are left
// out. For the zero Product the result holds only the extras.
//
// The extras are formatted here rather than stored in Product, so that
// Product stays comparable and [ParseUserAgent] keeps round-tripping it.
func (p Product) UserAgentWithExtras(extras ...Extra) string {
	var b strings.Builder
	b.WriteString(p.UserAgent())

	for _, e := range extras {
		if e.IsZero() {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e.String())
	}
	return b.String()
}
