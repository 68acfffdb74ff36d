package usage

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fuzzContentTypes are the content types FuzzExtractor picks from, one per
// framing the extractor reads.
var fuzzContentTypes = []string{
	"application/json",
	"text/event-stream; charset=utf-8",
	"application/x-ndjson",
	"application/vnd.amazon.eventstream",
}

// fuzzURLs are request URLs that name different providers and models.
// Nothing is sent to them.
var fuzzURLs = []string{
	openAIChatURL,
	"https://api.anthropic.com/v1/messages",
	"https://bedrock-runtime.us-east-1.amazonaws.com/model/us.amazon.nova-micro-v1:0/converse-stream",
	"https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent",
	"http://127.0.0.1:11434/api/generate",
}

// maxRetainedBytes bounds the memory an Extractor keeps between Writes,
// whatever the body: it covers the event-stream headers buffer (128 KiB at
// most), an InvokeModel chunk capture and its decoded form, and the usage
// and name captures.
const maxRetainedBytes = 320 << 10

// fuzzCorpusSeeds returns the shared usage corpus files with the index of
// their content type in fuzzContentTypes, or nothing when the corpus is
// absent.
func fuzzCorpusSeeds() (bodies [][]byte, kinds []uint8, gzipped []bool) {
	paths, _ := filepath.Glob(filepath.Join("../../shared/corpus/usage", "*"))
	for _, path := range paths {
		name := filepath.Base(path)
		zipped := strings.HasSuffix(name, ".gz")
		name = strings.TrimSuffix(name, ".gz")

		var kind uint8
		switch filepath.Ext(name) {
		case ".json":
			kind = 0
		case ".sse":
			kind = 1
		case ".ndjson":
			kind = 2
		case ".eventstream":
			kind = 3
		default:
			continue
		}

		body, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if zipped {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				continue
			}
			var decoded bytes.Buffer
			if _, err := decoded.ReadFrom(zr); err != nil {
				continue
			}
			body = decoded.Bytes()
		}
		bodies = append(bodies, body)
		kinds = append(kinds, kind)
		gzipped = append(gzipped, zipped)
	}
	return bodies, kinds, gzipped
}

// FuzzExtractor feeds arbitrary bodies of every framing, in pieces of an
// arbitrary size and optionally gzip-encoded, and checks that the extractor
// never panics, accepts every byte, keeps bounded memory, and finds the same
// result however the body is split.
func FuzzExtractor(f *testing.F) {
	f.Add(chatJSONBody(1<<10), uint8(0), uint8(0), uint16(7), false)
	f.Add(sseStreamBody(2<<10), uint8(1), uint8(0), uint16(100), true)
	f.Add([]byte(`{"done":true,"model":"gemma4","prompt_eval_count":11,"eval_count":18}`+"\n"), uint8(2), uint8(4), uint16(3), false)
	bodies, kinds, gzipped := fuzzCorpusSeeds()
	for i, body := range bodies {
		f.Add(body, kinds[i], uint8(i), uint16(1+i*37), gzipped[i])
	}

	f.Fuzz(func(t *testing.T, body []byte, kind, urlIndex uint8, readSize uint16, gzipBody bool) {
		contentType := fuzzContentTypes[int(kind)%len(fuzzContentTypes)]
		rawURL := fuzzURLs[int(urlIndex)%len(fuzzURLs)]
		pieceSize := 1 + int(readSize)%4096

		encoding := ""
		if gzipBody {
			encoding = "gzip"
			var compressed bytes.Buffer
			zw := gzip.NewWriter(&compressed)
			zw.Write(body)
			zw.Close()
			body = compressed.Bytes()
		}

		whole := newBenchExtractor(t, rawURL, contentType, encoding)
		if n, err := whole.Write(body); n != len(body) || err != nil {
			t.Fatalf("Write(%d bytes) returned %d, %v", len(body), n, err)
		}
		wholeResult := whole.Finish(true)

		pieces := newBenchExtractor(t, rawURL, contentType, encoding)
		for rest := body; len(rest) > 0; {
			piece := rest[:min(pieceSize, len(rest))]
			rest = rest[len(piece):]
			if n, err := pieces.Write(piece); n != len(piece) || err != nil {
				t.Fatalf("Write(%d bytes) returned %d, %v", len(piece), n, err)
			}
		}
		if retained := retainedBytes(reflect.ValueOf(pieces), map[uintptr]bool{}); retained > maxRetainedBytes {
			t.Fatalf("the extractor retains %d bytes after a %d-byte body, above %d", retained, len(body), maxRetainedBytes)
		}
		piecesResult := pieces.Finish(true)

		if !reflect.DeepEqual(wholeResult, piecesResult) {
			t.Fatalf("%s body read whole gave\n%+v\nread in %d-byte pieces gave\n%+v",
				contentType, wholeResult, pieceSize, piecesResult)
		}
		if !wholeResult.Found && !wholeResult.Usage.IsZero() {
			t.Fatalf("a result without usage has counts %+v", wholeResult.Usage)
		}
	})
}

// retainedBytes returns the bytes of the slice, string and map contents
// reachable from v, without following channels or functions. Values stored
// inline in a struct or array count with their parent.
func retainedBytes(v reflect.Value, seen map[uintptr]bool) int {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return 0
		}
		seen[v.Pointer()] = true
		return int(v.Type().Elem().Size()) + retainedBytes(v.Elem(), seen)

	case reflect.Interface:
		if v.IsNil() {
			return 0
		}
		return retainedBytes(v.Elem(), seen)

	case reflect.Struct:
		total := 0
		for i := range v.NumField() {
			total += retainedBytes(v.Field(i), seen)
		}
		return total

	case reflect.Array:
		if !containsReferences(v.Type().Elem()) {
			return 0
		}
		total := 0
		for i := range v.Len() {
			total += retainedBytes(v.Index(i), seen)
		}
		return total

	case reflect.Slice:
		if v.IsNil() || seen[v.Pointer()] {
			return 0
		}
		seen[v.Pointer()] = true
		total := v.Cap() * int(v.Type().Elem().Size())
		if containsReferences(v.Type().Elem()) {
			for i := range v.Len() {
				total += retainedBytes(v.Index(i), seen)
			}
		}
		return total

	case reflect.String:
		return v.Len()

	case reflect.Map:
		total := 0
		iter := v.MapRange()
		for iter.Next() {
			total += int(v.Type().Key().Size()+v.Type().Elem().Size()) +
				retainedBytes(iter.Key(), seen) + retainedBytes(iter.Value(), seen)
		}
		return total

	default:
		return 0
	}
}

// containsReferences reports whether values of t can refer to memory
// outside themselves.
func containsReferences(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.String, reflect.Map:
		return true
	case reflect.Array:
		return containsReferences(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if containsReferences(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}
