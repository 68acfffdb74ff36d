package httpmeter

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/transport"
	"github.com/httpmeter/httpmeter/usage"
)

// Config configures the stack that [New] builds. Only App is required. New
// copies what it needs, so changing a Config after New returns does not
// affect the stack.
type Config struct {
	// App is the application on whose behalf requests are made. A request
	// without a product in its context carries the App's own
	// "<app>/<version>" User-Agent token. Create it with product.NewApp.
	App product.App

	// AllowedOrigins lists the "scheme://host[:port]" origins that may
	// receive a bearer token, such as "https://adb-123.azuredatabricks.net".
	// A request to any other origin is sent without one. An empty list
	// leaves the Bearer layer out, so the stack authenticates no request.
	AllowedOrigins []string

	// Provider resolves a credential for a request whose context carries
	// none. Nil means such a request to an allowed origin fails with an
	// error instead of being sent without a token.
	Provider authctx.Provider

	// Recorder receives one usage event per metered response. An event
	// whose request context has no product carries the App itself. Use a
	// usage.Sender in production, so that events are delivered off the
	// request path. Nil turns metering off: the stack then has no Usage
	// layer and reads no response body.
	Recorder usage.Recorder

	// Logger receives the stack's debug records and the errors it handles
	// without returning them. Records never contain a token or a body. Nil
	// discards everything.
	Logger *slog.Logger

	// UserAgentMergeRule sets how the product token joins a User-Agent the
	// request already has. The zero value, transport.MergeAppend, keeps the
	// existing value, such as the Databricks SDK's, and appends the token.
	UserAgentMergeRule transport.MergeRule

	// UserAgentOptions, BearerOptions and UsageOptions are passed to the
	// layer of the same name after the options that the fields above
	// produce, so they can override them. With several workspaces in
	// AllowedOrigins, BearerOptions can hold transport.MatchCredentialHost()
	// so that each token only goes to its own workspace.
	UserAgentOptions []transport.UserAgentOption
	BearerOptions    []transport.BearerOption
	UsageOptions     []transport.UsageOption
}

// validate checks the parts of c that New does not hand to a layer to check.
func (c Config) validate() error {
	if c.App.IsZero() {
		return errors.New(`httpmeter: Config.App is the zero value: set it to the result of product.NewApp, such as product.NewApp("acme", "0.1.0")`)
	}
	// The provider is named by its type, because calling a method of a
	// typed nil provider could panic.
	if c.Provider != nil && len(c.AllowedOrigins) == 0 && len(c.BearerOptions) == 0 {
		return fmt.Errorf("httpmeter: Config.Provider (%T) is set but Config.AllowedOrigins is empty, so no request could receive its token: list the origins that may, such as https://adb-123.azuredatabricks.net", c.Provider)
	}

	// The transport layer checks each origin's form. User information is
	// rejected here first, so that no error repeats a password.
	for i, raw := range c.AllowedOrigins {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err == nil && u.User != nil {
			return fmt.Errorf("httpmeter: Config.AllowedOrigins[%d] %q contains user information: use scheme://host[:port] only", i, u.Redacted())
		}
	}
	return nil
}
