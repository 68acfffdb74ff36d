package jsonscan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScannerSkipsArraysInDocument(t *testing.T) {
	input := `{"data":["a]b\"[{",{"usage":"}"},[1,[2,{"x":[]}]],-0.5e-3,true,null],` +
		`"model":"m","usage":{"total":[1,2],"n":3}}`
	events := scanSplits(t, map[string]int{"usage": 64, "model": 8}, input)

	assert.Equal(t, []string{
		`model="m" trunc=false`,
		`usage={"total":[1,2],"n":3} trunc=false`,
		"end complete=true",
	}, events)
}

func TestScannerCapturesSkippedArray(t *testing.T) {
	input := `{"data":[{"u":1},"]",[[]]],"n":2}`
	events := scanSplits(t, map[string]int{"data": 64, "n": 8}, input)

	assert.Equal(t, []string{
		`data=[{"u":1},"]",[[]]] trunc=false`,
		"n=2 trunc=false",
		"end complete=true",
	}, events)
}

func TestScannerSkipMismatchedBracket(t *testing.T) {
	for _, input := range []string{`{"a":[1,{"b":2]]}`, `{"a":[1}`, `{"a":[[1}]}`} {
		r := &recorder{want: map[string]int{}}
		s := New(r)
		_, _ = s.Write([]byte(input))

		require.True(t, s.Failed(), "input %s", input)
		assert.Equal(t, []string{"end complete=false"}, r.events, "input %s", input)
	}
}

func TestScannerSkipKeepsNestingLimit(t *testing.T) {
	r := &recorder{want: map[string]int{}}
	s := New(r)
	for range MaxNesting {
		_, _ = s.Write([]byte(`{"a":[`))
	}

	assert.True(t, s.Failed())
	assert.LessOrEqual(t, s.depth, MaxNesting)
}

func TestScannerSkipIsLenient(t *testing.T) {
	// Elements of an array inside a document are not validated, so this
	// document still ends complete and its usage counts.
	events := scanSplits(t, map[string]int{"usage": 16}, `{"a":[1,,:x],"usage":{"n":1}}`)

	assert.Equal(t, []string{`usage={"n":1} trunc=false`, "end complete=true"}, events)
}
