package eventstream

// Handler receives the messages that a [Decoder] decodes, in body order, on
// the goroutine that calls Decoder.Write or Decoder.Close.
//
// For each message the Decoder calls MessageStart once, then Payload zero or
// more times, then MessageEnd once. MessageEnd is called by Write when the
// message CRC arrives, or by Close when the body ended inside the message.
// Payload bytes are delivered before the message CRC has been checked, so a
// handler keeps what it derives from a message provisional until MessageEnd
// reports nil.
type Handler interface {
	// MessageStart reports the headers of a message whose prelude CRC was
	// valid. The slices in h are valid only during the call.
	MessageStart(h Headers)

	// Payload reports the next bytes of the current message's payload. p is
	// valid only during the call and must not be modified.
	Payload(p []byte)

	// MessageEnd reports the end of the current message: nil when its
	// message CRC matched, else an error wrapping ErrChecksum or
	// ErrTruncated. The Decoder decodes nothing after a non-nil MessageEnd.
	MessageEnd(err error)
}
