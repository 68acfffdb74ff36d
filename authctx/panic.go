package authctx

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
)

// recoverSharedWork turns a panic in work whose result callers share, such as
// a token lookup, into *err. Such work runs in a singleflight goroutine, and
// singleflight re-panics there, where no recover can reach it, so one bug in
// a lookup or an HTTP transport would otherwise end the whole process. The
// panic value goes into the error, with each non-empty secret replaced by
// "REDACTED", and the stack into an error log line. Call it deferred:
// defer recoverSharedWork(ctx, logger, "...", &err, secrets...).
func recoverSharedWork(ctx context.Context, logger *slog.Logger, work string, err *error, secrets ...string) {
	recovered := recover()
	if recovered == nil {
		return
	}

	message := fmt.Sprint(recovered)
	for _, secret := range secrets {
		if secret != "" {
			message = strings.ReplaceAll(message, secret, "REDACTED")
		}
	}
	*err = fmt.Errorf("authctx: %s panicked: %s", work, message)
	if logger != nil {
		logger.LogAttrs(ctx, slog.LevelError, "authctx: "+work+" panicked",
			slogError(*err), slog.String("stack", string(debug.Stack())))
	}
}
