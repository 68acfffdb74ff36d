package transport

import (
	"log/slog"
	"time"
)

// UserAgentOption configures a [UserAgentTransport].
type UserAgentOption interface {
	applyUserAgent(*userAgentConfig)
}

// BearerOption configures a [BearerTransport].
type BearerOption interface {
	applyBearer(*bearerConfig)
}

// UsageOption configures a [UsageTransport].
type UsageOption interface {
	applyUsage(*usageConfig)
}

// LoggerOption sets the logger of any layer. It is a UserAgentOption, a
// BearerOption and a UsageOption.
type LoggerOption struct {
	logger *slog.Logger
}

// WithLogger returns an option that makes a layer log at debug level why
// it passed a request or response on unchanged, such as an origin that is
// not allowed. Logs never contain a token or a body. A nil logger, the
// default, discards everything.
func WithLogger(logger *slog.Logger) LoggerOption {
	return LoggerOption{logger: logger}
}

func (o LoggerOption) applyUserAgent(c *userAgentConfig) { c.logger = o.logger }
func (o LoggerOption) applyBearer(c *bearerConfig)       { c.logger = o.logger }
func (o LoggerOption) applyUsage(c *usageConfig)         { c.logger = o.logger }

// ClockOption sets the clock of a [UsageTransport].
type ClockOption struct {
	now func() time.Time
}

// WithClock returns an option that makes a UsageTransport read the time from
// now instead of time.Now, for the Time and Duration of its events. Tests
// use it to get fixed values. A nil now keeps time.Now.
func WithClock(now func() time.Time) ClockOption {
	return ClockOption{now: now}
}

func (o ClockOption) applyUsage(c *usageConfig) {
	if o.now != nil {
		c.now = o.now
	}
}

// discardLogger returns logger, or a logger that discards every record when
// logger is nil.
func discardLogger(logger *slog.Logger) *slog.Logger {
	if logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return logger
}
