package authctx

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Method is the mechanism that produced a credential, such as an on-behalf-of
// token forwarded for the signed-in user or OAuth client credentials.
type Method string

// The methods a credential can come from.
const (
	MethodOnBehalfOf Method = "on-behalf-of" // the signed-in user's forwarded token
	MethodPAT        Method = "pat"          // a stored personal access token
	MethodOAuthM2M   Method = "oauth-m2m"    // OAuth machine-to-machine client credentials
	MethodEnv        Method = "env"          // DATABRICKS_TOKEN from the environment
	MethodStatic     Method = "static"       // a token fixed by the caller
)

// Credential is a bearer token with the identity it belongs to. Its String,
// GoString, Format, LogValue and MarshalJSON forms never contain the token,
// so a Credential can be logged or printed safely. Treat a Credential as
// immutable once it is stored in a context.
//
// NOTE: fmt cannot call methods on an unexported struct field, so printing a
// struct that holds a Credential in an unexported field with %v shows the
// token. Keep credentials in exported fields, or give the holder its own
// String method. The %p verb on a Credential value (not a pointer) also shows
// the token. In Go 1.26, fmt handles %p before it calls Format and prints
// the fields of a value that is not a pointer, and go vet does not report it.
type Credential struct {
	// Token is the bearer token sent in the Authorization header.
	Token string

	// Method is the mechanism that produced the token.
	Method Method

	// Subject is the user or service principal the token acts for, such as
	// an e-mail address or an application id.
	Subject string

	// Host is the URL of the workspace the token belongs to, such as
	// "https://adb-123.azuredatabricks.net", in the form of the Databricks
	// SDK's Config.Host.
	Host string

	// Expiry is when the token stops being valid. The zero time means
	// unknown or never.
	Expiry time.Time
}

// IsZero reports whether c carries no token.
func (c Credential) IsZero() bool { return c.Token == "" }

// Expired reports whether c has a known expiry at or before now.
func (c Credential) Expired(now time.Time) bool {
	return !c.Expiry.IsZero() && !now.Before(c.Expiry)
}

// redacted is the form of a credential that is safe to print: everything but
// the token, and whether a token is present.
type redacted struct {
	Method   Method    `json:"method,omitempty"`
	Subject  string    `json:"subject,omitempty"`
	Host     string    `json:"host,omitempty"`
	Expiry   time.Time `json:"expiry,omitzero"`
	HasToken bool      `json:"has_token"`
}

func (c Credential) redacted() redacted {
	return redacted{Method: c.Method, Subject: c.Subject, Host: c.Host, Expiry: c.Expiry, HasToken: c.Token != ""}
}

// String returns a description of c without the token.
func (c Credential) String() string {
	token := "none"
	if c.Token != "" {
		token = "REDACTED"
	}
	s := fmt.Sprintf("authctx.Credential{Method: %q, Subject: %q, Host: %q, Token: %s", c.Method, c.Subject, c.Host, token)
	if !c.Expiry.IsZero() {
		s += ", Expiry: " + c.Expiry.UTC().Format(time.RFC3339)
	}
	return s + "}"
}

// GoString returns the same value as String, so %#v never shows the token.
func (c Credential) GoString() string { return c.String() }

// Format implements fmt.Formatter so that every verb it receives prints the
// redacted form. fmt never passes it %T, or %p for a value. %v, %+v, %s and
// %q honour width and flags as they do for a string,
// %#v prints GoString, and any other verb prints fmt's bad-verb form, such as
// "%!d(authctx.Credential=...)", around the redacted form.
func (c Credential) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, c.GoString())
	case verb == 'v' || verb == 's' || verb == 'q':
		fmt.Fprintf(f, fmt.FormatString(f, verb), c.String())
	default:
		fmt.Fprintf(f, "%%!%c(authctx.Credential=%s)", verb, c.String())
	}
}

// LogValue implements slog.LogValuer with the token left out.
func (c Credential) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("method", string(c.Method)),
		slog.String("subject", c.Subject),
		slog.String("host", c.Host),
		slog.Bool("has_token", c.Token != ""),
	}
	if !c.Expiry.IsZero() {
		attrs = append(attrs, slog.Time("expiry", c.Expiry))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON encodes c without the token.
func (c Credential) MarshalJSON() ([]byte, error) {
	return json.Marshal(c.redacted())
}
