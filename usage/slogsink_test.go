package usage

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSlogSinkLogsOneRecordPerEvent(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sink := NewSlogSink(logger, WithSlogLevel(slog.LevelDebug), WithSlogMessage("llm usage"))

	missing := testEvent(t, "id-2", 2, "claude", 0, 0)
	missing.Source = SourceMissing
	missing.Warnings = []string{"stream ended early"}
	require.NoError(t, sink.Send(context.Background(), []Event{testEvent(t, "id-1", 1, "gpt-4o", 10, 3), missing}))

	assert.NotContains(t, out.String(), "token-1")
	assert.NotContains(t, out.String(), "token-2")

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2)

	var first, second map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &second))

	assert.Equal(t, "DEBUG", first["level"])
	assert.Equal(t, "llm usage", first["msg"])
	assert.Equal(t, "id-1", first["id"])
	assert.Equal(t, "acme_crew_gen/0.1.0", first["product"])
	assert.Equal(t, "user-1@example.com", first["subject"])
	assert.Equal(t, "gpt-4o", first["model"])
	usage, ok := first["usage"].(map[string]any)
	require.True(t, ok)
	assert.InDelta(t, 10, usage["input_tokens"], 0)
	assert.InDelta(t, 3, usage["output_tokens"], 0)

	assert.Equal(t, "missing", second["source"])
	assert.Equal(t, []any{"stream ended early"}, second["warnings"])
}

func TestSlogSinkRespectsLevel(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn}))

	require.NoError(t, NewSlogSink(logger).Send(context.Background(), []Event{testEvent(t, "id-1", 1, "m", 1, 1)}))
	assert.Empty(t, out.String())

	require.NoError(t, NewSlogSink(logger, WithSlogLevel(slog.LevelWarn)).Send(context.Background(), []Event{testEvent(t, "id-1", 1, "m", 1, 1)}))
	assert.Contains(t, out.String(), "id=id-1")
}

func TestSlogSinkNilLoggerDiscards(t *testing.T) {
	assert.NoError(t, NewSlogSink(nil).Send(context.Background(), []Event{testEvent(t, "id-1", 1, "m", 1, 1)}))
}
