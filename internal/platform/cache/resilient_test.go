package cache_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mint-wallet/mint/internal/platform/cache"
)

// syncBuffer collects log output written from the code under test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestResilientWhenRedisIsDown(t *testing.T) {
	ctx := context.Background()
	down, err := cache.NewRedis("redis://127.0.0.1:1/0") // nothing listens on port 1
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := cache.NewResilient(down, logger, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	start := time.Now()
	if _, err := c.Get(ctx, "auth:user:42"); !errors.Is(err, cache.ErrMiss) {
		t.Errorf("Get = %v, want ErrMiss", err)
	}
	if err := c.Set(ctx, "auth:user:42", []byte("{}"), time.Minute); err != nil {
		t.Errorf("Set = %v, want nil", err)
	}
	if err := c.Delete(ctx, "auth:user:42", "transactions:tx:7"); err != nil {
		t.Errorf("Delete = %v, want nil", err)
	}
	if ok, err := cache.GetJSON(ctx, c, "auth:user:42", &struct{}{}); ok || err != nil {
		t.Errorf("GetJSON = %v, %v; want a plain miss", ok, err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("four operations against a dead Redis took %v, want well under 5s", elapsed)
	}
	if err := c.Ping(ctx); err == nil {
		t.Error("Ping = nil, want the outage reported")
	}

	// The failed Set and Delete made auth:user:42 owed a delete, so GetJSON did not ask Redis: one
	// failed get, two misses.
	want := map[string]float64{
		`cache_errors_total{cache_key_prefix="auth:user",operation="get"}`:          1,
		`cache_errors_total{cache_key_prefix="auth:user",operation="set"}`:          1,
		`cache_errors_total{cache_key_prefix="auth:user",operation="delete"}`:       1, // one failed delete of two keys:
		`cache_errors_total{cache_key_prefix="transactions:tx",operation="delete"}`: 1, // counted for each prefix
		`cache_misses_total{cache_key_prefix="auth:user"}`:                          2,
		`cache_hits_total{cache_key_prefix="auth:user"}`:                            0,
		`cache_misses_total{cache_key_prefix="transactions"}`:                       0,
		`cache_invalidations_owed{}`:                                                2,
	}
	got := gather(t, reg)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "transactions:tx:7") {
		t.Errorf("failed Delete not logged at warn with its keys:\n%s", logs.String())
	}
}

// hanging never answers until the caller gives up.
type hanging struct{}

func (hanging) Get(ctx context.Context, _ string) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
func (hanging) Set(ctx context.Context, _ string, _ []byte, _ time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}
func (hanging) Delete(ctx context.Context, _ ...string) error { <-ctx.Done(); return ctx.Err() }
func (hanging) Ping(ctx context.Context) error                { <-ctx.Done(); return ctx.Err() }
func (hanging) Close() error                                  { return nil }

func TestResilientBoundsEveryOperation(t *testing.T) {
	ctx := context.Background()
	c, err := cache.NewResilient(hanging{}, slog.New(slog.DiscardHandler), nil, cache.WithTimeout(30*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A key each: a failed Set or Delete makes its key owed, and a Get of an owed key does not wait.
	ops := map[string]func() error{
		"get":    func() error { _, err := c.Get(ctx, "a:b:get"); return err },
		"set":    func() error { return c.Set(ctx, "a:b:set", nil, time.Minute) },
		"delete": func() error { return c.Delete(ctx, "a:b:delete") },
		"ping":   func() error { return c.Ping(ctx) },
	}
	for name, op := range ops {
		start := time.Now()
		_ = op()
		if d := time.Since(start); d > 5*time.Second { // unbounded, it would hang until the test times out
			t.Errorf("%s took %v with a 30ms bound", name, d)
		}
	}
}

func TestResilientCountsHitsAndMissesByPrefix(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewPedanticRegistry()
	m := cache.NewMemory()
	c, err := cache.NewResilient(m, nil, reg, cache.WithoutTimeout()) // as `mint dev` wraps its in-process cache
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A second wrapper on the same registry (another service in `mint dev`) shares the series.
	if _, err := cache.NewResilient(m, nil, reg); err != nil {
		t.Fatalf("second NewResilient on one registry: %v", err)
	}
	_ = c.Set(ctx, "auth:user:1", []byte("x"), time.Minute)
	_, _ = c.Get(ctx, "auth:user:1")
	_, _ = c.Get(ctx, "auth:user:2")
	_, _ = c.Get(ctx, "transactions:tx:9")
	got := gather(t, reg)
	for k, v := range map[string]float64{
		`cache_hits_total{cache_key_prefix="auth:user"}`:                   1,
		`cache_misses_total{cache_key_prefix="auth:user"}`:                 1,
		`cache_misses_total{cache_key_prefix="transactions:tx"}`:           1,
		`cache_errors_total{cache_key_prefix="auth:user",operation="get"}`: 0,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

func TestKeyPrefix(t *testing.T) {
	for key, want := range map[string]string{
		"auth:user:42":        "auth:user",
		"transactions:tx:a:b": "transactions:tx",
		"auth:user":           "other",
		"plain":               "other",
		":user:1":             "other",
		"auth::1":             "other",
		"":                    "other",
	} {
		if got := cache.KeyPrefix(key); got != want {
			t.Errorf("KeyPrefix(%q) = %q, want %q", key, got, want)
		}
	}
}

// gather flattens counters and gauges to `name{label="value"}` → value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			v := m.GetCounter().GetValue()
			if g := m.GetGauge(); g != nil {
				v = g.GetValue()
			}
			out[f.GetName()+"{"+strings.Join(labels, ",")+"}"] = v
		}
	}
	return out
}
