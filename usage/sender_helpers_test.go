package usage

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/authctx"
	"github.com/httpmeter/httpmeter/product"
)

// recordingSink stores a copy of every batch it accepts. When fail is set it
// is called before accepting and its error is returned instead.
type recordingSink struct {
	mu      sync.Mutex
	batches [][]Event
	calls   [][]string
	fail    func(ctx context.Context, call int, events []Event) error
}

func (r *recordingSink) Send(ctx context.Context, events []Event) error {
	r.mu.Lock()
	call := len(r.calls)
	ids := make([]string, len(events))
	for i := range events {
		ids[i] = events[i].ID
	}
	r.calls = append(r.calls, ids)
	fail := r.fail
	r.mu.Unlock()

	if fail != nil {
		if err := fail(ctx, call, events); err != nil {
			return err
		}
	}

	r.mu.Lock()
	r.batches = append(r.batches, append([]Event(nil), events...))
	r.mu.Unlock()
	return nil
}

// delivered returns every accepted event in delivery order.
func (r *recordingSink) delivered() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []Event
	for _, b := range r.batches {
		all = append(all, b...)
	}
	return all
}

// waitForCalls waits until Send has been called n times, for example until
// a blocking sink holds the worker inside Send.
func (r *recordingSink) waitForCalls(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.calls) == n
	}, 2*time.Second, time.Millisecond, "the sink was not called %d times", n)
}

func (r *recordingSink) batchesCopy() [][]Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]Event(nil), r.batches...)
}

func testProduct(t testing.TB, feature string) product.Product {
	t.Helper()
	app, err := product.NewApp("acme", "0.1.0")
	require.NoError(t, err)
	p, err := app.Product(feature)
	require.NoError(t, err)
	return p
}

// testEvent returns a reported event of user n with the given token counts.
func testEvent(t testing.TB, id string, user int, model string, input, output int64) Event {
	return Event{
		ID:      id,
		Time:    time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC),
		Product: testProduct(t, "crew_gen"),
		Credential: authctx.Credential{
			Token:   fmt.Sprintf("token-%d", user),
			Subject: fmt.Sprintf("user-%d@example.com", user),
			Host:    "https://workspace.example.com",
			Method:  authctx.MethodOnBehalfOf,
		},
		Method:   "POST",
		Host:     "llm.example.com",
		Path:     "/v1/chat/completions",
		Status:   200,
		Provider: "openai",
		Model:    model,
		Usage:    Usage{InputTokens: input, OutputTokens: output, TotalTokens: input + output},
		Source:   SourceReported,
		Complete: true,
		Count:    1,
	}
}

// sumUsage adds the usage of events and their counts.
func sumUsage(events []Event) (Usage, int) {
	var total Usage
	count := 0
	for _, e := range events {
		total = total.Add(e.Usage)
		count += e.Count
	}
	return total, count
}

func closeSender(t testing.TB, s *Sender) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Close(ctx))
}
