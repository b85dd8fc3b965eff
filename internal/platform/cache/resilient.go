package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mint-wallet/mint/internal/platform/observe"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultTimeout bounds each cache operation in Resilient: long enough for a healthy Redis, short
// enough that an unhealthy one adds little to a request.
const DefaultTimeout = 150 * time.Millisecond

// Resilient wraps a Cache so that its failures cost speed, never correctness or availability:
// every operation is bounded by a timeout, a failed Get is a miss, and failed Set and Delete are
// logged and swallowed. It also counts hits, misses and errors.
//
// Swallowing a failed Delete is the dangerous case: the stale value stays until its TTL ends (a
// cached transaction could show PENDING after it completed). It is logged at warn with the keys, and
// TTLs must stay short enough to bound that staleness. Callers invalidate after their write, so the
// write itself always stands.
type Resilient struct {
	inner   Cache
	logger  *slog.Logger
	timeout time.Duration
	m       *resilientMetrics
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
	r := &Resilient{inner: c, logger: logger, timeout: DefaultTimeout}
	for _, o := range opts {
		o(r)
	}
	if reg != nil {
		m, err := newResilientMetrics(reg)
		if err != nil {
			return nil, err
		}
		r.m = m
	}
	return r, nil
}

// Get implements Cache: it returns the value or ErrMiss, never another error.
func (r *Resilient) Get(ctx context.Context, key string) ([]byte, error) {
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
		r.m.error("get")
		r.m.miss(key)
		r.logger.DebugContext(ctx, "cache get failed; treated as a miss", "key", key, "err", err)
		return nil, ErrMiss
	}
}

// Set implements Cache; it always returns nil.
func (r *Resilient) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ctx, cancel := r.bound(ctx)
	defer cancel()
	if err := r.inner.Set(ctx, key, value, ttl); err != nil {
		r.m.error("set")
		r.logger.InfoContext(ctx, "cache set failed; ignored", "key", key, "err", err)
	}
	return nil
}

// Delete implements Cache; it always returns nil. See the type's comment for why a failure here is
// logged at warn.
func (r *Resilient) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	ctx, cancel := r.bound(ctx)
	defer cancel()
	if err := r.inner.Delete(ctx, keys...); err != nil {
		r.m.error("delete")
		r.logger.WarnContext(ctx, "cache invalidation failed; stale values may be served until their TTL ends",
			"keys", keys, "err", err)
	}
	return nil
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

// Close closes the wrapped cache.
func (r *Resilient) Close() error { return r.inner.Close() }

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
	hits, misses, errors *prometheus.CounterVec
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
	if m.errors, err = observe.Register(reg, counterVec("cache_errors_total", "Cache operations that failed (including timeouts).", "operation")); err != nil {
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

func (m *resilientMetrics) error(op string) {
	if m != nil {
		m.errors.WithLabelValues(op).Inc()
	}
}

var _ Cache = (*Resilient)(nil)
