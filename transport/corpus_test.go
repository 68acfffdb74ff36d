package transport

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/usage"
)

// corpusDir is the shared corpus of recorded LLM response bodies, read in
// place. Its MANIFEST.tsv lists the usage a correct extractor reports.
const corpusDir = "../../shared/corpus/usage"

// corpusRow is one line of MANIFEST.tsv.
type corpusRow struct {
	file, contentType, contentEncoding, provider string
	counts                                       [6]string // input, output, total, cached_input, cache_creation_input, reasoning
	model, complete                              string
}

func readCorpusManifest(t *testing.T) []corpusRow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if os.IsNotExist(err) {
		t.Skipf("usage corpus not found at %s: the corpus test needs the shared folder beside the module", corpusDir)
	}
	require.NoError(t, err)

	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	require.NotEmpty(t, lines)
	header := strings.Split(lines[0], "\t")
	require.Equal(t, []string{"file", "content_type", "content_encoding", "provider", "input", "output", "total",
		"cached_input", "cache_creation_input", "reasoning", "model", "complete"}, header[:12], "manifest columns")

	var rows []corpusRow
	for i, line := range lines[1:] {
		cols := strings.Split(line, "\t")
		require.GreaterOrEqual(t, len(cols), 12, "manifest line %d", i+2)
		row := corpusRow{file: cols[0], contentType: cols[1], contentEncoding: cols[2], provider: cols[3], model: cols[10], complete: cols[11]}
		copy(row.counts[:], cols[4:10])
		rows = append(rows, row)
	}
	return rows
}

// corpusProviderHosts maps a manifest provider to the API host name a real
// client sends in its Host header. Providers that run on the caller's own
// machine (Ollama, TGI, Anthropic-compatible servers) have none.
var corpusProviderHosts = map[string]string{
	"openai":                        "api.openai.com",
	"azure-openai":                  "acme.openai.azure.com",
	"anthropic":                     "api.anthropic.com",
	"gemini":                        "generativelanguage.googleapis.com",
	"aws-bedrock":                   "bedrock-runtime.us-east-1.amazonaws.com",
	"databricks":                    "adb-1.azuredatabricks.net",
	"mistral":                       "api.mistral.ai",
	"groq":                          "api.groq.com",
	"deepseek":                      "api.deepseek.com",
	"openrouter":                    "openrouter.ai",
	"huggingface-router (together)": "router.huggingface.co",
	"cohere":                        "api.cohere.com",
}

// corpusRequestPath returns the API path a real client requests for the
// body in file, so that the model or provider a path names is the real one.
func corpusRequestPath(row corpusRow) string {
	name := row.file
	model := row.model
	switch {
	case row.provider == "aws-bedrock":
		if model == "" {
			model = "us.amazon.nova-micro-v1:0"
		}
		if strings.HasSuffix(name, ".eventstream") {
			return "/model/" + model + "/converse-stream"
		}
		return "/model/" + model + "/converse"
	case row.provider == "gemini":
		if model == "" {
			model = "gemini-2.5-flash"
		}
		if strings.HasSuffix(name, ".sse") {
			return "/v1beta/models/" + model + ":streamGenerateContent?alt=sse"
		}
		if strings.Contains(name, "stream") {
			return "/v1beta/models/" + model + ":streamGenerateContent"
		}
		return "/v1beta/models/" + model + ":generateContent"
	case row.provider == "databricks":
		return "/serving-endpoints/" + model + "/invocations"
	case strings.HasPrefix(row.provider, "huggingface-router"):
		return "/together/v1/chat/completions"
	case strings.HasPrefix(name, "anthropic-"):
		return "/v1/messages"
	case strings.HasPrefix(name, "cohere-embed"):
		return "/v2/embed"
	case strings.HasPrefix(name, "cohere-"):
		return "/v2/chat"
	case strings.HasPrefix(name, "ollama-generate"):
		return "/api/generate"
	case strings.HasPrefix(name, "azure-openai"):
		return "/openai/deployments/chat/chat/completions?api-version=2024-10-21"
	case strings.HasPrefix(name, "openrouter-"):
		return "/api/v1/chat/completions"
	case strings.Contains(name, "-embeddings"):
		return "/v1/embeddings"
	case strings.Contains(name, "-responses"):
		return "/v1/responses"
	case strings.HasPrefix(name, "openai-completions"):
		return "/v1/completions"
	default:
		return "/v1/chat/completions"
	}
}

