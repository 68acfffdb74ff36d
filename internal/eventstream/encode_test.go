package eventstream

import (
	"encoding/binary"
	"hash/crc32"
)

// testHeader is one header as the test encoder writes it: a name, a value
// type and the encoded value bytes (without the 2-byte length of types 6
// and 7, which encodeMessage adds).
type testHeader struct {
	name      string
	valueType byte
	value     []byte
}

func stringHeader(name, value string) testHeader {
	return testHeader{name: name, valueType: typeString, value: []byte(value)}
}

// encodeHeaders encodes headers in the AWS event-stream header layout.
func encodeHeaders(headers []testHeader) []byte {
	var b []byte
	for _, h := range headers {
		b = append(b, byte(len(h.name)))
		b = append(b, h.name...)
		b = append(b, h.valueType)
		if h.valueType == typeString || h.valueType == typeByteArray {
			b = binary.BigEndian.AppendUint16(b, uint16(len(h.value)))
		}
		b = append(b, h.value...)
	}
	return b
}

// encodeMessage encodes one message with valid lengths and CRCs.
func encodeMessage(headers []testHeader, payload []byte) []byte {
	return encodeRaw(encodeHeaders(headers), payload)
}

// encodeRaw encodes one message around an already encoded headers section.
func encodeRaw(headers, payload []byte) []byte {
	total := preludeLen + len(headers) + len(payload) + trailerLen

	b := make([]byte, 0, total)
	b = binary.BigEndian.AppendUint32(b, uint32(total))
	b = binary.BigEndian.AppendUint32(b, uint32(len(headers)))
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	b = append(b, headers...)
	b = append(b, payload...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))

	return b
}

// encodePrelude encodes a prelude with a valid CRC for any two lengths.
func encodePrelude(total, headersLen uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, total)
	b = binary.BigEndian.AppendUint32(b, headersLen)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// eventMessage encodes a message as Bedrock sends its events.
func eventMessage(eventType, payload string) []byte {
	return encodeMessage([]testHeader{
		stringHeader(":event-type", eventType),
		stringHeader(":content-type", "application/json"),
		stringHeader(":message-type", "event"),
	}, []byte(payload))
}
