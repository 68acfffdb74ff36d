package httpmeter_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/httpmeter/httpmeter/internal/testservers"
	"github.com/httpmeter/httpmeter/product"
	"github.com/httpmeter/httpmeter/usage"
)

// corpusDir is the shared usage corpus, read in place from the module root.
const corpusDir = "../shared/corpus/usage"

// ownBodiesDir holds the bodies composed for these tests, so a clone without
// the corpus still runs every end-to-end case.
const ownBodiesDir = "testdata/e2e"

// manifestSet is one folder of recorded bodies with its manifest.
type manifestSet struct {
	name  string
	cases []testservers.Case
}

// loadManifests returns the project's own bodies and, when present, the
// shared corpus. A missing corpus is reported through skipCorpus, which the
// caller runs inside a subtest so that only that part is skipped.
func loadManifests(t *testing.T) (sets []manifestSet, skipCorpus func(t *testing.T)) {
	t.Helper()

	own, err := testservers.LoadManifest(ownBodiesDir)
	require.NoError(t, err)
	sets = append(sets, manifestSet{name: "testdata", cases: own})

	corpus, err := testservers.LoadManifest(corpusDir)
	if errors.Is(err, fs.ErrNotExist) {
		return sets, func(t *testing.T) {
			t.Skipf("usage corpus not found at %s (relative to the module root): only the bodies in %s ran", corpusDir, ownBodiesDir)
		}
	}
	require.NoError(t, err)
	return append(sets, manifestSet{name: "corpus", cases: corpus}), nil
}

// newApp returns the application "acme" at version 0.1.0.
func newApp(t testing.TB) product.App {
	t.Helper()
	app, err := product.NewApp("acme", "0.1.0")
	require.NoError(t, err)
	return app
}

// newProduct returns feature of app.
func newProduct(t testing.TB, app product.App, feature string) product.Product {
	t.Helper()
	p, err := app.Product(feature)
	require.NoError(t, err)
	return p
}

// eventLog is a usage.Recorder that keeps every event. It is safe for
// concurrent use.
type eventLog struct {
	mu     sync.Mutex
	events []usage.Event
}

func (l *eventLog) Record(e usage.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) Events() []usage.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]usage.Event(nil), l.events...)
}

// secretWatch hands out random tokens and, when the test ends, checks that
// none of them appears in any log record written to its logger or in any
// error passed to Error. Every end-to-end test uses one.
type secretWatch struct {
	t      *testing.T
	mu     sync.Mutex
	logs   lockedBuffer
	tokens []string
	errs   []string
}

func newSecretWatch(t *testing.T) *secretWatch {
	w := &secretWatch{t: t}
	t.Cleanup(w.check)
	return w
}

// Token returns a new random token for subject and remembers it.
func (w *secretWatch) Token(subject string) string {
	random := make([]byte, 16)
	_, _ = rand.Read(random)
	token := "dapi" + hex.EncodeToString(random) + "-" + subject

	w.mu.Lock()
	defer w.mu.Unlock()
	w.tokens = append(w.tokens, token)
	return token
}

// Logger returns a logger that writes every record, debug level included,
// as JSON into the watched buffer.
func (w *secretWatch) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(&w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Error remembers err's message for the final check. A nil err is ignored.
func (w *secretWatch) Error(err error) {
	if err == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, err.Error())
}

// LogText returns everything logged so far.
func (w *secretWatch) LogText() string { return w.logs.String() }

func (w *secretWatch) check() {
	w.mu.Lock()
	defer w.mu.Unlock()

	logs := w.logs.String()
	for _, token := range w.tokens {
		if strings.Contains(logs, token) {
			w.t.Errorf("a log record contains the token of %s", token[strings.LastIndex(token, "-")+1:])
		}
		for _, msg := range w.errs {
			if strings.Contains(msg, token) {
				w.t.Errorf("an error contains the token of %s: the error is not printed here because it holds the token", token[strings.LastIndex(token, "-")+1:])
			}
		}
	}
}

// lockedBuffer is a bytes.Buffer that is safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newBaseTransport returns a transport to loopback test servers whose idle
// connections are closed when the test ends, so goleak finds no connection
// goroutines. It keeps enough idle connections per host for the concurrent
// tests not to open a new connection per request.
func newBaseTransport(t testing.TB) *http.Transport {
	base := &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 256}
	t.Cleanup(base.CloseIdleConnections)
	return base
}
