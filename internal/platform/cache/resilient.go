package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mint-wallet/mint/internal/platform/observe"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultTimeout bounds each cache operation in Resilient: long enough for a healthy Redis, short
// enough that an unhealthy one adds little to a request.
const DefaultTimeout = 150 * time.Millisecond

// DefaultReplayInterval is how often Resilient retries the deletes it owes. It bounds how long,
// after Redis answers again, another process sharing the Redis may still read a value this one
// failed to invalidate.
const DefaultReplayInterval = 100 * time.Millisecond

// DefaultMaxOwed bounds the keys Resilient remembers owing a delete (some MB); past it the whole cache
// is distrusted instead (see owed).
const DefaultMaxOwed = 50_000

// replayBatch bounds the keys of one DEL of a replay.
const replayBatch = 1000

// Resilient wraps a Cache so that its failures cost speed, never correctness or availability:
// every operation is bounded by a timeout, a failed Get is a miss, and failed Set and Delete are
// logged and swallowed. It also counts hits, misses and errors.
//
// A swallowed failure must not leave a stale value behind. So Resilient owes a delete of each key
// whose Delete failed, and of each whose Set failed: a command that timed out may still be executed
// when a stalled Redis resumes, its value stale by then. Until the owed delete has succeeded, a Get of
// the key is a miss without asking Redis and a Set of it is skipped. A background replay retries the
// owed deletes every DefaultReplayInterval — each round only once a Ping is answered, so that what a
// resumed Redis had buffered runs before the deletes — and stops when nothing is owed. So once Redis
// answers, this process never serves a value its failed invalidation left; another process sharing
// the Redis may, until this one's next replay round (an interval and a round trip). A process that
// ends before Redis answers leaves what it owed to the TTLs.
type Resilient struct {
	inner       Cache
	logger      *slog.Logger
	timeout     time.Duration
	m           *resilientMetrics
	owed        *owed
	maxOwed     int
	replayEvery time.Duration
	immutable   []string // key prefixes of values that never change (WithImmutablePrefixes)

	mu      sync.Mutex // guards the replay's lifecycle
	running bool
	closed  bool
	stop    chan struct{}
	replays sync.WaitGroup
}

// ResilientOption configures Resilient.
type ResilientOption func(*Resilient)

// WithTimeout sets the per-operation bound (default DefaultTimeout).
func WithTimeout(d time.Duration) ResilientOption {
	return func(r *Resilient) {
		if d > 0 {
			r.timeout = d
		}
	}
}

// WithoutTimeout drops the per-operation bound, for an in-process cache that cannot hang: a timer per
// operation would cost more than the operation.
func WithoutTimeout() ResilientOption {
	return func(r *Resilient) { r.timeout = 0 }
}

// WithReplayInterval sets how often owed deletes are retried (default DefaultReplayInterval).
func WithReplayInterval(d time.Duration) ResilientOption {
	return func(r *Resilient) {
		if d > 0 {
			r.replayEvery = d
		}
	}
}

// WithMaxOwed sets how many owed keys are remembered before the whole cache is distrusted (default
// DefaultMaxOwed).
func WithMaxOwed(n int) ResilientOption {
	return func(r *Resilient) {
		if n > 0 {
			r.maxOwed = n
		}
	}
}

// WithImmutablePrefixes names the key prefixes whose values never change once written and are not
// copies of a record (a revocation marker): a failed Set of such a key owes no delete, since landing
// late cannot make it stale and deleting it would lose it.
func WithImmutablePrefixes(prefixes ...string) ResilientOption {
	return func(r *Resilient) { r.immutable = append(r.immutable, prefixes...) }
}

// bound limits ctx to the per-operation timeout, if there is one.
func (r *Resilient) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, r.timeout)
}

// NewResilient wraps c. Metrics go to reg when it is not nil; several Resilient caches of one process
// (one per service in `mint dev`) share the same series.
func NewResilient(c Cache, logger *slog.Logger, reg prometheus.Registerer, opts ...ResilientOption) (*Resilient, error) {
	if logger == nil {
		logger = slog.Default()
	}
	r := &Resilient{inner: c, logger: logger, timeout: DefaultTimeout, maxOwed: DefaultMaxOwed,
		replayEvery: DefaultReplayInterval, stop: make(chan struct{})}
	for _, o := range opts {
		o(r)
	}
	r.owed = newOwed(r.maxOwed, time.Now)
	if reg != nil {
		m, err := newResilientMetrics(reg)
		if err != nil {
			return nil, err
		}
		r.m = m
	}
	return r, nil
}

