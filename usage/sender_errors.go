package usage

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// PermanentError wraps a [Sink] error that retrying cannot fix, such as a
// rejected credential or a malformed request. A [Sender] counts the events
// of a batch that failed with it as failed and does not retry them. Any other
// error from Send is retried.
type PermanentError struct {
	Err error
}

// Permanent wraps err in a [PermanentError]. It returns nil for a nil err.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// Error returns the message of the wrapped error.
func (e *PermanentError) Error() string {
	if e.Err == nil {
		return "usage: permanent sink error"
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is or wraps a [PermanentError].
func IsPermanent(err error) bool {
	var permanent *PermanentError
	return errors.As(err, &permanent)
}

// PartialError reports that a [Sink] delivered the first Delivered events of
// a batch before Err stopped it. A [Sender] counts those events as sent and
// retries only the rest, so a sink that sends one request per event (the
// beacon) does not repeat the requests that succeeded.
type PartialError struct {
	Delivered int
	Err       error
}

// Error returns a message with the number of delivered events.
func (e *PartialError) Error() string {
	return fmt.Sprintf("usage: sink delivered %d events before failing: %v", e.Delivered, e.Err)
}

// Unwrap returns the error that stopped delivery.
func (e *PartialError) Unwrap() error { return e.Err }

// RetryAfterError wraps a retryable [Sink] error with the wait the server
// requested, such as the Retry-After of a 429 response. A [Sender] waits at
// least After before the next attempt, clamped to its maximum backoff.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

// Error returns a message with the requested wait.
func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

// Unwrap returns the wrapped error.
func (e *RetryAfterError) Unwrap() error { return e.Err }

// redactToken returns err with every occurrence of token in its message
// replaced by "[REDACTED]", so that a sink error quoting the credential,
// such as a request dump, cannot make the Sender log the token. The result
// keeps only the message: it does not wrap err, because a log handler could
// otherwise print the original through Unwrap.
func redactToken(err error, token string) error {
	if err == nil || token == "" {
		return err
	}
	message := err.Error()
	if !strings.Contains(message, token) {
		return err
	}
	return errors.New(strings.ReplaceAll(message, token, "[REDACTED]"))
}
