package eventstream

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecoder feeds arbitrary bodies split at an arbitrary point and checks
// that the Decoder never panics, keeps the Handler call order, bounds its
// buffer, and decodes the same messages whatever the split.
func FuzzDecoder(f *testing.F) {
	f.Add(eventMessage("metadata", `{"usage":{"inputTokens":1}}`), uint16(7))
	f.Add(encodeMessage(nil, nil), uint16(0))
	f.Add(append(eventMessage("contentBlockDelta", `{}`), encodePrelude(0xffffffff, 3)...), uint16(40))
	f.Add(encodeRaw([]byte{1, 'a', typeUUID, 1}, nil), uint16(13))
	paths, _ := filepath.Glob(filepath.Join(corpusDir, "*.eventstream"))
	for _, path := range paths {
		if body, err := os.ReadFile(path); err == nil {
			f.Add(body, uint16(len(body)/2))
		}
	}

	f.Fuzz(func(t *testing.T, body []byte, split uint16) {
		whole, wholeErr := decodeChunks(body)

		at := int(split) % (len(body) + 1)
		r := &recorder{}
		d := NewDecoder(r)
		consumed := 0
		var splitErr error
		for _, chunk := range [][]byte{body[:at], body[at:]} {
			n, err := d.Write(chunk)
			consumed += n
			if n > len(chunk) || (n < len(chunk) && err == nil) {
				t.Fatalf("Write(%d bytes) returned %d, %v", len(chunk), n, err)
			}
			if err != nil {
				splitErr = err
				break
			}
		}
		if err := d.Close(); splitErr == nil {
			splitErr = err
		}

		if r.orderError != "" {
			t.Fatalf("handler calls out of order: %s", r.orderError)
		}
		if cap(d.headers) > MaxHeadersLen {
			t.Fatalf("headers buffer grew to %d bytes, above MaxHeadersLen", cap(d.headers))
		}
		payloadBytes := 0
		for i, m := range r.messages {
			if !m.ended {
				t.Fatalf("message %d has no MessageEnd after Close", i)
			}
			payloadBytes += len(m.payload)
		}
		if payloadBytes > consumed {
			t.Fatalf("handler saw %d payload bytes of %d consumed", payloadBytes, consumed)
		}
		if errorKind(wholeErr) != errorKind(splitErr) {
			t.Fatalf("whole body: %v; split at %d: %v", wholeErr, at, splitErr)
		}
		if len(whole.messages) != len(r.messages) {
			t.Fatalf("whole body gave %d messages, split at %d gave %d", len(whole.messages), at, len(r.messages))
		}
	})
}

// errorKind returns the sentinel error that err wraps, or nil.
func errorKind(err error) error {
	for _, kind := range []error{ErrChecksum, ErrLength, ErrHeader, ErrTruncated, ErrClosed} {
		if errors.Is(err, kind) {
			return kind
		}
	}
	return err
}
