package usage

import (
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// corpusDir is the shared usage corpus, read in place from the package
// directory. testdataDir holds this project's own composed bodies, in the
// same layout, covering every format.
const (
	corpusDir   = "../../shared/corpus/usage"
	testdataDir = "../testdata/usage"
)

// corpusRow is one line of the corpus MANIFEST.tsv.
type corpusRow struct {
	file, contentType, contentEncoding, provider string
	counts                                       [6]string // input, output, total, cached_input, cache_creation_input, reasoning
	model, complete                              string
}

// loadManifest reads dir's MANIFEST.tsv, skipping the test when the shared
// corpus is absent.
func loadManifest(t *testing.T, dir string) []corpusRow {
	t.Helper()

	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if os.IsNotExist(err) && dir == corpusDir {
		t.Skipf("usage corpus not found at %s; the corpus tests need the shared folder beside the module", corpusDir)
	}
	require.NoError(t, err)
	defer f.Close()

	r := csv.NewReader(f)
	r.Comma = '\t'
	r.LazyQuotes = true
	records, err := r.ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, records)

	header := records[0]
	require.Equal(t, []string{"file", "content_type", "content_encoding", "provider", "input", "output", "total",
		"cached_input", "cache_creation_input", "reasoning", "model", "complete"}, header[:12])

	rows := make([]corpusRow, 0, len(records)-1)
	for _, rec := range records[1:] {
		row := corpusRow{
			file: rec[0], contentType: rec[1], contentEncoding: rec[2], provider: rec[3],
			model: rec[10], complete: rec[11],
		}
		copy(row.counts[:], rec[4:10])
		rows = append(rows, row)
	}
	return rows
}

// corpusURL returns the request URL a client of row's provider would use.
// Hosts only name the provider; nothing is sent anywhere.
func corpusURL(row corpusRow) string {
	stream := strings.HasSuffix(row.file, ".sse") || strings.HasSuffix(row.file, ".eventstream")

	switch row.provider {
	case "openai":
		return "https://api.openai.com/v1/chat/completions"
	case "azure-openai":
		return "https://example.openai.azure.com/openai/deployments/chat/chat/completions?api-version=2024-10-21"
	case "anthropic":
		return "https://api.anthropic.com/v1/messages"
	case "gemini":
		// The URL names another model, so the test shows the body's wins.
		return "https://generativelanguage.googleapis.com/v1beta/models/gemini-url-model:generateContent"
	case "aws-bedrock":
		operation := "converse"
		if stream {
			operation = "converse-stream"
		}
		return "https://bedrock-runtime.us-east-1.amazonaws.com/model/" + url.PathEscape(row.model) + "/" + operation
	case "databricks":
		return "https://adb-1234567890123456.7.azuredatabricks.net/serving-endpoints/databricks-llama/invocations"
	case "mistral":
		return "https://api.mistral.ai/v1/chat/completions"
	case "groq":
		return "https://api.groq.com/openai/v1/chat/completions"
	case "deepseek":
		return "https://api.deepseek.com/chat/completions"
	case "openrouter":
		return "https://openrouter.ai/api/v1/chat/completions"
	case "huggingface-router (together)":
		return "https://router.huggingface.co/together/v1/chat/completions"
	case "cohere":
		return "https://api.cohere.com/v2/chat"
	default:
		// Self-hosted servers (Ollama, TGI, gateways) are identified by the body.
		return "http://127.0.0.1:8080/v1/chat/completions"
	}
}

// feeders returns the chunkings each corpus body is fed in: whole, random
// sizes under several seeds, and one byte at a time.
func feeders() map[string]func(body []byte) [][]byte {
	out := map[string]func([]byte) [][]byte{
		"whole": func(b []byte) [][]byte { return [][]byte{b} },
		"bytes": func(b []byte) [][]byte {
			chunks := make([][]byte, len(b))
			for i := range b {
				chunks[i] = b[i : i+1]
			}
			return chunks
		},
	}
	for seed := uint64(1); seed <= 4; seed++ {
		maxSize := []int{7, 64, 512, 4096}[seed-1]
		out[fmt.Sprintf("seed%d", seed)] = func(b []byte) [][]byte {
			rng := rand.New(rand.NewPCG(seed, seed*7919))
			var chunks [][]byte
			for len(b) > 0 {
				n := min(1+rng.IntN(maxSize), len(b))
				chunks = append(chunks, b[:n])
				b = b[n:]
			}
			return chunks
		}
	}
	return out
}

func extractBody(t *testing.T, rawURL, contentType, contentEncoding string, chunks [][]byte) Result {
	t.Helper()

	req, err := http.NewRequest(http.MethodPost, rawURL, nil)
	require.NoError(t, err)
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}}
	resp.Header.Set("Content-Type", contentType)
	if contentEncoding != "" {
		resp.Header.Set("Content-Encoding", contentEncoding)
	}

	x, ok := NewExtractor(req, resp)
	require.True(t, ok, "content type %q must be meterable", contentType)
	for _, c := range chunks {
		n, err := x.Write(c)
		require.NoError(t, err)
		require.Equal(t, len(c), n)
	}
	return x.Finish(true)
}

func TestExtractorCorpus(t *testing.T) {
	runManifest(t, corpusDir)
}

func TestExtractorTestdata(t *testing.T) {
	runManifest(t, testdataDir)
}

// runManifest extracts every body that dir's manifest lists, in every
// chunking, and compares each non-empty manifest column.
func runManifest(t *testing.T, dir string) {
	rows := loadManifest(t, dir)

	for _, row := range rows {
		body, err := os.ReadFile(filepath.Join(dir, row.file))
		require.NoError(t, err)

		for name, feed := range feeders() {
			t.Run(row.file+"/"+name, func(t *testing.T) {
				got := extractBody(t, corpusURL(row), row.contentType, row.contentEncoding, feed(body))
				assertCorpusRow(t, row, got)
			})
		}
	}
}

func assertCorpusRow(t *testing.T, row corpusRow, got Result) {
	t.Helper()

	assert.Equal(t, row.provider, got.Provider, "provider")
	if row.model != "" {
		assert.Equal(t, row.model, got.Model, "model")
	}
	if row.complete != "" {
		assert.Equal(t, row.complete == "true", got.Complete, "complete")
	}

	names := [6]string{"input", "output", "total", "cached_input", "cache_creation_input", "reasoning"}
	values := [6]int64{got.Usage.InputTokens, got.Usage.OutputTokens, got.Usage.TotalTokens,
		got.Usage.CachedInputTokens, got.Usage.CacheCreationInputTokens, got.Usage.ReasoningTokens}

	anyCount := false
	for i, want := range row.counts {
		if want == "" {
			continue
		}
		anyCount = true
		n, err := strconv.ParseInt(want, 10, 64)
		require.NoError(t, err, "manifest %s column", names[i])
		assert.Equal(t, n, values[i], names[i])
	}

	if !anyCount {
		assert.False(t, got.Found, "a body without usage must report Found=false")
		return
	}
	assert.True(t, got.Found, "found")
	if got.Usage.Raw != nil {
		assert.LessOrEqual(t, len(got.Usage.Raw), MaxRawBytes, "raw usage size")
		assert.Equal(t, byte('{'), got.Usage.Raw[0], "raw usage is an object")
	}
}
