package httpmeter

import (
	"fmt"
	"net/http"

	"github.com/httpmeter/httpmeter/transport"
)

// New returns the stack UserAgent -> Bearer -> Usage -> base configured by
// cfg. A nil base is resolved to [http.DefaultTransport] on every request, so
// replacing http.DefaultTransport later, as httpmock.Activate does, still
// takes effect.
//
// A layer with nothing to do is left out: the Bearer layer when neither
// cfg.AllowedOrigins nor cfg.BearerOptions is set, and the Usage layer when
// cfg.Recorder is nil.
//
// New returns an error, and no RoundTripper, when cfg.App is the zero value,
// when an entry of cfg.AllowedOrigins is not a "scheme://host[:port]" origin,
// or when cfg.Provider is set without any allowed origin. The returned
// RoundTripper is safe for concurrent use and forwards CloseIdleConnections
// to base.
func New(base http.RoundTripper, cfg Config) (http.RoundTripper, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}

	next := base
	if cfg.Recorder != nil {
		usageOptions := []transport.UsageOption{transport.WithApp(cfg.App), transport.WithLogger(cfg.Logger)}
		next = transport.Usage(next, cfg.Recorder, append(usageOptions, cfg.UsageOptions...)...)
	}

	if len(cfg.AllowedOrigins) > 0 || len(cfg.BearerOptions) > 0 {
		bearer, err := newBearer(next, cfg)
		if err != nil {
			return nil, err
		}
		next = bearer
	}

	userAgentOptions := []transport.UserAgentOption{
		transport.WithMergeRule(cfg.UserAgentMergeRule),
		transport.WithLogger(cfg.Logger),
	}
	return transport.UserAgent(next, cfg.App, append(userAgentOptions, cfg.UserAgentOptions...)...), nil
}

func newBearer(next http.RoundTripper, cfg Config) (*transport.BearerTransport, error) {
	options := []transport.BearerOption{
		transport.AllowOrigins(cfg.AllowedOrigins...),
		transport.WithLogger(cfg.Logger),
	}
	if cfg.Provider != nil {
		options = append(options, transport.WithProvider(cfg.Provider))
	}

	bearer, err := transport.Bearer(next, append(options, cfg.BearerOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("httpmeter: invalid Config.AllowedOrigins or Config.BearerOptions: %w", err)
	}
	return bearer, nil
}
