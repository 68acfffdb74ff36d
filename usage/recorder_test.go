package usage

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRecorderFuncCallsFunction(t *testing.T) {
	var got []Event
	RecorderFunc(func(e Event) { got = append(got, e) }).Record(Event{ID: "a"})

	assert.Equal(t, []Event{{ID: "a"}}, got)
}

func TestRecorderFuncNilRecordsNothing(t *testing.T) {
	assert.NotPanics(t, func() { RecorderFunc(nil).Record(Event{ID: "a"}) })
}
