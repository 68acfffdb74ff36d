package usage

import (
	"log/slog"
	"time"
)

// Defaults of a [Sender]. Each can be replaced with a [SenderOption].
const (
	DefaultSenderWorkers       = 2
	DefaultSenderQueueEvents   = 4096
	DefaultSenderQueueBytes    = 8 << 20
	DefaultSenderMaxFoldKeys   = 1024
	DefaultSenderBatchSize     = 100
	DefaultSenderBatchInterval = time.Second
	DefaultSenderBatchTimeout  = 30 * time.Second
	DefaultSenderMaxAttempts   = 5
	DefaultSenderMinBackoff    = 100 * time.Millisecond
	DefaultSenderMaxBackoff    = 10 * time.Second
)

// senderConfig holds the settings of a Sender after its options ran.
type senderConfig struct {
	workers       int
	queueEvents   int
	queueBytes    int64
	maxFoldKeys   int
	batchSize     int
	batchInterval time.Duration
	batchTimeout  time.Duration
	maxAttempts   int
	minBackoff    time.Duration
	maxBackoff    time.Duration
	logger        *slog.Logger
}

func defaultSenderConfig() senderConfig {
	return senderConfig{
		workers:       DefaultSenderWorkers,
		queueEvents:   DefaultSenderQueueEvents,
		queueBytes:    DefaultSenderQueueBytes,
		maxFoldKeys:   DefaultSenderMaxFoldKeys,
		batchSize:     DefaultSenderBatchSize,
		batchInterval: DefaultSenderBatchInterval,
		batchTimeout:  DefaultSenderBatchTimeout,
		maxAttempts:   DefaultSenderMaxAttempts,
		minBackoff:    DefaultSenderMinBackoff,
		maxBackoff:    DefaultSenderMaxBackoff,
		logger:        slog.New(slog.DiscardHandler),
	}
}

// SenderOption changes one setting of a [Sender]. An option given a value out
// of its range (zero, negative, nil) leaves the default in place, so a
// Sender can always be built.
type SenderOption func(*senderConfig)

// WithWorkers sets the number of goroutines that deliver batches to the sink.
func WithWorkers(n int) SenderOption {
	return func(c *senderConfig) {
		if n > 0 {
			c.workers = n
		}
	}
}

// WithQueueEvents sets the maximum number of events waiting for delivery.
// The queue is split evenly into shards, 4 per GOMAXPROCS, and events
// recorded while the shard they use is full are folded into totals.
func WithQueueEvents(n int) SenderOption {
	return func(c *senderConfig) {
		if n > 0 {
			c.queueEvents = n
		}
	}
}

// WithQueueBytes sets the maximum estimated size in bytes of the events
// waiting for delivery: their strings, Raw usage and Warnings. Half of it is
// split evenly between the queue's shards, and the other half lends bytes to
// any shard whose own share is used up, so one event may take up to half of
// the bound. Events that do not fit in the bytes left are folded into
// totals.
func WithQueueBytes(n int64) SenderOption {
	return func(c *senderConfig) {
		if n > 0 {
			c.queueBytes = n
		}
	}
}

// WithMaxFoldKeys sets the maximum number of distinct folded totals (one per
// token, workspace, product, model and usage source) in the Sender's fold
// table. Each queue shard also keeps one total of its own beyond this bound.
// An event recorded while the shard it uses is full, every total slot is
// taken by another key and no other shard has room is dropped.
func WithMaxFoldKeys(n int) SenderOption {
	return func(c *senderConfig) {
		if n > 0 {
			c.maxFoldKeys = n
		}
	}
}

// WithBatchSize sets the maximum number of events in one call of Sink.Send.
func WithBatchSize(n int) SenderOption {
	return func(c *senderConfig) {
		if n > 0 {
			c.batchSize = n
		}
	}
}

// WithBatchInterval sets how long a worker waits before it sends a batch
// that is not full.
func WithBatchInterval(d time.Duration) SenderOption {
	return func(c *senderConfig) {
		if d > 0 {
			c.batchInterval = d
		}
	}
}

// WithBatchTimeout sets the deadline of one batch across all its attempts.
func WithBatchTimeout(d time.Duration) SenderOption {
	return func(c *senderConfig) {
		if d > 0 {
			c.batchTimeout = d
		}
	}
}

// WithRetry sets the maximum number of attempts per batch (1 disables
// retries) and the range of the exponential backoff between attempts. The
// n-th retry waits a time drawn uniformly from
// [0, min(maxBackoff, minBackoff*2^(n-1))].
func WithRetry(maxAttempts int, minBackoff, maxBackoff time.Duration) SenderOption {
	return func(c *senderConfig) {
		if maxAttempts > 0 {
			c.maxAttempts = maxAttempts
		}
		if minBackoff > 0 {
			c.minBackoff = minBackoff
		}
		if maxBackoff >= c.minBackoff {
			c.maxBackoff = maxBackoff
		}
	}
}

// WithSenderLogger sets the logger for retries, failures and drops. Records
// carry counts and errors, never a token or an event body. The default
// discards them.
func WithSenderLogger(l *slog.Logger) SenderOption {
	return func(c *senderConfig) {
		if l != nil {
			c.logger = l
		}
	}
}
