package usage

import (
	"context"
	"log/slog"
)

var _ Sink = (*SlogSink)(nil)

// SlogSink writes one log record per event to a *slog.Logger. The record
// names the credential by subject and workspace, never by token, and carries
// no body content. Events whose Source is SourceMissing are logged too, with
// source=missing and zero counts. A SlogSink is safe for concurrent use when
// its logger's handler is, as the handlers of log/slog are.
type SlogSink struct {
	logger  *slog.Logger
	level   slog.Level
	message string
}

// SlogOption changes one setting of a [SlogSink].
type SlogOption func(*SlogSink)

// WithSlogLevel sets the level of the records. The default is slog.LevelInfo.
func WithSlogLevel(level slog.Level) SlogOption {
	return func(s *SlogSink) { s.level = level }
}

// WithSlogMessage sets the message of the records. The default is
// "usage event".
func WithSlogMessage(message string) SlogOption {
	return func(s *SlogSink) {
		if message != "" {
			s.message = message
		}
	}
}

// NewSlogSink returns a sink that logs to logger. A nil logger discards every
// record.
func NewSlogSink(logger *slog.Logger, opts ...SlogOption) *SlogSink {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &SlogSink{logger: logger, level: slog.LevelInfo, message: "usage event"}
	for _, opt := range opts {
		if opt != nil {
			opt(s)
		}
	}
	return s
}

// Send logs each event and always returns nil.
func (s *SlogSink) Send(ctx context.Context, events []Event) error {
	if !s.logger.Enabled(ctx, s.level) {
		return nil
	}
	for i := range events {
		s.logger.LogAttrs(ctx, s.level, s.message, eventAttrs(&events[i])...)
	}
	return nil
}

// eventAttrs returns the attributes of one event record.
func eventAttrs(e *Event) []slog.Attr {
	attrs := []slog.Attr{
		slog.String("id", e.ID),
		slog.Time("time", e.Time),
		slog.String("product", e.Product.UserAgent()),
		slog.String("subject", e.Credential.Subject),
		slog.String("workspace", e.Credential.Host),
		slog.String("credential_method", string(e.Credential.Method)),
		slog.String("method", e.Method),
		slog.String("host", e.Host),
		slog.String("path", e.Path),
		slog.Int("status", e.Status),
		slog.Duration("duration", e.Duration),
		slog.String("provider", e.Provider),
		slog.String("model", e.Model),
		slog.String("source", string(e.Source)),
		slog.Bool("complete", e.Complete),
		slog.Int("count", e.Count),
		slog.Group("usage",
			slog.Int64("input_tokens", e.Usage.InputTokens),
			slog.Int64("output_tokens", e.Usage.OutputTokens),
			slog.Int64("total_tokens", e.Usage.TotalTokens),
			slog.Int64("cached_input_tokens", e.Usage.CachedInputTokens),
			slog.Int64("cache_creation_input_tokens", e.Usage.CacheCreationInputTokens),
			slog.Int64("reasoning_tokens", e.Usage.ReasoningTokens),
		),
	}
	if len(e.Warnings) > 0 {
		attrs = append(attrs, slog.Any("warnings", e.Warnings))
	}
	return attrs
}
