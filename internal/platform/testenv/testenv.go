// Package testenv finds the real servers integration tests talk to. Outside CI a missing server skips
// the test with a message; with CI=true it fails it (ARCHITECTURE §4).
package testenv

import (
	"net"
	"net/url"
	"os"
	"testing"
	"time"
)

// CI reports whether the tests run in CI (CI=true).
func CI() bool { return os.Getenv("CI") == "true" }

// RabbitURL returns the AMQP URL of the test broker (MINT_TEST_AMQP_URL, default
// amqp://guest:guest@127.0.0.1:5672/), skipping or failing t when it does not answer.
func RabbitURL(t testing.TB) string {
	t.Helper()
	return reachable(t, "MINT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/", "RabbitMQ")
}

// RedisURL returns the URL of the test Redis (MINT_TEST_REDIS_URL, default redis://127.0.0.1:6379/15),
// skipping or failing t when it does not answer.
func RedisURL(t testing.TB) string {
	t.Helper()
	return reachable(t, "MINT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15", "Redis")
}

func reachable(t testing.TB, env, def, name string) string {
	t.Helper()
	raw := os.Getenv(env)
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s=%q: %v", env, raw, err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
	if err != nil {
		if CI() {
			t.Fatalf("%s at %s is not reachable and CI=true: %v", name, u.Host, err)
		}
		t.Skipf("%s at %s is not reachable (set %s, or start it): %v", name, u.Host, env, err)
	}
	_ = conn.Close()
	return raw
}
