// Package testenv finds the real servers integration tests talk to, and waits for what they do
// (Eventually). Outside CI a missing server skips the test with a message; with CI=true it fails it
// (ARCHITECTURE §4).
package testenv

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
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

// Tests whose name contains BrokerRestart stop and start the shared local broker, so `make test` runs
// them in a phase of their own, after every other test (see Makefile).

// StopBroker stops the local RabbitMQ application (connections drop, queues stay) and makes sure it is
// started again when t ends, whatever happens.
func StopBroker(t testing.TB) {
	t.Helper()
	t.Cleanup(func() { _ = rabbitmqctl("start_app") })
	if err := rabbitmqctl("stop_app"); err != nil {
		t.Fatalf("stop the broker: %v", err)
	}
}

// StartBroker starts the local RabbitMQ application again and waits until it accepts connections.
func StartBroker(t testing.TB) {
	t.Helper()
	if err := rabbitmqctl("start_app"); err != nil {
		t.Fatalf("start the broker: %v", err)
	}
	_ = rabbitmqctl("await_startup")
}

func rabbitmqctl(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "rabbitmqctl", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("rabbitmqctl %v: %w: %s", args, err, out)
	}
	return nil
}

// IsolatedRabbitURL returns the URL of a fresh RabbitMQ virtual host, deleted when t ends. Services
// declare fixed exchange and queue names (the contract), so tests that run them against the shared
// broker would otherwise consume each other's events.
func IsolatedRabbitURL(t testing.TB) string {
	t.Helper()
	base, err := url.Parse(RabbitURL(t))
	if err != nil {
		t.Fatal(err)
	}
	vhost := fmt.Sprintf("mint-test-%d", time.Now().UnixNano())
	user := base.User.Username()
	if err := rabbitmqctl("add_vhost", vhost); err != nil {
		t.Fatalf("isolated vhost: %v", err)
	}
	t.Cleanup(func() { _ = rabbitmqctl("delete_vhost", vhost) })
	if err := rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*"); err != nil {
		t.Fatalf("isolated vhost: %v", err)
	}
	u := *base
	u.Path = "/" + vhost
	return u.String()
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
