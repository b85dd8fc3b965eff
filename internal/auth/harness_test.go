package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mint-wallet/mint/internal/auth"
	"github.com/mint-wallet/mint/internal/auth/password"
	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/rabbitmq"
	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/mongox/mongotest"
	"github.com/mint-wallet/mint/internal/platform/openapi"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// fastHash keeps the suite quick; the hashing itself is tested in package password.
var fastHash = password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

type harness struct {
	t      testing.TB
	srv    *httptest.Server
	mod    *auth.Module
	bus    bus.Bus
	client *http.Client
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
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	reg := prometheus.NewRegistry()

	b, err := rabbitmq.New(ctx, rabbitmq.Config{URL: testenv.IsolatedRabbitURL(t), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Declare(ctx, contract.Topology()); err != nil {
		t.Fatal(err)
	}
	redisURL := o.redisURL
	if redisURL == "" {
		redisURL = testenv.RedisURL(t)
	}
	rc, err := cache.NewRedis(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cache.NewResilient(rc, logger, reg)
	if err != nil {
		t.Fatal(err)
	}
	if o.hash == (password.Params{}) {
		o.hash = fastHash
	}
	if o.throttle.MaxFailures == 0 {
		o.throttle = auth.ThrottleConfig{MaxFailures: 5, Window: time.Minute}
	}
	keysDir, err := os.MkdirTemp("", "mint-keys")
	if err != nil {
		t.Fatal(err)
	}
	db := mongotest.Open(t)
	mod, err := auth.New(ctx, auth.Config{
		KeysFile: keysDir + "/keys.json", CreateKeys: true, TokenLifetime: time.Hour,
		Hash: o.hash, Throttle: o.throttle, SecureCookie: true,
	}, auth.Deps{DB: db.Database(mongotest.DBName(t, auth.DatabaseName)), Publisher: b, Cache: c, Logger: logger, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mod.Register(httpx.NewRouter(mux, openapi.New("auth", "test", ""), mod.Verifier().Authenticate, logger))
	tracer := sdktrace.NewTracerProvider().Tracer("auth-test")
	srv := httptest.NewServer(httpx.Edge(mux, httpx.EdgeConfig{Logger: logger, Tracer: tracer}))
	done := make(chan error, 1)
	go func() { done <- mod.Run(ctx) }()
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("auth background work: %v", err)
		}
		_ = b.Close()
		_ = c.Close()
		_ = os.RemoveAll(keysDir)
	})
	return &harness{t: t, srv: srv, mod: mod, bus: b, client: srv.Client()}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not a JSON object: %v: %s", r.status, err, r.body)
	}
	return m
}

// do sends a request; body is JSON-encoded unless it is a string (sent as is) and token, when set, is
// sent as a Bearer token.
func (h *harness) do(method, path string, body any, token string, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: raw}
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
	if res.status != http.StatusCreated {
		h.t.Fatalf("signup %s: %d %s", email, res.status, res.body)
	}
	m := res.json(h.t)
	return account{id: m["id"].(string), email: email, token: m["token"].(string)}
}

// expectProblem checks a problem+json response's status, code and (when given) first field.
func expectProblem(t *testing.T, res response, status int, code, field string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status = %d, want %d: %s", res.status, status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	p := res.json(t)
	if p["code"] != code || int(p["status"].(float64)) != status || p["type"] == "" || p["title"] == "" {
		t.Fatalf("problem = %v, want code %q status %d with type and title", p, code, status)
	}
	if field == "" {
		return
	}
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		if e.(map[string]any)["field"] == field {
			return
		}
	}
	t.Fatalf("problem errors %v do not name field %q", errs, field)
}
