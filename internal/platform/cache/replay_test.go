package cache_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// outage is an in-process cache that can be taken down, failing as a stalled Redis does: every
// operation fails, yet a Set still lands (a SET that timed out is executed when Redis resumes) while
// a Delete is lost (one sent on a fresh connection never gets past its handshake).
type outage struct {
	*cache.Memory
	down atomic.Bool
}

var errDown = errors.New("cache down")

func newOutage(t *testing.T) *outage {
	o := &outage{Memory: cache.NewMemory()}
	t.Cleanup(func() { _ = o.Memory.Close() })
	return o
}

func (o *outage) Get(ctx context.Context, key string) ([]byte, error) {
	if o.down.Load() {
		return nil, errDown
	}
	return o.Memory.Get(ctx, key)
}

func (o *outage) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	_ = o.Memory.Set(ctx, key, value, ttl)
	if o.down.Load() {
		return errDown
	}
	return nil
}

func (o *outage) Delete(ctx context.Context, keys ...string) error {
	if o.down.Load() {
		return errDown
	}
	return o.Memory.Delete(ctx, keys...)
}

func (o *outage) Ping(context.Context) error {
	if o.down.Load() {
		return errDown
	}
	return nil
}

// Close leaves the Memory to the test's cleanup, so a test can look into it after the Resilient
// is closed.
func (o *outage) Close() error { return nil }

// holds reports whether the wrapped cache itself still holds key, as another process would read it.
func (o *outage) holds(key string) bool {
	_, err := o.Memory.Get(context.Background(), key)
	return err == nil
}

func TestResilientNeverServesAKeyWhoseDeleteFailed(t *testing.T) {
	ctx := context.Background()
	inner := newOutage(t)
	// No replay during the test: what is checked is the state before it.
	c, err := cache.NewResilient(inner, slog.New(slog.DiscardHandler), nil, cache.WithReplayInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, c, "wallet:wallets:1", "old", time.Minute)
	mustSet(t, c, "wallet:wallets:2", "other", time.Minute)
	inner.down.Store(true)
	_ = c.Delete(ctx, "wallet:wallets:1")
	inner.down.Store(false)

	if !inner.holds("wallet:wallets:1") {
		t.Fatal("the fake lost the value: the test would prove nothing")
	}
	if b, err := c.Get(ctx, "wallet:wallets:1"); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Get of the key whose delete failed = %q, %v; want a miss", b, err)
	}
	mustGet(t, c, "wallet:wallets:2", "other") // only the owed key is distrusted
	mustSet(t, c, "wallet:wallets:1", "new", time.Minute)
	if _, err := c.Get(ctx, "wallet:wallets:1"); !errors.Is(err, cache.ErrMiss) {
		t.Errorf("Get after a Set of an owed key = %v; want a miss until the delete is replayed", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if inner.holds("wallet:wallets:1") {
		t.Error("Close did not replay the owed delete: other processes would read the stale value")
	}
}

func TestResilientReplaysAFailedDeleteInTheBackground(t *testing.T) {
	ctx := context.Background()
	inner := newOutage(t)
	reg := prometheus.NewPedanticRegistry()
	c, err := cache.NewResilient(inner, slog.New(slog.DiscardHandler), reg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustSet(t, c, "wallet:wallets:1", "old", time.Minute)
	inner.down.Store(true)
	_ = c.Delete(ctx, "wallet:wallets:1")
	testenv.Eventually(t, 5*time.Second, "a replay failing", func() bool {
		return gather(t, reg)[`cache_errors_total{cache_key_prefix="wallet:wallets",operation="replay"}`] > 0
	})
	if _, err := c.Get(ctx, "wallet:wallets:1"); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Get during the outage = %v, want a miss", err)
	}
	inner.down.Store(false)

	// Nobody reads the key: the replay alone deletes it, as other processes need.
	testenv.Eventually(t, 5*time.Second, "the owed delete replayed", func() bool { return !inner.holds("wallet:wallets:1") })
	testenv.Eventually(t, 5*time.Second, "nothing owed", func() bool {
		return gather(t, reg)[`cache_invalidations_owed{}`] == 0
	})
	mustSet(t, c, "wallet:wallets:1", "new", time.Minute)
	mustGet(t, c, "wallet:wallets:1", "new") // trusted again
	got := gather(t, reg)
	if v := got[`cache_invalidations_replayed_total{cache_key_prefix="wallet:wallets"}`]; v != 1 {
		t.Errorf("replayed = %v, want 1 (all: %v)", v, got)
	}
}

// A Set that failed may land later, with a value stale by then: it is owed a delete too.
func TestResilientDeletesWhatAFailedSetMayHaveWritten(t *testing.T) {
	ctx := context.Background()
	inner := newOutage(t)
	c, err := cache.NewResilient(inner, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	inner.down.Store(true)
	_ = c.Set(ctx, "wallet:wallets:1", []byte("read before a change"), time.Minute)
	inner.down.Store(false)
	if _, err := c.Get(ctx, "wallet:wallets:1"); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Get of a key whose Set failed = %v, want a miss", err)
	}
	testenv.Eventually(t, 5*time.Second, "the late value deleted", func() bool { return !inner.holds("wallet:wallets:1") })
}

// A revocation marker that lands late is right, not stale: deleting it would lose the revocation.
func TestResilientKeepsAnImmutableValueWhoseSetFailed(t *testing.T) {
	ctx := context.Background()
	inner := newOutage(t)
	c, err := cache.NewResilient(inner, slog.New(slog.DiscardHandler), nil, cache.WithImmutablePrefixes("auth:revoked:"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	inner.down.Store(true)
	_ = c.Set(ctx, "auth:revoked:jti1", []byte("1"), time.Minute)
	_ = c.Set(ctx, "wallet:wallets:1", []byte("stale"), time.Minute)
	inner.down.Store(false)
	testenv.Eventually(t, 5*time.Second, "the cache-aside value deleted", func() bool { return !inner.holds("wallet:wallets:1") })
	mustGet(t, c, "auth:revoked:jti1", "1")
}

func TestResilientDistrustsEverythingWhenTooMuchIsOwed(t *testing.T) {
	ctx := context.Background()
	inner := newOutage(t)
	reg := prometheus.NewPedanticRegistry()
	c, err := cache.NewResilient(inner, slog.New(slog.DiscardHandler), reg, cache.WithMaxOwed(2))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustSet(t, c, "auth:user:1", "untouched", time.Minute)
	inner.down.Store(true)
	_ = c.Delete(ctx, "wallet:wallets:1", "wallet:wallets:2", "wallet:wallets:3")
	inner.down.Store(false)
	// The forgotten keys might be any: a key nobody invalidated is not trusted either, for a minute
	// (the longest TTL written) after the cache answers again.
	if _, err := c.Get(ctx, "auth:user:1"); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Get after an overflow = %v, want a miss", err)
	}
	got := gather(t, reg)
	if got[`cache_invalidations_overflows_total{}`] != 1 || got[`cache_invalidations_owed{}`] != 0 {
		t.Errorf("want one overflow and nothing remembered owed: %v", got)
	}
}
