package eventstream

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const corpusDir = "../../../shared/corpus/usage"

// readCorpus returns the corpus files that match pattern, skipping the test
// when the shared corpus is not checked out beside the module.
func readCorpus(t *testing.T, pattern string) map[string][]byte {
	t.Helper()

	paths, err := filepath.Glob(filepath.Join(corpusDir, pattern))
	require.NoError(t, err)
	if len(paths) == 0 {
		t.Skipf("no %s files in %s: the shared usage corpus is not checked out beside the module", pattern, corpusDir)
	}

	files := make(map[string][]byte, len(paths))
	for _, path := range paths {
		body, err := os.ReadFile(path)
		require.NoError(t, err)
		files[filepath.Base(path)] = body
	}
	return files
}

// decodeChunks feeds chunks to a new Decoder, closes it and returns what the
// handler saw with the first error of Write or Close.
func decodeChunks(chunks ...[]byte) (*recorder, error) {
	r := &recorder{}
	d := NewDecoder(r)

	var firstErr error
	for _, chunk := range chunks {
		n, err := d.Write(chunk)
		if err == nil && n != len(chunk) {
			err = fmt.Errorf("Write consumed %d of %d bytes without an error", n, len(chunk))
		}
		if err != nil {
			firstErr = err
			break
		}
	}
	if err := d.Close(); firstErr == nil {
		firstErr = err
	}
	return r, firstErr
}

// withoutCallCounts drops the number of Payload calls, which depends on how
// the body was split.
func withoutCallCounts(messages []recordedMessage) []recordedMessage {
	out := make([]recordedMessage, len(messages))
	for i, m := range messages {
		m.payloadCalls = 0
		out[i] = m
	}
	return out
}

func TestDecoderConverseStreamCorpus(t *testing.T) {
	body := readCorpus(t, "bedrock-converse-stream.eventstream")["bedrock-converse-stream.eventstream"]

	r, err := decodeChunks(body)
	require.NoError(t, err)
	require.Empty(t, r.orderError)
	require.Len(t, r.messages, 33)

	for i, m := range r.messages {
		assert.True(t, m.ended, "message %d did not end", i)
		assert.NoError(t, m.endErr, "message %d", i)
		assert.Equal(t, "event", m.messageType, "message %d", i)
		assert.Equal(t, "application/json", m.contentType, "message %d", i)
		assert.True(t, bytes.HasPrefix(m.payload, []byte("{")), "message %d payload %q", i, m.payload)
	}
	assert.Equal(t, "messageStart", r.messages[0].eventType)
	last := r.messages[len(r.messages)-1]
	assert.Equal(t, "metadata", last.eventType)
	assert.Contains(t, string(last.payload), `"inputTokens":13`)
	assert.Contains(t, string(last.payload), `"outputTokens":82`)
}

func TestDecoderExceptionCorpus(t *testing.T) {
	body := readCorpus(t, "bedrock-converse-stream-exception.eventstream")["bedrock-converse-stream-exception.eventstream"]

	r, err := decodeChunks(body)
	require.NoError(t, err)
	require.Len(t, r.messages, 1)

	m := r.messages[0]
	assert.True(t, m.ended)
	assert.NoError(t, m.endErr)
	assert.Equal(t, "exception", m.messageType)
	assert.Equal(t, "modelStreamErrorException", m.exceptionType)
	assert.Empty(t, m.eventType)
	assert.Equal(t, "application/json", m.contentType)
	assert.Contains(t, string(m.payload), "Model Stream Error")
}

func TestDecoderCorpusEverySplit(t *testing.T) {
	for name, body := range readCorpus(t, "bedrock-converse-stream*.eventstream") {
		t.Run(name, func(t *testing.T) {
			whole, err := decodeChunks(body)
			require.NoError(t, err)
			want := withoutCallCounts(whole.messages)

			for i := 0; i <= len(body); i++ {
				r, err := decodeChunks(body[:i], body[i:])
				require.NoError(t, err, "split at %d", i)
				require.Empty(t, r.orderError, "split at %d", i)
				require.Equal(t, want, withoutCallCounts(r.messages), "split at %d", i)
			}
		})
	}
}

func TestDecoderCorpusByteByByte(t *testing.T) {
	for name, body := range readCorpus(t, "bedrock-converse-stream*.eventstream") {
		t.Run(name, func(t *testing.T) {
			whole, err := decodeChunks(body)
			require.NoError(t, err)

			chunks := make([][]byte, len(body))
			for i := range body {
				chunks[i] = body[i : i+1]
			}
			r, err := decodeChunks(chunks...)
			require.NoError(t, err)
			require.Empty(t, r.orderError)
			require.Equal(t, withoutCallCounts(whole.messages), withoutCallCounts(r.messages))
		})
	}
}

