package usage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests in this file try to break the queue byte pool, pushAnywhere, the
// goroutine per Sink.Send, the Flush and Close accounting, token redaction
// and the JSON sink's user info and deadline handling.

// requireQueueIdle checks that every shard of s is empty and that every
// byte a shard borrowed is back in the spare pool, which then contains spare bytes again.
func requireQueueIdle(t *testing.T, s *Sender, spare int64) {
	t.Helper()
	assert.Equal(t, spare, s.queue.spareBytes.Load(), "spare bytes differ from their start after Close")
	for i := range s.queue.shards {
		sh := &s.queue.shards[i]
		sh.mu.Lock()
		length, bytes, borrowed, overflow := sh.length, sh.bytes, sh.borrowed, sh.hasOverflow
		sh.mu.Unlock()
		assert.Zero(t, length, "shard %d still holds events", i)
		assert.Zero(t, bytes, "shard %d still counts bytes", i)
		assert.Zero(t, borrowed, "shard %d still counts borrowed bytes", i)
		assert.False(t, overflow, "shard %d still holds an overflow total", i)
	}
}

// largeEvent returns an event of user and model whose Raw usage
// object has about size bytes.
func largeEvent(t testing.TB, user int, model string, size int) Event {
	e := testEvent(t, "", user, model, 1, 1)
	e.Usage.Raw = json.RawMessage(`{"pad":"` + strings.Repeat("x", size) + `"}`)
	return e
}

// countingSink accepts every batch and sums the Count of its events.
type countingSink struct {
	events atomic.Int64
}

func (c *countingSink) Send(_ context.Context, events []Event) error {
	c.events.Add(countEvents(events))
	return nil
}

// TestQueueBytesRestoredAfterLoad records events of many keys and sizes,
// some larger than a shard's share of the byte bound, from many goroutines
// while Stats is read. After Close, every borrowed byte must be back in the
// spare pool exactly once, and every recorded event must be sent or dropped.
func TestQueueBytesRestoredAfterLoad(t *testing.T) {
	const producers, perProducer = 16, 1500

	shards := min(4*runtime.GOMAXPROCS(0), 64)
	queueBytes := int64(shards) * 2 * (eventOverhead + 600)
	sink := &countingSink{}
	s := NewSender(sink, WithQueueEvents(64), WithQueueBytes(queueBytes), WithMaxFoldKeys(4),
		WithBatchSize(8), WithBatchInterval(time.Millisecond))
	spare := s.queue.spareBytes.Load()
	require.Positive(t, spare)

	stop := make(chan struct{})
	var watcher sync.WaitGroup
	var negative atomic.Int64
	var spareOutOfRange atomic.Int64
	watcher.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			st := s.Stats()
			if st.Pending < 0 || st.Queued < 0 {
				negative.Add(1)
			}
			if now := s.queue.spareBytes.Load(); now < 0 || now > spare {
				spareOutOfRange.Add(1)
			}
		}
	})

	var wg sync.WaitGroup
	for g := range producers {
		wg.Go(func() {
			for i := range perProducer {
				size := 16 << (i % 7) // 16 B to 1 KiB
				s.Record(largeEvent(t, g, fmt.Sprintf("m-%d-%d", g, i%11), size))
			}
		})
	}
	wg.Wait()
	require.NoError(t, closeWithDeadline(t, s, 10*time.Second))
	close(stop)
	watcher.Wait()

	assert.Zero(t, negative.Load(), "Stats showed a negative Pending or Queued under load")
	assert.Zero(t, spareOutOfRange.Load(), "spare bytes left [0, %d] under load", spare)
	requireQueueIdle(t, s, spare)

	st := s.Stats()
	assert.Equal(t, int64(producers*perProducer), st.Recorded)
	assert.Zero(t, st.Pending)
	assert.Zero(t, st.Failed)
	assert.Equal(t, st.Recorded, st.Sent+st.Dropped.Total())
	assert.Equal(t, sink.events.Load(), st.Sent, "the sink received a different number of events than Sent")
}

// closeWithDeadline closes s with a deadline of d from now.
func closeWithDeadline(t testing.TB, s *Sender, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return s.Close(ctx)
}

