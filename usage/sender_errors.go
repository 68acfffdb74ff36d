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
	if e == nil || e.Err == nil {
		return "usage: permanent sink error"
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error, or nil for a nil *PermanentError.
func (e *PermanentError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

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
	if e == nil {
		return "usage: sink delivered part of a batch"
	}
	return fmt.Sprintf("usage: sink delivered %d events before failing: %v", e.Delivered, e.Err)
}

// Unwrap returns the error that stopped delivery, or nil for a nil
// *PartialError.
func (e *PartialError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// RetryAfterError wraps a retryable [Sink] error with the wait the server
// requested, such as the Retry-After of a 429 response. A [Sender] waits at
// least After before the next attempt, clamped to its maximum backoff.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

// Error returns a message with the requested wait.
func (e *RetryAfterError) Error() string {
	if e == nil {
		return "usage: sink asked to retry later"
	}
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

// Unwrap returns the wrapped error, or nil for a nil *RetryAfterError.
func (e *RetryAfterError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// sinkResult is the outcome of one call of Sink.Send as the worker uses it.
// It is built on the goroutine that called Send, where a panic in the
// methods of the sink's error is recovered too, so the worker never calls a
// method of that error itself.
type sinkResult struct {
	// err is nil when the sink accepted the batch. Otherwise it holds only
	// the message of the sink's error, with the batch's token replaced by
	// "[REDACTED]", so that logging it can show no token: neither through
	// the message nor through Unwrap, LogValue or MarshalJSON.
	err error

	permanent  bool
	delivered  int
	retryAfter time.Duration
}

// classifySinkError returns the sinkResult of err, the error of a Send whose
// batch carries token.
func classifySinkError(err error, token string) sinkResult {
	if err == nil {
		return sinkResult{}
	}

	result := sinkResult{
		err:       redactedError(err.Error(), token),
		permanent: IsPermanent(err),
	}
	if partial, ok := errors.AsType[*PartialError](err); ok && partial != nil {
		result.delivered = max(partial.Delivered, 0)
	}
	if retryAfter, ok := errors.AsType[*RetryAfterError](err); ok && retryAfter != nil {
		result.retryAfter = max(retryAfter.After, 0)
	}
	return result
}

// permanentResult returns a failed, permanent sinkResult with message.
func permanentResult(message, token string) sinkResult {
	return sinkResult{err: redactedError(message, token), permanent: true}
}

// redactedError returns an error with message, in which every occurrence of
// token is replaced by "[REDACTED]".
func redactedError(message, token string) error {
	if token != "" {
		message = strings.ReplaceAll(message, token, "[REDACTED]")
	}
	return errors.New(message)
}