// Get implements Cache: it returns the value or ErrMiss, never another error. A key owed a delete
// is a miss: the value Redis holds may be stale.
func (r *Resilient) Get(ctx context.Context, key string) ([]byte, error) {
	if !r.owed.trusts(key) {
		r.m.miss(key)
		return nil, ErrMiss
	}
	ctx, cancel := r.bound(ctx)
	defer cancel()
	b, err := r.inner.Get(ctx, key)
	switch {
	case err == nil:
		r.m.hit(key)
		return b, nil
	case errors.Is(err, ErrMiss):
		r.m.miss(key)
		return nil, ErrMiss
	default:
		r.m.error("get", key)
		r.m.miss(key)
		r.logger.DebugContext(ctx, "cache get failed; treated as a miss", "key", key, "err", err)
		return nil, ErrMiss
	}
}

// Set implements Cache; it always returns nil. A key owed a delete is not written: the replay would
// delete it anyway.
func (r *Resilient) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if !r.owed.trusts(key) {
		return nil
	}
	r.owed.wrote(ttl)
	ctx, cancel := r.bound(ctx)
	defer cancel()
	if err := r.inner.Set(ctx, key, value, ttl); err != nil {
		r.m.error("set", key)
		if r.isImmutable(key) {
			r.logger.InfoContext(ctx, "cache set failed; ignored", "key", key, "err", err)
			return nil
		}
		r.logger.InfoContext(ctx, "cache set failed; the key is deleted once the cache answers", "key", key, "err", err)
		r.owe(ctx, key)
	}
	return nil
}

// Delete implements Cache; it always returns nil. A failure is logged at warn and the delete is owed:
// it is replayed, and the keys are not trusted, until it succeeds.
func (r *Resilient) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	ctx, cancel := r.bound(ctx)
	defer cancel()
	if err := r.inner.Delete(ctx, keys...); err != nil {
		r.m.error("delete", keys...)
		r.logger.WarnContext(ctx, "cache invalidation failed; the keys are not trusted until it is replayed",
			"keys", keys, "err", err)
		r.owe(ctx, keys...)
	}
	return nil
}

func (r *Resilient) isImmutable(key string) bool {
	for _, p := range r.immutable {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// owe records that keys must be deleted and makes sure the replay runs.
func (r *Resilient) owe(ctx context.Context, keys ...string) {
	delta, overflowed := r.owed.add(keys...)
	r.m.owedChanged(delta)
	if overflowed {
		r.m.overflowed()
		r.logger.ErrorContext(ctx, "too many cache invalidations owed; the whole cache is distrusted until its longest TTL has passed after it answers again",
			"max_owed", r.maxOwed)
	}
	r.startReplay()
}

// startReplay starts the replay loop unless it runs or the cache is closed. The loop outlives the
// request whose failure started it, so it takes no context from it.
func (r *Resilient) startReplay() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running || r.closed {
		return
	}
	r.running = true
	r.replays.Add(1)
	go r.replayLoop()
}

// replayLoop retries the owed deletes until nothing is owed or Close.
func (r *Resilient) replayLoop() {
	defer r.replays.Done()
	t := time.NewTicker(r.replayEvery)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		r.replay(context.Background())
		if r.replayDone() {
			return
		}
	}
}

// replayDone ends the loop when nothing is left to replay. It decides under mu, as owe does, so that
// a key owed meanwhile either is seen here or starts a new loop.
func (r *Resilient) replayDone() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.owed.pending() {
		return false
	}
	r.running = false
	return true
}

// replay deletes what is owed, once the inner cache answers a Ping. A command that timed out while
// Redis was stalled stays in its socket and is executed when Redis resumes; a resumed Redis first
// serves what its sockets already hold, in the order they became readable, so a delete sent after
// a Ping was answered runs after such a buffered Set of a stale value.
func (r *Resilient) replay(ctx context.Context) {
	snap, waiting := r.owed.snapshot()
	if len(snap) == 0 && !waiting {
		return
	}
	pctx, cancel := r.bound(ctx)
	err := r.inner.Ping(pctx)
	cancel()
	if err != nil {
		r.m.error("replay", slices.Collect(maps.Keys(snap))...)
		r.logger.DebugContext(ctx, "cache still unreachable; owed invalidations wait", "owed", len(snap), "err", err)
		return
	}
	r.owed.answered()
	keys := slices.Sorted(maps.Keys(snap))
	replayed := 0
	for batch := range slices.Chunk(keys, replayBatch) {
		dctx, cancel := r.bound(ctx)
		err := r.inner.Delete(dctx, batch...)
		cancel()
		if err != nil {
			r.m.error("replay", batch...)
			r.logger.DebugContext(ctx, "replay of owed cache invalidations failed; retried", "err", err)
			break
		}
		done := r.owed.settle(snap, batch)
		r.m.replayed(done)
		replayed += len(done)
	}
	if replayed > 0 {
		r.logger.InfoContext(ctx, "owed cache invalidations replayed", "keys", replayed, "still_owed", r.owed.count())
	}
}

