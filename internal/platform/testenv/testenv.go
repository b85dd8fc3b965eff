// Package testenv finds the real servers integration tests talk to, gives each test RabbitMQ of its
// own (a virtual host on the shared broker, IsolatedRabbitURL, or a whole node it may stop, OwnRabbit)
// and a redis-server it may pause or kill (OwnRedis) — localserver's private servers, bound to the
// test —, free loopback addresses (FreeAddr), and waits for what they do (Eventually). Outside CI a
// missing server skips the test with a message; with CI=true it fails it. Under -short (make
// test-short) every test that needs a server or the embedded database skips (Integration), so only
// tests of pure logic run.
package testenv

import (
	"context"
	"net"
	"net/url"
	"os"
	"testing"
	"time"
)

// CI reports whether the tests run in CI (CI=true).
func CI() bool { return os.Getenv("CI") == "true" }

// Integration skips t under -short: it needs a server, the embedded database or the built binary.
func Integration(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("an integration test; -short runs the tests that need no server")
	}
}

// RedisURL returns the URL of the test Redis (MINT_TEST_REDIS_URL, default redis://127.0.0.1:6379/15),
// skipping or failing t when it does not answer.
func RedisURL(t testing.TB) string {
	t.Helper()
	return reachable(t, "MINT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15", "Redis")
}

func reachable(t testing.TB, env, def, name string) string {
	t.Helper()
	Integration(t)
	raw := os.Getenv(env)
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s=%q: %v", env, raw, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		if CI() {
			t.Fatalf("%s at %s is not reachable and CI=true: %v", name, u.Host, err)
		}
		t.Skipf("%s at %s is not reachable (set %s, or start it): %v", name, u.Host, env, err)
	}
	_ = conn.Close()
	return raw
}

// Eventually polls cond every 10 ms until it holds, failing t when within passes first: the way tests
// wait for what servers and background work do asynchronously.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// FreeAddr returns a loopback address nobody listens on (one that was free a moment ago).
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}
