package jsonscan

import (
	"reflect"
	"testing"
)

// fuzzCaptures are the member paths FuzzScanner captures, with their limits:
// objects, arrays and scalars at several depths, one limit small enough to
// truncate.
var fuzzCaptures = map[string]int{
	"usage":                       256,
	"usage.prompt_tokens_details": 64,
	"model":                       8,
	"embedding":                   32,
	"data":                        512,
}

// FuzzScanner scans arbitrary input whole and split at an arbitrary point,
// and checks that the Scanner never panics and reports the same members,
// captures, document ends and final state either way.
func FuzzScanner(f *testing.F) {
	f.Add([]byte(`{"model":"gpt-4o","usage":{"prompt_tokens":1,"prompt_tokens_details":{"cached_tokens":0}}}`), uint16(20))
	f.Add([]byte(`{"object":"list","data":[{"embedding":[-0.1,0.25,1e-3,true,null,false]}],"usage":{"total_tokens":7}}`), uint16(40))
	f.Add([]byte(`{"embedding":[1,2,3,-4.5e+6],"model":"m"}`), uint16(15))
	f.Add([]byte("{\"embedding\": [\n  -0.1,\n  0.2 ,\n\t3\n],\"usage\":{}}"), uint16(22))
	f.Add([]byte(`[{"usage":{"a":[1,2,[3,4]]}},{"usage":null}]`), uint16(9))
	f.Add([]byte(`{"data":[1,2,3,"x",{"y":[4,5]}]} {"data":[6,]}`), uint16(11))
	f.Add([]byte(`{"a":[1,2,3}`), uint16(6))

	f.Fuzz(func(t *testing.T, input []byte, split uint16) {
		whole := &recorder{want: fuzzCaptures}
		wholeScanner := New(whole)
		_, _ = wholeScanner.Write(input)

		at := int(split) % (len(input) + 1)
		parts := &recorder{want: fuzzCaptures}
		partsScanner := New(parts)
		_, _ = partsScanner.Write(input[:at])
		_, _ = partsScanner.Write(input[at:])

		if !reflect.DeepEqual(whole.events, parts.events) {
			t.Fatalf("split at %d changed the events:\nwhole: %q\nsplit: %q", at, whole.events, parts.events)
		}
		if !reflect.DeepEqual(whole.firsts, parts.firsts) {
			t.Fatalf("split at %d changed the members reported: whole %q, split %q", at, whole.firsts, parts.firsts)
		}
		if wholeScanner.Idle() != partsScanner.Idle() || wholeScanner.Failed() != partsScanner.Failed() ||
			wholeScanner.InDocument() != partsScanner.InDocument() {
			t.Fatalf("split at %d changed the final state", at)
		}
		if cap(partsScanner.capBuf) > 2*512 {
			t.Fatalf("capture buffer grew to %d bytes for a 512-byte limit", cap(partsScanner.capBuf))
		}

		wholeScanner.Reset()
		partsScanner.Reset()
		if !reflect.DeepEqual(whole.events, parts.events) {
			t.Fatalf("Reset after a split at %d reported differently", at)
		}
	})
}
