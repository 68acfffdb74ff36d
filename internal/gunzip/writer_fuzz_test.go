package gunzip

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"
)

// FuzzWriter feeds arbitrary bodies split at an arbitrary point and checks
// that a Writer never panics, always ends its goroutine, and decodes what
// compress/gzip decodes from the whole body.
func FuzzWriter(f *testing.F) {
	f.Add(compress(f, []byte(`data: {"usage":{"input_tokens":3}}`)), uint16(9))
	f.Add(append(compress(f, []byte("a")), compress(f, []byte("b"))...), uint16(21))
	f.Add([]byte("not gzip at all"), uint16(3))
	if body, err := os.ReadFile(corpusGzip); err == nil {
		f.Add(body, uint16(len(body)/2))
	}

	f.Fuzz(func(t *testing.T, body []byte, split uint16) {
		at := int(split) % (len(body) + 1)

		var out bytes.Buffer
		w := NewWriter(&out, WithLimit(64, 1<<16))
		for _, chunk := range [][]byte{body[:at], body[at:]} {
			n, err := w.Write(chunk)
			if n != len(chunk) {
				t.Fatalf("Write(%d bytes) returned %d, %v", len(chunk), n, err)
			}
		}
		closeErr := w.Close()

		if int64(out.Len()) != w.Decoded() {
			t.Fatalf("destination got %d bytes, Decoded reports %d", out.Len(), w.Decoded())
		}
		if limit := int64(1<<16) + 64*int64(len(body)); w.Decoded() > limit {
			t.Fatalf("decoded %d bytes from %d, above the limit %d", w.Decoded(), len(body), limit)
		}

		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return
		}
		want, wantErr := io.ReadAll(zr)
		if closeErr == nil && wantErr != nil {
			t.Fatalf("Writer accepted a body that compress/gzip rejects: %v", wantErr)
		}
		if closeErr == nil && !bytes.Equal(want, out.Bytes()) {
			t.Fatalf("Writer decoded %d bytes, compress/gzip %d", out.Len(), len(want))
		}
		if !bytes.HasPrefix(want, out.Bytes()) {
			t.Fatalf("Writer output is not a prefix of what compress/gzip decodes")
		}
	})
}