// Ping implements Cache and does return the error: readiness may report the cache, though it should
// not fail on it.
func (r *Resilient) Ping(ctx context.Context) error {
	ctx, cancel := r.bound(ctx)
	defer cancel()
	if err := r.inner.Ping(ctx); err != nil {
		return fmt.Errorf("cache ping: %w", err)
	}
	return nil
}

// Close stops the replay, tries the owed deletes a last time, and closes the wrapped cache. What is
// still owed then is logged at warn: those values may be served stale, by other processes, until
// their TTL ends.
func (r *Resilient) Close() error {
	r.mu.Lock()
	first := !r.closed
	if first {
		r.closed = true
		close(r.stop)
	}
	r.mu.Unlock()
	r.replays.Wait()
	if first {
		ctx := context.Background()
		r.replay(ctx)
		if n := r.owed.count(); n > 0 {
			r.logger.WarnContext(ctx, "cache closed with invalidations owed; other processes may serve stale values until their TTL ends",
				"keys", n)
		}
	}
	return r.inner.Close()
}

// KeyPrefix is the <service>:<resource> part of a <service>:<resource>:<id> key, the label of the hit
// and miss counters: ids never become labels. A key outside the scheme counts as "other".
func KeyPrefix(key string) string {
	service, rest, ok := strings.Cut(key, ":")
	if !ok || service == "" {
		return "other"
	}
	resource, _, ok := strings.Cut(rest, ":")
	if !ok || resource == "" {
		return "other"
	}
	return service + ":" + resource
}

type resilientMetrics struct {
	hits, misses, errors, replays *prometheus.CounterVec
	owed                          prometheus.Gauge
	overflows                     prometheus.Counter
}

func newResilientMetrics(reg prometheus.Registerer) (*resilientMetrics, error) {
	var m resilientMetrics
	var err error
	if m.hits, err = observe.Register(reg, counterVec("cache_hits_total", "Cache reads that found a value.", "cache_key_prefix")); err != nil {
		return nil, err
	}
	if m.misses, err = observe.Register(reg, counterVec("cache_misses_total", "Cache reads that found nothing or failed.", "cache_key_prefix")); err != nil {
		return nil, err
	}
	if m.errors, err = observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cache_errors_total",
		Help: "Cache operations that failed (including timeouts), by operation (replay: a retry of owed invalidations) and key prefix."},
		[]string{"operation", "cache_key_prefix"})); err != nil {
		return nil, err
	}
	if m.replays, err = observe.Register(reg, counterVec("cache_invalidations_replayed_total", "Cache keys deleted by a replay, after their invalidation or store had failed.", "cache_key_prefix")); err != nil {
		return nil, err
	}
	if m.owed, err = observe.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "cache_invalidations_owed",
		Help: "Cache keys whose failed invalidation or store is not replayed yet; they are not trusted meanwhile."})); err != nil {
		return nil, err
	}
	if m.overflows, err = observe.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: "cache_invalidations_overflows_total",
		Help: "Times more invalidations were owed than remembered, so the whole cache was distrusted for its longest TTL."})); err != nil {
		return nil, err
	}
	return &m, nil
}

func counterVec(name, help, label string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{label})
}

func (m *resilientMetrics) hit(key string) {
	if m != nil {
		m.hits.WithLabelValues(KeyPrefix(key)).Inc()
	}
}

func (m *resilientMetrics) miss(key string) {
	if m != nil {
		m.misses.WithLabelValues(KeyPrefix(key)).Inc()
	}
}

// error counts a failed operation once for each key prefix among keys (none: an empty prefix).
func (m *resilientMetrics) error(op string, keys ...string) {
	if m == nil {
		return
	}
	if len(keys) == 0 {
		m.errors.WithLabelValues(op, "").Inc()
		return
	}
	counted := make(map[string]bool, 1)
	for _, k := range keys {
		if p := KeyPrefix(k); !counted[p] {
			counted[p] = true
			m.errors.WithLabelValues(op, p).Inc()
		}
	}
}

func (m *resilientMetrics) replayed(keys []string) {
	if m != nil {
		for _, k := range keys {
			m.replays.WithLabelValues(KeyPrefix(k)).Inc()
		}
		m.owed.Sub(float64(len(keys)))
	}
}

func (m *resilientMetrics) owedChanged(delta int) {
	if m != nil {
		m.owed.Add(float64(delta))
	}
}

func (m *resilientMetrics) overflowed() {
	if m != nil {
		m.overflows.Inc()
	}
}

var _ Cache = (*Resilient)(nil)
