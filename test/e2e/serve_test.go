package e2e

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/rabbitmq"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// startServeAuth runs `mint serve auth` on the RabbitMQ at amqpURL with a key set made by
// `mint keys generate`.
func startServeAuth(t *testing.T, amqpURL string, env ...string) *process {
	t.Helper()
	data := tempDir(t)
	keys := filepath.Join(data, "keys.json")
	if out, err := exec.Command(mintBin, "keys", "generate", "--file", keys).CombinedOutput(); err != nil {
		t.Fatalf("mint keys generate: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	env = append([]string{"MINT_AMQP_URL=" + amqpURL, "MINT_AUTH_KEYS_FILE=" + keys,
		"MINT_DATA_DIR=" + data, "MINT_HTTP_ADDR=" + addr}, append(devEnv, env...)...)
	return start(t, "http://"+addr, env, "serve", "auth")
}

// startRedis runs a private redis-server, so the test can kill it without disturbing other tests.
func startRedis(t *testing.T) (url string, kill func()) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if testenv.CI() {
			t.Fatal("redis-server is not installed and CI=true")
		}
		t.Skip("redis-server is not installed")
	}
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kill = func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(kill)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not start", addr)
		}
	}
	return "redis://" + addr + "/0", kill
}

// TestServeAuthWithoutRedis: Redis dies under a running auth service; signup, login, /auth/user and
// logout keep working.
func TestServeAuthWithoutRedis(t *testing.T) {
	redisURL, killRedis := startRedis(t)
	p := startServeAuth(t, testenv.IsolatedRabbitURL(t), "MINT_REDIS_URL="+redisURL, "MINT_COOKIE_SECURE=false")
	must(t, signup(t, p.base, "before@example.com", "password-123"), 201, "signup with Redis")
	tok := must(t, login(t, p.base, "before@example.com", "password-123"), 200, "login with Redis").field(t, "token")
	must(t, call(t, "GET", p.base+"/api/v1/auth/user", nil, tok), 200, "user with Redis (caches it)")

	killRedis()
	must(t, call(t, "GET", p.base+"/api/v1/auth/user", nil, tok), 200, "user without Redis")
	must(t, signup(t, p.base, "after@example.com", "password-123"), 201, "signup without Redis")
	tok2 := must(t, login(t, p.base, "after@example.com", "password-123"), 200, "login without Redis").field(t, "token")
	must(t, call(t, "GET", p.base+"/api/v1/auth/user", nil, tok2), 200, "new user without Redis")
	must(t, call(t, "POST", p.base+"/api/v1/auth/logout", nil, tok2), 204, "logout without Redis")
	must(t, call(t, "GET", p.base+"/api/v1/auth/user", nil, tok2), 401, "revoked token without Redis")
	must(t, call(t, "GET", p.base+"/ready", nil, ""), 200, "ready without Redis (it is optional)")
}

// TestBrokerRestartDuringSignup: RabbitMQ is down while a user signs up and comes back 10 s later; the
// signup succeeded at once and exactly one user.signup is delivered after recovery. The broker is a
// node of the test's own, so stopping it disturbs nothing else.
func TestBrokerRestartDuringSignup(t *testing.T) {
	broker := testenv.OwnRabbit(t)
	p := startServeAuth(t, broker.URL())
	ctx := context.Background()
	watcher, err := rabbitmq.New(ctx, rabbitmq.Config{URL: broker.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = watcher.Close() })
	const queue = "test.e2e.signup"
	if err := watcher.Declare(ctx, bus.Topology{Exchanges: []string{contract.AuthEvents},
		Queues: []bus.Queue{{Name: queue, Exchange: contract.AuthEvents, RoutingKey: contract.UserSignup}}}); err != nil {
		t.Fatal(err)
	}

	broker.Stop(t)
	res := must(t, signup(t, p.base, "outage@example.com", "password-123"), 201, "signup while the broker is down")
	userID := res.field(t, "id")
	time.Sleep(10 * time.Second)
	broker.Start(t)

	// Count this user's events until one arrived, then keep listening a while for a duplicate.
	var ids []string
	cctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var quiet *time.Timer
	_ = watcher.Consume(cctx, queue, func(_ context.Context, m bus.Message) error {
		var d contract.UserSignupData
		if _, err := contract.Decode(m, &d); err != nil {
			t.Errorf("undecodable event: %v", err)
			return nil
		}
		if d.UserID == userID {
			ids = append(ids, m.ID)
			if quiet == nil {
				quiet = time.AfterFunc(5*time.Second, cancel)
			}
		}
		return nil
	})
	if len(ids) != 1 {
		t.Fatalf("user.signup delivered %d times after the outage (ids %v), want exactly 1", len(ids), ids)
	}
}