// TestRecordRacingCloseKeepsCounts records events of distinct keys, which
// reach pushAnywhere once the fold table is full, while Close runs. Every
// Record must count its event once: sent, or dropped as closed or for lack
// of room.
func TestRecordRacingCloseKeepsCounts(t *testing.T) {
	for round := range 20 {
		sink := &countingSink{}
		s := NewSender(sink, WithQueueEvents(32), WithMaxFoldKeys(1), WithBatchSize(4),
			WithBatchInterval(time.Millisecond))
		spare := s.queue.spareBytes.Load()

		var recorded atomic.Int64
		start := make(chan struct{})
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				<-start
				for i := range 400 {
					e := testEvent(t, "", g, fmt.Sprintf("m-%d", i), 1, 1)
					e.Count = 1 + i%3
					s.Record(e)
					recorded.Add(int64(e.Count))
				}
			})
		}
		close(start)
		time.Sleep(time.Duration(round%5) * 100 * time.Microsecond)
		closeErr := closeWithDeadline(t, s, 10*time.Second)
		wg.Wait()

		require.NoError(t, closeErr, "round %d", round)
		requireQueueIdle(t, s, spare)
		st := s.Stats()
		assert.Equal(t, recorded.Load(), st.Recorded, "round %d", round)
		assert.Zero(t, st.Pending, "round %d", round)
		assert.Equal(t, st.Recorded, st.Sent+st.Dropped.Total(), "round %d", round)
		assert.Equal(t, sink.events.Load(), st.Sent, "round %d", round)
	}
}

// TestEventLargerThanBoundNeverQueued records events larger than the whole
// byte bound, each of its own key, into an empty queue whose fold table holds
// one key. Shard totals and the fold table take some, and pushAnywhere must
// find no room for the rest. No byte may be borrowed for them.
func TestEventLargerThanBoundNeverQueued(t *testing.T) {
	const queueBytes = 4096
	sink := &recordingSink{}
	s := NewSender(sink, WithQueueBytes(queueBytes), WithMaxFoldKeys(1), WithBatchInterval(time.Hour))
	spare := s.queue.spareBytes.Load()

	const events = 10
	for i := range events {
		s.Record(largeEvent(t, 1, fmt.Sprintf("m-%d", i), 2*queueBytes))
	}
	assert.Equal(t, spare, s.queue.spareBytes.Load(), "an event larger than the bound borrowed spare bytes")

	st := s.Stats()
	assert.Zero(t, st.Queued)
	assert.Equal(t, int64(events), st.Folded+st.Dropped.FoldKeysFull)
	require.NoError(t, closeWithDeadline(t, s, 5*time.Second))
	requireQueueIdle(t, s, spare)

	delivered := sink.delivered()
	assert.Len(t, delivered, int(st.Folded))
	for _, e := range delivered {
		assert.Nil(t, e.Usage.Raw, "a folded total kept a Raw object larger than the bound")
		assert.Equal(t, 1, e.Count)
	}
}

// TestFlushReportsBatchAbandonedBeforeItsTurn holds an event inside Sink.Send
// and calls Flush, which waits for the busy worker, then Close with a short
// deadline. Close cancels the event's delivery. The event was recorded before
// Flush, so Flush must return an error, whichever of the stop and Flush
// requests the worker serves first. One worker serves both at random, so the
// test repeats the race.
func TestFlushReportsBatchAbandonedBeforeItsTurn(t *testing.T) {
	const rounds = 24
	nilFlushes := 0
	for round := range rounds {
		sink := &recordingSink{fail: func(ctx context.Context, _ int, _ []Event) error {
			<-ctx.Done()
			return ctx.Err()
		}}
		s := NewSender(sink, WithWorkers(1), WithBatchSize(1), WithBatchInterval(time.Hour))
		s.Record(testEvent(t, fmt.Sprint("id-", round), 1, "gpt-4o", 1, 1))
		sink.waitForCalls(t, 1)

		flushed := make(chan error, 1)
		go func() { flushed <- s.Flush(context.Background()) }()
		time.Sleep(10 * time.Millisecond)

		require.Error(t, closeWithDeadline(t, s, 30*time.Millisecond))
		var flushErr error
		select {
		case flushErr = <-flushed:
		case <-time.After(5 * time.Second):
			require.FailNow(t, "Flush did not return after Close")
		}
		require.Equal(t, int64(1), s.Stats().Dropped.Shutdown)
		if flushErr == nil {
			nilFlushes++
		}
	}
	assert.Zero(t, nilFlushes, "Flush returned nil in %d of %d rounds although Close cancelled its event", nilFlushes, rounds)
}