func TestDecoderEveryHeaderType(t *testing.T) {
	uuid := bytes.Repeat([]byte{0xab}, 16)
	headers := []testHeader{
		{name: "flag-true", valueType: typeBoolTrue},
		{name: "flag-false", valueType: typeBoolFalse},
		{name: "byte", valueType: typeByte, value: []byte{7}},
		{name: "short", valueType: typeShort, value: []byte{0, 7}},
		{name: "integer", valueType: typeInteger, value: []byte{0, 0, 0, 7}},
		{name: "long", valueType: typeLong, value: make([]byte, 8)},
		{name: "bytes", valueType: typeByteArray, value: []byte("\x00\x01\x02")},
		{name: "timestamp", valueType: typeTimestamp, value: make([]byte, 8)},
		{name: "uuid", valueType: typeUUID, value: uuid},
		stringHeader(":message-type", "error"),
		stringHeader(":error-code", "InternalError"),
		stringHeader(":error-message", "An internal server error occurred."),
		stringHeader(":content-type", "text/plain"),
		stringHeader("custom", "ignored"),
	}

	r, err := decodeChunks(encodeMessage(headers, []byte("body")))
	require.NoError(t, err)
	require.Len(t, r.messages, 1)

	m := r.messages[0]
	assert.Equal(t, "error", m.messageType)
	assert.Equal(t, "InternalError", m.errorCode)
	assert.Equal(t, "An internal server error occurred.", m.errorMessage)
	assert.Equal(t, "text/plain", m.contentType)
	assert.Empty(t, m.eventType)
	assert.Equal(t, []byte("body"), m.payload)
	assert.NoError(t, m.endErr)
}

func TestDecoderEmptyMessage(t *testing.T) {
	body := append(encodeMessage(nil, nil), eventMessage("metadata", "{}")...)

	r, err := decodeChunks(body)
	require.NoError(t, err)
	require.Len(t, r.messages, 2)

	assert.Empty(t, r.messages[0].messageType)
	assert.Empty(t, r.messages[0].payload)
	assert.Zero(t, r.messages[0].payloadCalls)
	assert.True(t, r.messages[0].ended)
	assert.NoError(t, r.messages[0].endErr)
	assert.Equal(t, "metadata", r.messages[1].eventType)
}

func TestDecoderStreamsPayloadBeforeEnd(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 1000)
	body := eventMessage("chunk", string(payload))
	half := len(body) - trailerLen - 500

	r := &recorder{}
	d := NewDecoder(r)
	n, err := d.Write(body[:half])
	require.NoError(t, err)
	require.Equal(t, half, n)

	require.Len(t, r.messages, 1)
	assert.Len(t, r.messages[0].payload, 500, "payload bytes must reach the handler as they arrive")
	assert.False(t, r.messages[0].ended)

	_, err = d.Write(body[half:])
	require.NoError(t, err)
	require.NoError(t, d.Close())
	assert.Equal(t, payload, r.messages[0].payload)
	assert.True(t, r.messages[0].ended)
}

func TestDecoderReusesHeadersBuffer(t *testing.T) {
	message := eventMessage("contentBlockDelta", `{"delta":{"text":"hi"}}`)
	d := NewDecoder(discardHandler{})

	_, err := d.Write(message)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := d.Write(message); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs, "decoding a message after the first must not allocate")
}

func TestDecoderPreludeChecksum(t *testing.T) {
	body := eventMessage("metadata", "{}")
	body[8] ^= 0xff

	r := &recorder{}
	d := NewDecoder(r)
	n, err := d.Write(body)
	require.ErrorIs(t, err, ErrChecksum)
	assert.Equal(t, preludeLen, n)
	assert.Contains(t, err.Error(), "prelude")
	assert.Empty(t, r.messages)

	n, err = d.Write(body)
	assert.Zero(t, n)
	assert.ErrorIs(t, err, ErrChecksum)
	assert.ErrorIs(t, d.Close(), ErrChecksum)
	assert.ErrorIs(t, d.Err(), ErrChecksum)
}

func TestDecoderMessageChecksum(t *testing.T) {
	first := eventMessage("contentBlockDelta", `{"delta":{"text":"hi"}}`)
	second := eventMessage("metadata", `{"usage":{"inputTokens":1}}`)
	second[len(second)-trailerLen-3] ^= 0x01
	third := eventMessage("metadata", "{}")
	body := bytes.Join([][]byte{first, second, third}, nil)

	r := &recorder{}
	d := NewDecoder(r)
	n, err := d.Write(body)
	require.ErrorIs(t, err, ErrChecksum)
	assert.Equal(t, len(first)+len(second), n)
	assert.Contains(t, err.Error(), "declares CRC32 0x", "the error names the CRC values")

	require.Len(t, r.messages, 2, "nothing after the bad message is decoded")
	assert.NoError(t, r.messages[0].endErr)
	assert.True(t, r.messages[1].ended)
	assert.ErrorIs(t, r.messages[1].endErr, ErrChecksum)
	assert.ErrorIs(t, d.Close(), ErrChecksum)
}

