package usage

import (
	"encoding/binary"
	"hash/crc32"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// extractString runs body through a new extractor in one Write.
func extractString(t *testing.T, rawURL, contentType, body string) Result {
	t.Helper()
	return extractBody(t, rawURL, contentType, "", [][]byte{[]byte(body)})
}

// extractEverySplit extracts body whole, split in two at every byte
// boundary, and one byte at a time. It requires all runs to agree and
// returns the result of the whole run.
func extractEverySplit(t *testing.T, rawURL, contentType, body string) Result {
	t.Helper()

	whole := extractString(t, rawURL, contentType, body)
	for cut := 1; cut < len(body); cut++ {
		got := extractBody(t, rawURL, contentType, "", [][]byte{[]byte(body[:cut]), []byte(body[cut:])})
		require.Equal(t, whole, got, "split at byte %d", cut)
	}

	chunks := make([][]byte, len(body))
	for i := range len(body) {
		chunks[i] = []byte{body[i]}
	}
	require.Equal(t, whole, extractBody(t, rawURL, contentType, "", chunks), "byte at a time")
	return whole
}

// newTestExtractor returns an extractor for a 200 response of contentType.
func newTestExtractor(t *testing.T, rawURL, contentType string) *Extractor {
	t.Helper()

	req, err := http.NewRequest(http.MethodPost, rawURL, nil)
	require.NoError(t, err)
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {contentType}}}

	x, ok := NewExtractor(req, resp)
	require.True(t, ok)
	return x
}

// eventFrame encodes one AWS event-stream message with string headers, in
// the layout [total len][headers len][prelude CRC][headers][payload][CRC].
func eventFrame(headers [][2]string, payload string) []byte {
	var h []byte
	for _, kv := range headers {
		h = append(h, byte(len(kv[0])))
		h = append(h, kv[0]...)
		h = append(h, 7)
		h = binary.BigEndian.AppendUint16(h, uint16(len(kv[1])))
		h = append(h, kv[1]...)
	}

	total := 12 + len(h) + len(payload) + 4
	msg := binary.BigEndian.AppendUint32(nil, uint32(total))
	msg = binary.BigEndian.AppendUint32(msg, uint32(len(h)))
	msg = binary.BigEndian.AppendUint32(msg, crc32.ChecksumIEEE(msg))
	msg = append(msg, h...)
	msg = append(msg, payload...)
	return binary.BigEndian.AppendUint32(msg, crc32.ChecksumIEEE(msg))
}

// bedrockEvent encodes a ConverseStream event message.
func bedrockEvent(eventType, payload string) []byte {
	return eventFrame([][2]string{
		{":event-type", eventType}, {":content-type", "application/json"}, {":message-type", "event"},
	}, payload)
}

const (
	openAIURL    = "https://api.openai.com/v1/chat/completions"
	anthropicURL = "https://api.anthropic.com/v1/messages"
	loopbackURL  = "http://127.0.0.1:8080/v1/chat/completions"
	bedrockURL   = "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.nova-micro-v1:0/converse-stream"
	sseType      = "text/event-stream"
	jsonType     = "application/json"
	ndjsonType   = "application/x-ndjson"
	awsType      = "application/vnd.amazon.eventstream"
)
