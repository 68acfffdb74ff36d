package jsonscan

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder captures the members named in want and logs every event.
type recorder struct {
	want   map[string]int
	events []string
	firsts []byte
}

func (r *recorder) Member(p Path, first byte) int {
	r.firsts = append(r.firsts, first)
	return r.want[p.String()]
}

func (r *recorder) Value(p Path, raw []byte, truncated bool) {
	r.events = append(r.events, fmt.Sprintf("%s=%s trunc=%v", p, raw, truncated))
}

func (r *recorder) EndDocument(complete bool) {
	r.events = append(r.events, fmt.Sprintf("end complete=%v", complete))
}

// scanSplits scans input whole, at every split point, and one byte at a
// time, and requires each run to report the same events.
func scanSplits(t *testing.T, want map[string]int, input string) []string {
	t.Helper()

	whole := &recorder{want: want}
	_, err := New(whole).Write([]byte(input))
	require.NoError(t, err)

	for cut := 1; cut < len(input); cut++ {
		r := &recorder{want: want}
		s := New(r)
		_, _ = s.Write([]byte(input[:cut]))
		_, _ = s.Write([]byte(input[cut:]))
		require.Equal(t, whole.events, r.events, "split at byte %d", cut)
	}

	r := &recorder{want: want}
	s := New(r)
	for i := range len(input) {
		_, _ = s.Write([]byte{input[i]})
	}
	require.Equal(t, whole.events, r.events, "byte at a time")

	return whole.events
}

func TestScannerCapturesTopLevelMembers(t *testing.T) {
	input := `{"model":"m-1","choices":[{"message":{"usage":{"x":1}}}],` +
		`"meta":{"usage":{"y":2}},"usage":{"prompt_tokens":3,"d":{"a":[1,2]}},"n":12.5e3}`
	events := scanSplits(t, map[string]int{"model": 64, "usage": 4096, "n": 16}, input)

	assert.Equal(t, []string{
		`model="m-1" trunc=false`,
		`usage={"prompt_tokens":3,"d":{"a":[1,2]}} trunc=false`,
		`n=12.5e3 trunc=false`,
		"end complete=true",
	}, events)
}

func TestScannerNestedPath(t *testing.T) {
	input := `{"type":"message_start","message":{"model":"c","usage":{"input_tokens":4}}}`
	events := scanSplits(t, map[string]int{"message.usage": 100, "type": 20}, input)

	assert.Equal(t, []string{
		`type="message_start" trunc=false`,
		`message.usage={"input_tokens":4} trunc=false`,
		"end complete=true",
	}, events)
}

func TestScannerArrayElementsAreDocuments(t *testing.T) {
	input := "[{\"u\":1}\n,\n{\"u\":2,\"x\":[{\"u\":3}]}]"
	events := scanSplits(t, map[string]int{"u": 8}, input)

	assert.Equal(t, []string{
		"u=1 trunc=false", "end complete=true",
		"u=2 trunc=false", "end complete=true",
	}, events)
}

func TestScannerStringEscapes(t *testing.T) {
	input := `{"a":"q\"}\\","us\u0061ge":1,"usage":"\\\"x"}`
	events := scanSplits(t, map[string]int{"a": 64, "usage": 64}, input)

	assert.Equal(t, []string{
		`a="q\"}\\" trunc=false`,
		`usage=1 trunc=false`,
		`usage="\\\"x" trunc=false`,
		"end complete=true",
	}, events)
}

func TestScannerTruncatesCapture(t *testing.T) {
	events := scanSplits(t, map[string]int{"usage": 5}, `{"usage":{"abcdefgh":1}}`)

	assert.Equal(t, []string{`usage={"abc trunc=true`, "end complete=true"}, events)
}

func TestScannerConcatenatedDocuments(t *testing.T) {
	events := scanSplits(t, map[string]int{"n": 8}, "{\"n\":1}\n{\"n\":2} {\"n\":3}")

	assert.Equal(t, []string{
		"n=1 trunc=false", "end complete=true",
		"n=2 trunc=false", "end complete=true",
		"n=3 trunc=false", "end complete=true",
	}, events)
}

func TestScannerSyntaxError(t *testing.T) {
	r := &recorder{want: map[string]int{"n": 8}}
	s := New(r)
	_, _ = s.Write([]byte(`{"n":1,"x" 2}{"n":3}`))

	assert.True(t, s.Failed())
	assert.Equal(t, []string{"n=1 trunc=false", "end complete=false"}, r.events)

	s.Reset()
	_, _ = s.Write([]byte(`{"n":4}`))
	assert.True(t, s.Idle())
	assert.Equal(t, "n=4 trunc=false", r.events[2])
}

