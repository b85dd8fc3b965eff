package cache_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// patient opens the plain adapter on url with timeouts no stall of a loaded machine reaches: the
// tests' own view of what the Redis holds, as another process would read it.
func patient(t *testing.T, url string) *cache.Redis {
	t.Helper()
	r, err := cache.NewRedis(url, func(o *redis.Options) {
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = 5*time.Second, 5*time.Second, 5*time.Second, 5*time.Second
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func resilientOn(t *testing.T, url string) *cache.Resilient {
	t.Helper()
	inner, err := cache.NewRedis(url)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cache.NewResilient(inner, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func holds(t *testing.T, r *cache.Redis, key string) bool {
	t.Helper()
	_, err := r.Get(context.Background(), key)
	if err != nil && !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Get(%s): %v", key, err)
	}
	return err == nil
}

// TestRedisRunsATimedOutSetAfterItResumes pins why a failed Set owes a delete: a command whose
// client-side timeout fired during a stall stays in the socket, and Redis executes it when it
// resumes — a value read before a change, written after it.
func TestRedisRunsATimedOutSetAfterItResumes(t *testing.T) {
	srv := testenv.OwnRedis(t)
	r, err := cache.NewRedis(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	if err := r.Ping(ctx); err != nil { // leaves a connection in the pool, as a busy service has
		t.Fatal(err)
	}
	srv.Pause(t)
	sctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
	err = r.Set(sctx, "wallet:wallets:1", []byte("late"), time.Minute)
	cancel()
	if err == nil {
		t.Fatal("Set against a paused Redis succeeded")
	}
	srv.Resume(t)
	view := patient(t, srv.URL())
	testenv.Eventually(t, 5*time.Second, "the timed-out SET executed", func() bool { return holds(t, view, "wallet:wallets:1") })
}

// TestResilientAfterARedisPause: what one process failed to invalidate, or may have written late,
// during a stall is neither served by it once Redis answers again, nor left for other processes.
func TestResilientAfterARedisPause(t *testing.T) {
	srv := testenv.OwnRedis(t)
	ctx := context.Background()
	owner := resilientOn(t, srv.URL()) // the process whose writes fail
	other := resilientOn(t, srv.URL()) // another process sharing the Redis
	view := patient(t, srv.URL())

	mustSet(t, view, "wallet:wallets:1", "100.00", time.Minute)
	mustGet(t, owner, "wallet:wallets:1", "100.00") // leaves the owner a pooled connection
	mustGet(t, other, "wallet:wallets:1", "100.00")

	srv.Pause(t)
	// The first command goes out on the pooled connection and runs on resume; the next ones go out on
	// fresh connections that never get past their handshake: the invalidation is lost, not delayed.
	_ = owner.Set(ctx, "wallet:wallets:2", []byte("read before a change"), time.Minute)
	_ = owner.Delete(ctx, "wallet:wallets:1")
	srv.Resume(t)

	if b, err := owner.Get(ctx, "wallet:wallets:1"); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("the owner's first read after Redis answered = %q, %v; want a miss", b, err)
	}
	testenv.Eventually(t, 5*time.Second, "the owed deletes replayed", func() bool {
		return !holds(t, view, "wallet:wallets:1") && !holds(t, view, "wallet:wallets:2")
	})
	if b, err := other.Get(ctx, "wallet:wallets:1"); !errors.Is(err, cache.ErrMiss) {
		t.Errorf("another process reads %q, %v after the replay; want a miss", b, err)
	}
	testenv.Eventually(t, 5*time.Second, "the owner trusting the cache again", func() bool {
		_ = owner.Set(ctx, "wallet:wallets:1", []byte("99.00"), time.Minute)
		b, err := other.Get(ctx, "wallet:wallets:1")
		return err == nil && string(b) == "99.00"
	})
}

// TestResilientWhenItsRedisIsKilled: a Redis that is gone costs a miss per read, bounded, and Close
// does not hang on what is owed.
func TestResilientWhenItsRedisIsKilled(t *testing.T) {
	srv := testenv.OwnRedis(t)
	ctx := context.Background()
	c := resilientOn(t, srv.URL())
	mustSet(t, c, "wallet:wallets:1", "v", time.Minute)
	srv.Kill(t)
	_ = c.Delete(ctx, "wallet:wallets:1")
	if _, err := c.Get(ctx, "wallet:wallets:2"); !errors.Is(err, cache.ErrMiss) {
		t.Errorf("Get from a killed Redis = %v, want a miss", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}
