package eventstream

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

const (
	preludeLen    = 12
	trailerLen    = 4
	minMessageLen = preludeLen + trailerLen

	// MaxHeadersLen is the largest headers section a Decoder accepts: 128 KiB,
	// the limit that the Amazon Event Stream Specification sets on encoded
	// headers. Bedrock's take 82 to 87 bytes. A Decoder never buffers more
	// than this many bytes of a message.
	MaxHeadersLen = 128 << 10
)

// state is the part of a message that the next byte belongs to.
type state uint8

const (
	statePrelude state = iota
	stateHeaders
	statePayload
	stateTrailer
)

// Decoder decodes an AWS event-stream body incrementally and reports each
// message to its Handler. It validates both CRCs of every message and stops
// at the first error, which Write and Close then return.
//
// A Decoder does not retain the slices passed to Write. It is not safe for
// concurrent use. Its zero value is not usable: create one with NewDecoder.
type Decoder struct {
	handler Handler

	state  state
	filled int // bytes of prelude or trailer collected so far

	prelude [preludeLen]byte
	trailer [trailerLen]byte
	headers []byte // reused across messages; capacity at most MaxHeadersLen

	totalLen     uint32
	headersLen   int
	payloadLeft  uint32
	crc          uint32 // running message CRC
	inMessage    bool   // MessageStart was called and MessageEnd was not
	messageStart int64  // body offset of the current message
	offset       int64  // body bytes consumed

	err    error
	closed bool
}

// NewDecoder returns a Decoder that reports messages to h, which must not be
// nil.
func NewDecoder(h Handler) *Decoder {
	return &Decoder{handler: h}
}

// Write decodes the next bytes of the body. It returns len(p), nil unless p
// completes an invalid message, in which case it returns the bytes consumed
// up to the end of the bad part and the error. After an error or Close, Write
// consumes nothing and returns the error.
func (d *Decoder) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.closed {
		return 0, ErrClosed
	}

	n := 0
	for n < len(p) && d.err == nil {
		var k int
		switch d.state {
		case statePrelude:
			k = d.writePrelude(p[n:])
		case stateHeaders:
			k = d.writeHeaders(p[n:])
		case statePayload:
			k = d.writePayload(p[n:])
		case stateTrailer:
			k = d.writeTrailer(p[n:])
		}
		n += k
		d.offset += int64(k)
	}

	return n, d.err
}

// Close ends the body. It returns nil when the body ended between messages,
// and otherwise an error wrapping ErrTruncated, after reporting that error to
// Handler.MessageEnd if the message had started. After a decoding error it
// returns that error. Calling Close again returns the same result.
func (d *Decoder) Close() error {
	if d.closed {
		return d.err
	}
	d.closed = true

	if d.err != nil {
		return d.err
	}
	if d.state == statePrelude && d.filled == 0 {
		return nil
	}

	read := d.offset - d.messageStart
	if d.state == statePrelude {
		d.err = fmt.Errorf("%w: the body ended %d bytes into the 12-byte prelude of the message at offset %d",
			ErrTruncated, read, d.messageStart)
	} else {
		d.err = fmt.Errorf("%w: the body ended %d bytes into the %d-byte message at offset %d",
			ErrTruncated, read, d.totalLen, d.messageStart)
	}
	if d.inMessage {
		d.inMessage = false
		d.handler.MessageEnd(d.err)
	}

	return d.err
}

// Err returns the error that stopped decoding, or nil.
func (d *Decoder) Err() error {
	return d.err
}

func (d *Decoder) writePrelude(p []byte) int {
	k := copy(d.prelude[d.filled:], p)
	d.filled += k
	if d.filled == preludeLen {
		d.filled = 0
		d.startMessage()
	}
	return k
}

// startMessage validates the complete prelude and prepares for the headers.
func (d *Decoder) startMessage() {
	total := binary.BigEndian.Uint32(d.prelude[0:4])
	headersLen := binary.BigEndian.Uint32(d.prelude[4:8])
	declared := binary.BigEndian.Uint32(d.prelude[8:12])

	if computed := crc32.ChecksumIEEE(d.prelude[:8]); computed != declared {
		d.err = fmt.Errorf("%w: the prelude of the message at offset %d declares CRC32 0x%08x but its lengths hash to 0x%08x, so the body is corrupt or not an AWS event stream",
			ErrChecksum, d.messageStart, declared, computed)
		return
	}
	if total < minMessageLen {
		d.err = fmt.Errorf("%w: the message at offset %d declares a total length of %d bytes, below the 16-byte minimum",
			ErrLength, d.messageStart, total)
		return
	}
	if headersLen > total-minMessageLen {
		d.err = fmt.Errorf("%w: the message at offset %d declares %d bytes of headers, more than its total length %d minus 16",
			ErrLength, d.messageStart, headersLen, total)
		return
	}
	if headersLen > MaxHeadersLen {
		d.err = fmt.Errorf("%w: the message at offset %d declares %d bytes of headers, above the %d-byte limit",
			ErrLength, d.messageStart, headersLen, MaxHeadersLen)
		return
	}

	d.totalLen = total
	d.headersLen = int(headersLen)
	d.payloadLeft = total - minMessageLen - headersLen
	d.crc = crc32.Update(0, crc32.IEEETable, d.prelude[:])

	if cap(d.headers) < d.headersLen {
		d.headers = make([]byte, 0, d.headersLen)
	}
	d.headers = d.headers[:0]

	d.state = stateHeaders
	if d.headersLen == 0 {
		d.finishHeaders()
	}
}

func (d *Decoder) writeHeaders(p []byte) int {
	k := min(len(p), d.headersLen-len(d.headers))
	d.headers = append(d.headers, p[:k]...)
	d.crc = crc32.Update(d.crc, crc32.IEEETable, p[:k])
	if len(d.headers) == d.headersLen {
		d.finishHeaders()
	}
	return k
}

// finishHeaders parses the complete headers section and starts the payload.
func (d *Decoder) finishHeaders() {
	h, err := parseHeaders(d.headers)
	if err != nil {
		d.err = fmt.Errorf("%w (message at offset %d)", err, d.messageStart)
		return
	}

	d.state = statePayload
	if d.payloadLeft == 0 {
		d.state = stateTrailer
	}
	d.inMessage = true
	d.handler.MessageStart(h)
}

func (d *Decoder) writePayload(p []byte) int {
	k := len(p)
	if uint64(k) > uint64(d.payloadLeft) {
		k = int(d.payloadLeft)
	}
	chunk := p[:k]

	d.crc = crc32.Update(d.crc, crc32.IEEETable, chunk)
	d.payloadLeft -= uint32(k)
	if d.payloadLeft == 0 {
		d.state = stateTrailer
	}
	d.handler.Payload(chunk)

	return k
}

func (d *Decoder) writeTrailer(p []byte) int {
	k := copy(d.trailer[d.filled:], p)
	d.filled += k
	if d.filled < trailerLen {
		return k
	}
	d.filled = 0

	var err error
	if declared := binary.BigEndian.Uint32(d.trailer[:]); declared != d.crc {
		err = fmt.Errorf("%w: the message at offset %d declares CRC32 0x%08x but its bytes hash to 0x%08x, so the body is corrupt",
			ErrChecksum, d.messageStart, declared, d.crc)
	}

	d.state = statePrelude
	d.messageStart = d.offset + int64(k)
	d.inMessage = false
	d.err = err
	d.handler.MessageEnd(err)

	return k
}
