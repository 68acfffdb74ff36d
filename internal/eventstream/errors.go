package eventstream

import "errors"

// Errors that a [Decoder] returns wrap one of these, so callers can tell the
// kind of failure with errors.Is. The wrapped error names the value that was
// wrong and the offset of the message in the body.
var (
	// ErrChecksum means a prelude or message CRC32 did not match the bytes
	// it covers: the body is corrupt or is not an AWS event stream.
	ErrChecksum = errors.New("eventstream: CRC32 mismatch")

	// ErrLength means a prelude declared lengths that cannot describe a
	// message, or a headers section larger than MaxHeadersLen.
	ErrLength = errors.New("eventstream: invalid message length")

	// ErrHeader means the headers section could not be parsed.
	ErrHeader = errors.New("eventstream: invalid header")

	// ErrTruncated means the body ended inside a message.
	ErrTruncated = errors.New("eventstream: body ended inside a message")

	// ErrClosed means Write was called after Close.
	ErrClosed = errors.New("eventstream: write after Close")
)