// loggedSecretError is a sink error whose message is safe but whose log
// value shows the token. slog handlers write the LogValue of an error that
// implements slog.LogValuer, not its message.
type loggedSecretError struct {
	token string
}

func (e *loggedSecretError) Error() string { return "usage: collector rejected the request" }

func (e *loggedSecretError) LogValue() slog.Value {
	return slog.GroupValue(slog.String("authorization", "Bearer "+e.token))
}

// marshaledSecretError is a sink error whose JSON form shows the token, which
// slog.JSONHandler writes in place of the message.
type marshaledSecretError struct {
	token string
}

func (e *marshaledSecretError) Error() string { return "usage: collector rejected the request" }

func (e *marshaledSecretError) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"authorization": "Bearer " + e.token})
}

// TestSenderLogsNoTokenFromErrorForms returns sink errors that carry the
// batch's token in their message, their slog log value, their JSON form or
// a panic value, on the retry and the fail paths. WithSenderLogger promises
// that log records never carry a token.
func TestSenderLogsNoTokenFromErrorForms(t *testing.T) {
	const token = "token-1"
	cases := map[string]func(call int) error{
		"message on retry then fail": func(int) error {
			return fmt.Errorf("dump: Authorization: Bearer %s", token)
		},
		"partial with message": func(call int) error {
			if call == 0 {
				return &PartialError{Delivered: 1, Err: fmt.Errorf("dump: Bearer %s", token)}
			}
			return Permanent(fmt.Errorf("dump: Bearer %s", token))
		},
		"panic value": func(int) error {
			panic("sink: bad credential " + token)
		},
		"partial then Goexit": func(call int) error {
			if call == 0 {
				return &PartialError{Delivered: 1, Err: fmt.Errorf("dump: Bearer %s", token)}
			}
			runtime.Goexit()
			return nil
		},
		"slog LogValuer": func(int) error {
			return &loggedSecretError{token: token}
		},
		"json Marshaler": func(int) error {
			return &marshaledSecretError{token: token}
		},
	}
	for name, fail := range cases {
		t.Run(name, func(t *testing.T) {
			var logs lockedBuffer
			logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			sink := &recordingSink{fail: func(_ context.Context, call int, _ []Event) error { return fail(call) }}
			s := NewSender(sink, WithSenderLogger(logger), WithBatchInterval(time.Hour),
				WithRetry(2, time.Millisecond, time.Millisecond))
			for i := range 3 {
				s.Record(testEvent(t, fmt.Sprint("id-", i), 1, "gpt-4o", 1, 1))
			}
			flushErr := s.Flush(context.Background())
			closeErr := closeWithDeadline(t, s, 5*time.Second)
			require.NoError(t, flushErr)
			require.NoError(t, closeErr)

			st := s.Stats()
			assert.Equal(t, int64(3), st.Sent+st.Failed, "every event must end sent or failed")
			assert.Zero(t, st.Pending)

			text := logs.String()
			assert.Contains(t, text, "usage: batch failed")
			assert.NotContains(t, text, token, "a log record carries the batch's token")
		})
	}
}

// TestRecordClampsCountAndAddsID records events with out-of-range counts and
// no ID. Record promises to take a Count below 1 as 1 and one above
// math.MaxInt32 as math.MaxInt32, and to give each event without an ID a
// random one.
func TestRecordClampsCountAndAddsID(t *testing.T) {
	sink := &recordingSink{}
	s := NewSender(sink, WithBatchInterval(time.Hour))

	counts := []int{math.MaxInt, math.MaxInt32 + 1, -5, 0, 7}
	want := []int{math.MaxInt32, math.MaxInt32, 1, 1, 7}
	for i, count := range counts {
		e := testEvent(t, "", 1, fmt.Sprint("m-", i), 1, 1)
		e.Count = count
		s.Record(e)
	}
	require.NoError(t, s.Flush(context.Background()))
	require.NoError(t, closeWithDeadline(t, s, 5*time.Second))

	delivered := sink.delivered()
	require.Len(t, delivered, len(counts))
	ids := map[string]bool{}
	var total int64
	for _, e := range delivered {
		// Events of different shards may arrive in any order, so the model
		// names the recorded count.
		var i int
		_, err := fmt.Sscanf(e.Model, "m-%d", &i)
		require.NoError(t, err)
		assert.Equal(t, want[i], e.Count, "count %d", counts[i])
		assert.NotEmpty(t, e.ID)
		assert.False(t, ids[e.ID], "ID %s given twice", e.ID)
		ids[e.ID] = true
		total += int64(e.Count)
	}

	st := s.Stats()
	assert.Equal(t, total, st.Recorded)
	assert.Equal(t, total, st.Sent)
}

