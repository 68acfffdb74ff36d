package usage

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBenchBodiesExtractUsage(t *testing.T) {
	for _, body := range benchBodies() {
		t.Run(body.name, func(t *testing.T) {
			x := newBenchExtractor(t, body.url, body.contentType, "")
			r := extractInPieces(x, body.body, benchReadSize)
			require.True(t, r.Found)
			assert.True(t, r.Complete)
			assert.Equal(t, benchUsage.InputTokens, r.Usage.InputTokens)
			assert.Equal(t, body.wantTotal, r.Usage.TotalTokens)
			assert.NotEmpty(t, r.Model)

			want, err := body.unmarshal(body.body)
			require.NoError(t, err)
			assert.Equal(t, want.Model, r.Model, "the extractor and encoding/json read the same model")
			assert.Equal(t, want.Usage.TotalTokens, r.Usage.TotalTokens)
		})
	}
}

func TestExtractorAllocationsFlat(t *testing.T) {
	for _, kind := range []struct {
		name        string
		contentType string
		generate    func(int) []byte
	}{
		{"chat-json", "application/json", chatJSONBody},
		{"sse", "text/event-stream", sseStreamBody},
	} {
		t.Run(kind.name, func(t *testing.T) {
			req, resp := benchExchange(openAIChatURL, kind.contentType, "")
			allocs := make([]float64, len(allocSizes))
			for i, size := range allocSizes {
				body := kind.generate(size.size)
				allocs[i] = testing.AllocsPerRun(3, func() {
					x, ok := NewExtractor(req, resp)
					require.True(t, ok)
					extractInPieces(x, body, benchReadSize)
				})
				t.Logf("%s: %.0f allocations per response", size.name, allocs[i])
			}
			// A capture that a Write boundary splits may grow its buffer
			// once more, so two allocations of slack are allowed. Growth
			// with the size would show as thousands.
			for i := range allocSizes[1:] {
				assert.LessOrEqual(t, allocs[i+1], allocs[0]+2,
					"a %s body allocates more than a %s body", allocSizes[i+1].name, allocSizes[0].name)
			}
		})
	}
}