// errorStatusPattern finds the HTTP status in names such as
// "openai-error-429-insufficient-quota.json".
var errorStatusPattern = regexp.MustCompile(`-error-(\d{3})`)

func TestUsageCorpusThroughTransport(t *testing.T) {
	rows := readCorpusManifest(t)

	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		file := r.Header.Get("X-Corpus-File")
		body, err := os.ReadFile(filepath.Join(corpusDir, filepath.Base(file)))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", r.Header.Get("X-Corpus-Content-Type"))
		if enc := r.Header.Get("X-Corpus-Content-Encoding"); enc != "" {
			w.Header().Set("Content-Encoding", enc)
		}
		status, _ := strconv.Atoi(r.Header.Get("X-Corpus-Status"))
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	transport := newLoopbackTransport(t)

	for _, row := range rows {
		t.Run(row.file, func(t *testing.T) {
			log := &eventLog{}
			client := &http.Client{Transport: Usage(transport, log)}

			status := http.StatusOK
			if m := errorStatusPattern.FindStringSubmatch(row.file); m != nil {
				status, _ = strconv.Atoi(m[1])
			}

			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+corpusRequestPath(row), strings.NewReader(`{}`))
			require.NoError(t, err)
			req.Host = corpusProviderHosts[row.provider]
			req.Header.Set("X-Corpus-File", row.file)
			req.Header.Set("X-Corpus-Content-Type", row.contentType)
			req.Header.Set("X-Corpus-Content-Encoding", row.contentEncoding)
			req.Header.Set("X-Corpus-Status", strconv.Itoa(status))
			if row.contentEncoding != "" {
				// A client that sets Accept-Encoding itself receives the
				// encoded bytes, which the extractor must decode.
				req.Header.Set("Accept-Encoding", row.contentEncoding)
			}

			resp, err := client.Do(req)
			require.NoError(t, err)
			got := readAllAndClose(t, resp)
			want, err := os.ReadFile(filepath.Join(corpusDir, row.file))
			require.NoError(t, err)
			require.Equal(t, len(want), len(got), "the body reached the caller changed")
			require.Equal(t, status, resp.StatusCode)

			events := log.all()
			if status < 200 || status > 299 {
				assert.Empty(t, events, "a %d response was metered", status)
				return
			}
			require.Len(t, events, 1)
			requireCorpusEvent(t, row, events[0])
		})
	}
}

// requireCorpusEvent compares every non-empty manifest column with e.
func requireCorpusEvent(t *testing.T, row corpusRow, e usage.Event) {
	t.Helper()
	assert.Equal(t, row.provider, e.Provider, "provider")
	if row.model != "" {
		assert.Equal(t, row.model, e.Model, "model")
	}
	if row.complete != "" {
		assert.Equal(t, row.complete, strconv.FormatBool(e.Complete), "complete")
	}

	got := [6]int64{e.Usage.InputTokens, e.Usage.OutputTokens, e.Usage.TotalTokens,
		e.Usage.CachedInputTokens, e.Usage.CacheCreationInputTokens, e.Usage.ReasoningTokens}
	names := [6]string{"input", "output", "total", "cached_input", "cache_creation_input", "reasoning"}
	reported := false
	for i, cell := range row.counts {
		if cell == "" {
			continue
		}
		reported = true
		want, err := strconv.ParseInt(cell, 10, 64)
		require.NoError(t, err, "manifest %s %q", names[i], cell)
		assert.Equal(t, want, got[i], names[i])
	}

	wantSource := usage.SourceMissing
	if reported {
		wantSource = usage.SourceReported
	}
	assert.Equal(t, wantSource, e.Source, fmt.Sprintf("source (warnings %q)", e.Warnings))
}