// TestSlogSinkLogsNoToken sends an event through a SlogSink, whose doc
// promises that records name the credential by subject, never by token.
func TestSlogSinkLogsNoToken(t *testing.T) {
	var logs lockedBuffer
	sink := NewSlogSink(slog.New(slog.NewJSONHandler(&logs, nil)))
	e := testEvent(t, "id-1", 1, "gpt-4o", 1, 1)
	e.Warnings = []string{"clamped"}
	require.NoError(t, sink.Send(context.Background(), []Event{e}))

	text := logs.String()
	assert.Contains(t, text, e.Credential.Subject)
	assert.NotContains(t, text, e.Credential.Token)
}

// TestJSONSinkUserInfoVariantsHidden sends to loopback endpoints whose URL
// carries user info in several forms, against a server that fails with 503
// and against a closed port. Neither the error nor any log record, down to
// go-retryablehttp's debug lines, may show a part of the user info.
func TestJSONSinkUserInfoVariantsHidden(t *testing.T) {
	failing := newCollector(t, func(w http.ResponseWriter, _ int) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})
	down := httptest.NewServer(http.NotFoundHandler())
	downAddress := down.Listener.Addr().String()
	down.Close()

	cases := []struct {
		name     string
		scheme   string
		userInfo string
		secrets  []string
	}{
		{"user only", "http", "secretuser", []string{"secretuser"}},
		{"user and password", "http", "secretuser:secretpass", []string{"secretuser", "secretpass"}},
		{"password only", "http", ":secretpass", []string{"secretpass"}},
		{"empty password", "http", "secretuser:", []string{"secretuser"}},
		{"escaped characters", "http", "secret%2Fuser:secret%40pass", []string{"secret%2Fuser", "secret/user", "secret%40pass", "secret@pass"}},
		{"raw at sign in password", "http", "secretuser:secret@pass", []string{"secretuser", "secret@pass", "secret%40pass"}},
		{"upper case scheme", "HTTP", "secretuser:secretpass", []string{"secretuser", "secretpass"}},
		{"sub-delims", "http", "secret'user:secret!pass", []string{"secret'user", "secret!pass", "secret%27user"}},
		{"escaped space in user", "http", "secret%20user:secretpass", []string{"secret user", "secret%20user", "secretpass"}},
		{"escaped question mark in user", "http", "secret%3Fuser:secretpass", []string{"secret?user", "secret%3Fuser", "secretpass"}},
		{"escaped slash without password", "http", "secret%2Fuser", []string{"secret/user", "secret%2Fuser"}},
	}
	targets := map[string]string{
		"503":                failing.Listener.Addr().String(),
		"connection refused": downAddress,
	}
	for _, tc := range cases {
		for target, address := range targets {
			t.Run(tc.name+"/"+target, func(t *testing.T) {
				var logs lockedBuffer
				logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				sink, err := NewJSONSink(tc.scheme+"://"+tc.userInfo+"@"+address+"/v1/usage?key=secretquery",
					WithJSONRetry(1, time.Millisecond, time.Millisecond), WithJSONLogger(logger))
				require.NoError(t, err)
				defer sink.CloseIdleConnections()

				err = sink.Send(context.Background(), []Event{testEvent(t, "id-1", 1, "m", 1, 1)})
				require.Error(t, err)
				assert.False(t, IsPermanent(err), "a %s must stay retryable: %v", target, err)

				text := logs.String()
				assert.Contains(t, text, "go-retryablehttp")
				for _, secret := range append(tc.secrets, "secretquery") {
					assert.NotContains(t, err.Error(), secret)
					assert.NotContains(t, text, secret)
				}

				// Every part of the user info starts with "secret", so this
				// also catches a user name cut at a delimiter.
				assert.NotContains(t, err.Error(), "secret", "the error shows part of the user info")
				assert.NotContains(t, text, "secret", "a log record shows part of the user info")
			})
		}
	}
}

