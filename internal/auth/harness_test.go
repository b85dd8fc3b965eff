package auth_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mint-wallet/mint/internal/auth"
	"github.com/mint-wallet/mint/internal/auth/password"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/servicetest"
)

// fastHash keeps the suite quick; the hashing itself is tested in package password.
var fastHash = password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

type harness struct {
	t      testing.TB
	mod    *auth.Module
	bus    bus.Bus
	client *servicetest.Client
}

type harnessOptions struct {
	redisURL string // "" = the test Redis
	throttle auth.ThrottleConfig
	hash     password.Params // zero = fastHash
}

// newHarness serves the auth service over HTTP against the embedded MongoDB-wire server, the real
// RabbitMQ and a real Redis, wired as `mint serve auth` wires it.
func newHarness(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	env := servicetest.New(t, servicetest.Options{RedisURL: o.redisURL})
	if o.hash == (password.Params{}) {
		o.hash = fastHash
	}
	if o.throttle.MaxFailures == 0 {
		o.throttle = auth.ThrottleConfig{MaxFailures: 5, Delay: time.Hour, MaxDelay: time.Hour}
	}
	mod, err := auth.New(env.Ctx, auth.Config{
		KeysFile: filepath.Join(env.KeysDir, "keys.json"), CreateKeys: true, TokenLifetime: time.Hour,
		Hash: o.hash, Throttle: o.throttle, SecureCookie: true,
	}, auth.Deps{DB: env.Database(t, auth.DatabaseName), Publisher: env.Bus, Cache: env.Cache, Logger: env.Logger, Registerer: env.Registry})
	if err != nil {
		t.Fatal(err)
	}
	client := env.Serve(t, servicetest.Service{Name: "auth", Register: mod.Register, Authn: mod.Verifier().Authenticate,
		Tracer: sdktrace.NewTracerProvider().Tracer("auth-test")})
	env.Run("auth background work", mod.Run)
	return &harness{t: t, mod: mod, bus: env.Bus, client: client}
}

type response = servicetest.Response

// do sends a request (servicetest.Client.Do).
func (h *harness) do(method, path string, body any, token string, headers ...string) response {
	h.t.Helper()
	return h.client.Do(h.t, method, path, body, token, headers...)
}

type account struct {
	id, email, token string
}

// signup creates an account with an email unique to the test and returns it.
func (h *harness) signup(first, last string) account {
	h.t.Helper()
	email := fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(first), strings.ToLower(last), time.Now().UnixNano())
	res := h.do("POST", "/api/v1/auth/signup", map[string]string{
		"firstName": first, "lastName": last, "email": email, "password": "password-123",
	}, "")
	if res.Status != http.StatusCreated {
		h.t.Fatalf("signup %s: %d %s", email, res.Status, res.Body)
	}
	m := res.JSON(h.t)
	return account{id: m["id"].(string), email: email, token: m["token"].(string)}
}

// expectProblem checks a problem response (servicetest.Response.ExpectProblem).
func expectProblem(t testing.TB, res response, status int, code, field string) {
	t.Helper()
	res.ExpectProblem(t, status, code, field)
}