func TestScannerResetMidDocument(t *testing.T) {
	r := &recorder{want: map[string]int{}}
	s := New(r)
	_, _ = s.Write([]byte(`{"a":[1,`))
	assert.False(t, s.Idle())

	s.Reset()
	assert.Equal(t, []string{"end complete=false"}, r.events)
	assert.True(t, s.Idle())
}

func TestScannerDoneSentinelIsNotADocument(t *testing.T) {
	r := &recorder{want: map[string]int{}}
	s := New(r)
	_, _ = s.Write([]byte(`[DONE]`))
	s.Reset()

	assert.Empty(t, r.events)
}

func TestScannerDeepNesting(t *testing.T) {
	deep := strings.Repeat("[", MaxNesting) + strings.Repeat("]", MaxNesting)
	r := &recorder{want: map[string]int{"usage": 64}}
	s := New(r)
	_, _ = s.Write([]byte(`{"x":` + deep + `,"usage":1}`))
	assert.True(t, s.Failed(), "nesting past MaxNesting is an error")

	within := strings.Repeat("[", MaxNesting-2) + strings.Repeat("]", MaxNesting-2)
	r = &recorder{want: map[string]int{"usage": 64}}
	s = New(r)
	_, _ = s.Write([]byte(`{"x":` + within + `,"usage":1}`))
	assert.True(t, s.Idle())
	assert.Equal(t, []string{"usage=1 trunc=false", "end complete=true"}, r.events)
}

func TestScannerLongKeyNeverMatches(t *testing.T) {
	long := strings.Repeat("k", MaxKeyLen+1)
	r := &recorder{want: map[string]int{long: 8, "b": 8}}
	s := New(r)
	_, _ = s.Write([]byte(`{"` + long + `":1,"b":2}`))

	assert.Equal(t, []string{"b=2 trunc=false", "end complete=true"}, r.events)
}

func TestScannerEmptyContainers(t *testing.T) {
	events := scanSplits(t, map[string]int{"a": 8, "b": 8}, `{"a":{},"b":[],"c":[[]]}`)

	assert.Equal(t, []string{"a={} trunc=false", "b=[] trunc=false", "end complete=true"}, events)
}

func TestScannerReportsFirstByte(t *testing.T) {
	r := &recorder{want: map[string]int{"a": 64}}
	_, _ = New(r).Write([]byte(`{"e":null,"a":{"b":"x"},"f":"s","g":[1]}`))

	assert.Equal(t, "n{\"[", string(r.firsts), "members inside the captured a are not reported")
}

func TestScannerEscapedStringLinear(t *testing.T) {
	// A string with escape sequences and no quote after it in the same
	// Write must cost about what a plain string costs. Looking for the
	// closing quote again after every escape would scan the rest of the
	// Write once per escape, which is quadratic in its size.
	elapsed := func(segment string) time.Duration {
		body := `{"x":"` + strings.Repeat(segment, (4<<20)/len(segment))
		r := &recorder{want: map[string]int{}}
		s := New(r)

		start := time.Now()
		_, _ = s.Write([]byte(body))
		took := time.Since(start)

		require.False(t, s.Failed())
		require.True(t, s.InDocument())
		return took
	}

	plain := elapsed(strings.Repeat("a", 62) + "  ")
	escaped := elapsed(strings.Repeat("a", 62) + `\n`)
	assert.Less(t, escaped, 4*plain+250*time.Millisecond, "escaped string took %v, plain %v", escaped, plain)
}

func TestScannerDecodesEscapedKeys(t *testing.T) {
	// Keys match after their escape sequences are decoded, as
	// encoding/json matches them, wherever the input is split.
	input := `{"us\u0061ge":1,"\u0075sag\u0065":2,"usage\u00e9":3,"u\/sage":4,` +
		`"us\age":5,"us\u00zzage":6,"\ud83d\ude00":7,"t\tab":8,"m\u0065ssage":{"\u0075sage":9}}`
	events := scanSplits(t, map[string]int{"usage": 8, "usageé": 8, "u/sage": 8, "t\tab": 8, "message.usage": 8}, input)

	assert.Equal(t, []string{
		"usage=1 trunc=false",
		"usage=2 trunc=false",
		"usageé=3 trunc=false",
		"u/sage=4 trunc=false",
		"t\tab=8 trunc=false",
		"message.usage=9 trunc=false",
		"end complete=true",
	}, events)
}