// TestJSONSinkDeadlineEdges checks the JSON sink's deadline rule at its
// edges: no deadline, a deadline already past, a deadline shorter than the
// smallest wait, a Retry-After past a short deadline and a wait that fits.
func TestJSONSinkDeadlineEdges(t *testing.T) {
	type result struct {
		requests  int
		err       error
		elapsed   time.Duration
		permanent bool
	}
	run := func(t *testing.T, deadline time.Duration, respond func(w http.ResponseWriter, attempt int) bool, opts ...JSONOption) result {
		c := newCollector(t, respond)
		sink := newTestJSONSink(t, c, opts...)
		ctx := context.Background()
		if deadline != 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, deadline)
			defer cancel()
		}
		start := time.Now()
		err := sink.Send(ctx, []Event{testEvent(t, "id-1", 1, "m", 1, 1)})
		elapsed := time.Since(start)
		keys, _, _ := c.snapshot()
		return result{requests: len(keys), err: err, elapsed: elapsed, permanent: IsPermanent(err)}
	}
	unavailable := func(retryAfter string) func(w http.ResponseWriter, attempt int) bool {
		return func(w http.ResponseWriter, _ int) bool {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
	}

	t.Run("no deadline", func(t *testing.T) {
		r := run(t, 0, unavailable(""), WithJSONRetry(2, time.Millisecond, time.Millisecond))
		assert.Equal(t, 3, r.requests, "without a deadline every retry must be made")
		require.Error(t, r.err)
		assert.False(t, r.permanent)
	})

	t.Run("past deadline", func(t *testing.T) {
		r := run(t, -time.Second, unavailable(""))
		assert.Zero(t, r.requests)
		require.Error(t, r.err)
		assert.ErrorIs(t, r.err, context.DeadlineExceeded)
		assert.False(t, r.permanent)
		assert.Less(t, r.elapsed, time.Second)
	})

	t.Run("deadline below smallest wait", func(t *testing.T) {
		r := run(t, 100*time.Millisecond, unavailable(""), WithJSONRetry(3, time.Second, time.Second))
		assert.Equal(t, 1, r.requests)
		require.Error(t, r.err)
		assert.Contains(t, r.err.Error(), "503")
		assert.False(t, r.permanent)
		assert.Less(t, r.elapsed, 100*time.Millisecond, "Send must return before the deadline")
	})

	t.Run("retry-after past short deadline", func(t *testing.T) {
		r := run(t, 300*time.Millisecond, func(w http.ResponseWriter, _ int) bool {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		})
		assert.Equal(t, 1, r.requests)
		retryAfter, ok := errors.AsType[*RetryAfterError](r.err)
		require.True(t, ok, "want a RetryAfterError, got %v", r.err)
		assert.Equal(t, 2*time.Second, retryAfter.After)
		assert.Less(t, r.elapsed, 300*time.Millisecond)
	})

	t.Run("wait that fits", func(t *testing.T) {
		r := run(t, 3*time.Second, func(w http.ResponseWriter, attempt int) bool {
			if attempt > 0 {
				return false
			}
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}, WithJSONMaxRetryAfter(time.Minute))
		assert.Equal(t, 2, r.requests)
		assert.NoError(t, r.err)
		assert.GreaterOrEqual(t, r.elapsed, time.Second, "the 503's Retry-After was not honoured")
	})
}

// TestSenderRetriesJSONSinkRetryAfter sends through a JSON sink to
// a collector whose first response is a 429 with a Retry-After longer than the
// Sender's batch timeout. The sink must return at once, and the Sender must
// retry the batch within its deadline instead of failing it.
func TestSenderRetriesJSONSinkRetryAfter(t *testing.T) {
	c := newCollector(t, func(w http.ResponseWriter, attempt int) bool {
		if attempt > 0 {
			return false
		}
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	})
	sink := newTestJSONSink(t, c)
	s := NewSender(sink, WithBatchTimeout(time.Second), WithRetry(5, time.Millisecond, 100*time.Millisecond),
		WithBatchInterval(time.Hour))
	s.Record(testEvent(t, "id-1", 1, "gpt-4o", 1, 1))

	start := time.Now()
	require.NoError(t, s.Flush(context.Background()))
	elapsed := time.Since(start)
	require.NoError(t, closeWithDeadline(t, s, 5*time.Second))

	st := s.Stats()
	assert.Equal(t, int64(1), st.Sent)
	assert.Zero(t, st.Failed)
	assert.Equal(t, int64(1), st.Retried)
	keys, _, _ := c.snapshot()
	assert.Len(t, keys, 2)
	assert.Less(t, elapsed, time.Second, "the batch waited for the Retry-After inside the sink")
}