func TestDecoderTruncatedAtEveryLength(t *testing.T) {
	first := eventMessage("contentBlockDelta", `{"delta":{"text":"hi"}}`)
	body := append(append([]byte(nil), first...), eventMessage("metadata", `{"usage":{}}`)...)

	for i := 1; i < len(body); i++ {
		r, err := decodeChunks(body[:i])
		if i == len(first) {
			require.NoError(t, err, "a body that ends between messages is complete")
			continue
		}
		require.ErrorIs(t, err, ErrTruncated, "body cut at %d", i)
		require.Empty(t, r.orderError, "body cut at %d", i)

		if n := len(r.messages); n > 0 && r.messages[n-1].endErr != nil {
			assert.ErrorIs(t, r.messages[n-1].endErr, ErrTruncated, "body cut at %d", i)
		}
		for j, m := range r.messages {
			assert.True(t, m.ended, "body cut at %d: message %d has no MessageEnd", i, j)
		}
	}
}

func TestDecoderInvalidLengths(t *testing.T) {
	tests := []struct {
		name    string
		prelude []byte
	}{
		{name: "total below minimum", prelude: encodePrelude(15, 0)},
		{name: "zero total", prelude: encodePrelude(0, 0)},
		{name: "headers beyond total", prelude: encodePrelude(100, 85)},
		{name: "headers above limit", prelude: encodePrelude(1<<31, MaxHeadersLen+1)},
		{name: "largest lengths", prelude: encodePrelude(0xffffffff, 0xffffffff)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{}
			d := NewDecoder(r)
			n, err := d.Write(append(tt.prelude, make([]byte, 64)...))
			require.ErrorIs(t, err, ErrLength)
			assert.Equal(t, preludeLen, n)
			assert.Empty(t, r.messages)
			assert.LessOrEqual(t, cap(d.headers), MaxHeadersLen)
		})
	}
}

func TestDecoderHugeTotalLengthStreams(t *testing.T) {
	headers := encodeHeaders([]testHeader{stringHeader(":event-type", "chunk")})
	prelude := encodePrelude(0xffffffff, uint32(len(headers)))

	r := &recorder{}
	d := NewDecoder(r)
	_, err := d.Write(append(prelude, headers...))
	require.NoError(t, err)

	chunk := make([]byte, 64<<10)
	for range 16 {
		_, err := d.Write(chunk)
		require.NoError(t, err)
	}
	require.Len(t, r.messages, 1)
	assert.Len(t, r.messages[0].payload, 16*len(chunk))
	assert.Equal(t, len(headers), cap(d.headers), "the decoder buffers only the headers")

	err = d.Close()
	require.ErrorIs(t, err, ErrTruncated)
	assert.Contains(t, err.Error(), "4294967295-byte message")
	assert.ErrorIs(t, r.messages[0].endErr, ErrTruncated)
}

func TestDecoderInvalidHeaders(t *testing.T) {
	tests := []struct {
		name    string
		headers []byte
	}{
		{name: "empty name", headers: []byte{0, typeBoolTrue}},
		{name: "unknown value type", headers: []byte{1, 'a', 10}},
		{name: "name past end", headers: []byte{5, 'a', 'b'}},
		{name: "no value type", headers: []byte{1, 'a'}},
		{name: "string length missing", headers: []byte{1, 'a', typeString, 0}},
		{name: "string past end", headers: []byte{1, 'a', typeString, 0, 9, 'x'}},
		{name: "uuid past end", headers: []byte{1, 'a', typeUUID, 1, 2, 3}},
		{name: "long past end", headers: []byte{1, 'a', typeLong, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := decodeChunks(encodeRaw(tt.headers, []byte("{}")))
			require.ErrorIs(t, err, ErrHeader)
			assert.Contains(t, err.Error(), "offset 0")
			assert.Empty(t, r.messages)
		})
	}
}

func TestDecoderWriteAfterClose(t *testing.T) {
	d := NewDecoder(&recorder{})
	require.NoError(t, d.Close())
	require.NoError(t, d.Close())

	n, err := d.Write(eventMessage("metadata", "{}"))
	assert.Zero(t, n)
	assert.ErrorIs(t, err, ErrClosed)
}

func TestDecoderCloseIsIdempotent(t *testing.T) {
	body := eventMessage("metadata", "{}")
	r, err := decodeChunks(body[:len(body)-2])
	require.ErrorIs(t, err, ErrTruncated)
	require.Len(t, r.messages, 1)
	assert.ErrorIs(t, r.messages[0].endErr, ErrTruncated)

	d := NewDecoder(&recorder{})
	_, err = d.Write(body[:5])
	require.NoError(t, err)
	first := d.Close()
	require.ErrorIs(t, first, ErrTruncated)
	assert.Contains(t, first.Error(), "5 bytes into the 12-byte prelude")
	assert.Equal(t, first, d.Close())
}
