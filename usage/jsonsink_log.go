package usage

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"

	"github.com/hashicorp/go-retryablehttp"
)

// Compile-time check that the adapter satisfies go-retryablehttp's interface.
var _ retryablehttp.LeveledLogger = retryLogger{}

// retryLogger adapts a *slog.Logger to go-retryablehttp's LeveledLogger. In
// every URL among the values it is given, it removes the query string and
// replaces the user info by "xxxxx". It also replaces every occurrence of
// secrets, the user name and password of the sink's URL, because net/http
// quotes them decoded in errors, where the URL pattern may not find them.
type retryLogger struct {
	logger  *slog.Logger
	secrets []string
}

func (l retryLogger) Error(msg string, keysAndValues ...any) {
	l.log(slog.LevelError, msg, keysAndValues)
}
func (l retryLogger) Warn(msg string, keysAndValues ...any) {
	l.log(slog.LevelWarn, msg, keysAndValues)
}
func (l retryLogger) Info(msg string, keysAndValues ...any) {
	l.log(slog.LevelInfo, msg, keysAndValues)
}
func (l retryLogger) Debug(msg string, keysAndValues ...any) {
	l.log(slog.LevelDebug, msg, keysAndValues)
}

func (l retryLogger) log(level slog.Level, msg string, keysAndValues []any) {
	ctx := context.Background()
	if !l.logger.Enabled(ctx, level) {
		return
	}

	args := make([]any, len(keysAndValues))
	for i, v := range keysAndValues {
		// The secrets go first, before the URL patterns cut a URL short at
		// an unescaped '?' or '/' in its user info.
		switch value := v.(type) {
		case string:
			v = replaceSecrets(value, l.secrets)
		case error:
			v = replaceSecrets(value.Error(), l.secrets)
		case fmt.Stringer:
			if _, isURL := v.(*url.URL); !isURL {
				v = replaceSecrets(value.String(), l.secrets)
			}
		}
		args[i] = redactLogValue(v)

		// A *url.URL becomes text only in redactLogValue, and its host may
		// be a user name that an unescaped character cut short.
		if text, ok := args[i].(string); ok {
			args[i] = replaceSecrets(text, l.secrets)
		}
	}
	l.logger.Log(ctx, level, "go-retryablehttp: "+msg, args...)
}

var (
	// queryPattern matches the query string of a URL inside a message, up to
	// the next space or quote.
	queryPattern = regexp.MustCompile(`\?[^\s"']*`)

	// bearerPattern matches a bearer token inside a message.
	bearerPattern = regexp.MustCompile(`(?i)bearer\s+[^\s"']+`)

	// userInfoPattern matches the scheme and user info of a URL inside a
	// message, such as the URL that net/http quotes in a *url.Error or that
	// go-retryablehttp v0.7.8 logs with only its password masked. The user info
	// ends at the last '@' before the first '/', '?', '#', double quote or space.
	userInfoPattern = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s"]*@`)
)

// redactLogValue returns v for a log record. In URLs, errors and strings, it
// removes query strings, replaces user info by "xxxxx" and masks bearer
// tokens. Other values are returned as they are.
func redactLogValue(v any) any {
	switch value := v.(type) {
	case *url.URL:
		if value == nil {
			return v
		}
		return redactURL(value)
	case url.URL:
		return redactURL(&value)
	case string:
		return redactLogText(value)
	case error:
		return redactLogText(value.Error())
	case fmt.Stringer:
		return redactLogText(value.String())
	default:
		return v
	}
}

func redactLogText(s string) string {
	s = userInfoPattern.ReplaceAllString(s, "${1}"+redactedUserInfo+"@")
	s = queryPattern.ReplaceAllString(s, "")
	return bearerPattern.ReplaceAllString(s, "Bearer REDACTED")
}

// replaceSecrets returns text with every occurrence of each secret replaced
// by "xxxxx".
func replaceSecrets(text string, secrets []string) string {
	for _, secret := range secrets {
		text = strings.ReplaceAll(text, secret, redactedUserInfo)
	}
	return text
}