// TestNewJSONSinkErrorsHideUserInfoForms passes endpoints that NewJSONSink
// rejects and that carry a user name and password in several forms, such as
// a URL whose "http://" was left out. NewJSONSink promises that its errors
// never show the user info of endpoint.
func TestNewJSONSinkErrorsHideUserInfoForms(t *testing.T) {
	endpoints := map[string]string{
		"scheme left out":       "secretuser:secretpass@127.0.0.1:8080/v1/usage",
		"scheme-relative":       "//secretuser:secretpass@127.0.0.1:8080/v1/usage",
		"opaque":                "http:secretuser:secretpass@127.0.0.1:8080",
		"other scheme":          "ftp://secretuser:secretpass@127.0.0.1/v1/usage",
		"no host":               "http://secretuser:secretpass@/v1/usage",
		"invalid port":          "http://secretuser:secretpass@127.0.0.1:http/v1/usage",
		"invalid escape":        "http://secretuser:secret%zzpass@127.0.0.1/v1/usage",
		"scheme left out, ipv6": "secretuser:secretpass@[::1]:8080/v1/usage",
	}
	for name, endpoint := range endpoints {
		t.Run(name, func(t *testing.T) {
			sink, err := NewJSONSink(endpoint)
			require.Error(t, err, "NewJSONSink accepted %q", endpoint)
			assert.Nil(t, sink)
			assert.NotContains(t, err.Error(), "secret", "the error shows part of the user info")
		})
	}
}

// panickingMessageError is a sink error whose Error method panics, as the
// method of a struct with a nil field can.
type panickingMessageError struct {
	cause *PermanentError
}

func (e *panickingMessageError) Error() string {
	return "usage: collector failed: " + e.cause.Err.Error()
}

// brokenSinkErrors returns the errors of a buggy sink by case name: typed
// nil pointers in a non-nil error, and an error whose Error method panics.
func brokenSinkErrors() map[string]func() error {
	return map[string]func() error{
		"typed nil PartialError": func() error {
			var partial *PartialError
			return partial
		},
		"typed nil RetryAfterError": func() error {
			var retryAfter *RetryAfterError
			return retryAfter
		},
		"panicking Error method": func() error {
			return &panickingMessageError{}
		},
	}
}

// brokenSinkCaseVariable names the environment variable that makes
// TestSenderSurvivesBrokenSinkErrors run one case in a child process.
const brokenSinkCaseVariable = "USAGE_BROKEN_SINK_CASE"

// TestSenderSurvivesBrokenSinkErrors returns the errors of a buggy sink to a
// Sender. sendOnce promises that a broken sink cannot take the process
// down, so each batch must end as failed and Close must return. Each case
// runs in a child process, because a panic on a worker goroutine ends the
// whole test binary.
func TestSenderSurvivesBrokenSinkErrors(t *testing.T) {
	if name := os.Getenv(brokenSinkCaseVariable); name != "" {
		runBrokenSinkCase(t, name)
		return
	}

	for name := range brokenSinkErrors() {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestSenderSurvivesBrokenSinkErrors$", "-test.count=1")
			cmd.Env = append(os.Environ(), brokenSinkCaseVariable+"="+name)
			output, err := cmd.CombinedOutput()
			assert.NoError(t, err, "the child process for %q failed:\n%s", name, firstLines(string(output), 12))
		})
	}
}

// runBrokenSinkCase records three events into a Sender whose sink returns
// the named broken error, and checks that Close returns and counts them.
func runBrokenSinkCase(t *testing.T, name string) {
	brokenError, ok := brokenSinkErrors()[name]
	require.True(t, ok, "unknown case %q", name)

	sink := &recordingSink{fail: func(context.Context, int, []Event) error { return brokenError() }}
	s := NewSender(sink, WithBatchInterval(time.Hour), WithRetry(2, time.Millisecond, time.Millisecond))
	for i := range 3 {
		s.Record(testEvent(t, fmt.Sprint("id-", i), 1, "gpt-4o", 1, 1))
	}
	require.NoError(t, s.Flush(context.Background()))
	_ = closeWithDeadline(t, s, 5*time.Second)

	st := s.Stats()
	assert.Equal(t, int64(3), st.Sent+st.Failed)
	assert.Zero(t, st.Pending)
}

// firstLines returns the first n lines of text.
func firstLines(text string, n int) string {
	lines := strings.SplitN(text, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
