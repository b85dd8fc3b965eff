package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/rabbitmq"
	"github.com/mint-wallet/mint/internal/platform/event"
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
	addr := testenv.FreeAddr(t)
	env = append([]string{"MINT_AMQP_URL=" + amqpURL, "MINT_AUTH_KEYS_FILE=" + keys,
		"MINT_DATA_DIR=" + data, "MINT_HTTP_ADDR=" + addr}, append(devEnv, env...)...)
	return start(t, "http://"+addr, env, "serve", "auth")
}

// TestServeAuthWithoutRedis: Redis dies under a running auth service; signup, login, /auth/user and
// logout keep working.
func TestServeAuthWithoutRedis(t *testing.T) {
	redis := testenv.OwnRedis(t)
	p := startServeAuth(t, testenv.IsolatedRabbitURL(t), "MINT_REDIS_URL="+redis.URL(), "MINT_COOKIE_SECURE=false")
	must(t, signup(t, p.base, "before@example.com", "password-123"), 201, "signup with Redis")
	tok := must(t, login(t, p.base, "before@example.com", "password-123"), 200, "login with Redis").field(t, "token")
	must(t, call(t, "GET", p.base+"/api/v1/auth/user", nil, tok), 200, "user with Redis (caches it)")

	redis.Kill(t)
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
		if _, err := event.Decode(m, &d); err != nil {
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
