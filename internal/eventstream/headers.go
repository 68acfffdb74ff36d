package eventstream

import (
	"encoding/binary"
	"fmt"
)

// Header value types of the AWS event-stream encoding.
const (
	typeBoolTrue  = 0
	typeBoolFalse = 1
	typeByte      = 2
	typeShort     = 3
	typeInteger   = 4
	typeLong      = 5
	typeByteArray = 6
	typeString    = 7
	typeTimestamp = 8
	typeUUID      = 9
)

// Headers is the set of string headers of one message that describe its
// kind and payload. A header that the message lacks is nil. Headers of other
// names or value types are validated and skipped. A repeated name keeps its
// last value.
//
// The slices alias the Decoder's buffer and are valid only until
// Handler.MessageStart returns, so a handler copies what it keeps. Comparing
// with string(h.EventType) == "metadata" does not allocate.
type Headers struct {
	// MessageType is ":message-type": "event", "exception" (a modeled error)
	// or "error" (an unmodeled error).
	MessageType []byte

	// EventType is ":event-type", the name of the event, such as
	// "contentBlockDelta" or "metadata" in a Bedrock ConverseStream body.
	EventType []byte

	// ExceptionType is ":exception-type", the name of a modeled error, such
	// as "modelStreamErrorException".
	ExceptionType []byte

	// ContentType is ":content-type", the media type of the payload.
	ContentType []byte

	// ErrorCode and ErrorMessage are ":error-code" and ":error-message",
	// which describe an unmodeled error.
	ErrorCode    []byte
	ErrorMessage []byte
}

// parseHeaders validates every header in b and returns the string headers
// that Headers names. The returned slices alias b.
func parseHeaders(b []byte) (Headers, error) {
	var h Headers

	for i := 0; i < len(b); {
		start := i

		nameLen := int(b[i])
		i++
		if nameLen == 0 {
			return Headers{}, fmt.Errorf("%w: header at byte %d of the headers section has an empty name", ErrHeader, start)
		}
		if i+nameLen+1 > len(b) {
			return Headers{}, fmt.Errorf("%w: header at byte %d declares a %d-byte name but the headers section ends first", ErrHeader, start, nameLen)
		}
		name := b[i : i+nameLen]
		i += nameLen

		valueType := b[i]
		i++
		size, prefixed := valueSize(valueType)
		if size < 0 {
			return Headers{}, fmt.Errorf("%w: header %q has value type %d, but only types 0 to 9 exist", ErrHeader, name, valueType)
		}
		if prefixed {
			if i+2 > len(b) {
				return Headers{}, fmt.Errorf("%w: header %q lacks its 2-byte value length", ErrHeader, name)
			}
			size = int(binary.BigEndian.Uint16(b[i:]))
			i += 2
		}
		if i+size > len(b) {
			return Headers{}, fmt.Errorf("%w: header %q declares a %d-byte value but the headers section ends first", ErrHeader, name, size)
		}
		value := b[i : i+size]
		i += size

		if valueType == typeString {
			h.set(name, value)
		}
	}

	return h, nil
}

// valueSize returns the size of a value of type t, or prefixed true when a
// 2-byte length precedes the value. It returns -1 for an unknown type.
func valueSize(t byte) (size int, prefixed bool) {
	switch t {
	case typeBoolTrue, typeBoolFalse:
		return 0, false
	case typeByte:
		return 1, false
	case typeShort:
		return 2, false
	case typeInteger:
		return 4, false
	case typeLong, typeTimestamp:
		return 8, false
	case typeUUID:
		return 16, false
	case typeByteArray, typeString:
		return 0, true
	default:
		return -1, false
	}
}

func (h *Headers) set(name, value []byte) {
	switch string(name) {
	case ":message-type":
		h.MessageType = value
	case ":event-type":
		h.EventType = value
	case ":exception-type":
		h.ExceptionType = value
	case ":content-type":
		h.ContentType = value
	case ":error-code":
		h.ErrorCode = value
	case ":error-message":
		h.ErrorMessage = value
	}
}
