package e2e

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// devEnv runs mint dev with cheap password hashing, so the suite is quick; TestLoginTiming uses the
// production parameters.
var devEnv = []string{"MINT_AUTH_ARGON2_MEMORY_KIB=1024", "MINT_AUTH_ARGON2_ITERATIONS=1", "MINT_LOG_LEVEL=warn"}

func startDev(t *testing.T, dataDir string, env ...string) *process {
	t.Helper()
	addr := testenv.FreeAddr(t)
	return start(t, "http://"+addr, append(slices.Clone(devEnv), env...), "dev", "--http-addr", addr, "--data-dir", dataDir)
}

// TestDevSessionFlow is the README's first walk-through: signup → login → /auth/user → logout → the old
// token is refused; then the data survives a restart of mint dev.
func TestDevSessionFlow(t *testing.T) {
	data := tempDir(t)
	p := startDev(t, data)
	must(t, signup(t, p.base, "flow@example.com", "password-123"), 201, "signup")
	tok := must(t, login(t, p.base, "FLOW@example.com", "password-123"), 200, "login").field(t, "token")
	if got := must(t, call(t, "GET", p.base+"/api/v1/auth/user", nil, tok), 200, "user").field(t, "email"); got != "flow@example.com" {
		t.Fatalf("user email = %q", got)
	}
	must(t, call(t, "POST", p.base+"/api/v1/auth/logout", nil, tok), 204, "logout")
	res := must(t, call(t, "GET", p.base+"/api/v1/auth/user", nil, tok), 401, "user after logout")
	if res.field(t, "code") != "unauthenticated" || res.header.Get("X-Request-Id") == "" {
		t.Fatalf("after logout: %s %v", res.body, res.header)
	}

	for _, path := range []string{"/health", "/ready", "/metrics", "/api-docs", "/api-docs/openapi.json", "/.well-known/jwks.json"} {
		must(t, call(t, "GET", p.base+path, nil, ""), 200, path)
	}
	doc := string(call(t, "GET", p.base+"/api-docs/openapi.json", nil, "").body)
	for _, path := range []string{`"/api/v1/auth/signup"`, `"/api/v1/users/{id}"`, `"SignupRequest"`, `"Problem"`} {
		if !strings.Contains(doc, path) {
			t.Errorf("the served API document lacks %s", path)
		}
	}
	metrics := string(call(t, "GET", p.base+"/metrics", nil, "").body)
	for _, name := range []string{`http_requests_total{method="POST",route="POST /api/v1/auth/login",status_code="200"}`,
		"http_request_duration_seconds_bucket", "active_connections", "db_query_duration_seconds_bucket",
		"cache_misses_total", "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(metrics, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}

	// SIGTERM stops it cleanly; the account and its sessions survive the restart.
	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("mint dev did not exit cleanly on SIGTERM: %v", err)
	}
	p2 := startDev(t, data)
	tok2 := must(t, login(t, p2.base, "flow@example.com", "password-123"), 200, "login after restart").field(t, "token")
	must(t, call(t, "GET", p2.base+"/api/v1/auth/user", nil, tok2), 200, "user after restart")
	must(t, call(t, "GET", p2.base+"/api/v1/auth/user", nil, tok), 401, "revoked token after restart")
}

// kidOf returns the kid in a JWT's header.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	head, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(head, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

func jwksKids(t *testing.T, base string) []string {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(must(t, call(t, "GET", base+"/.well-known/jwks.json", nil, ""), 200, "jwks").body, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

// TestKeyRotation: a token issued before `mint keys rotate` still works after it, new tokens carry the
// new kid, and the JWKS lists both — without restarting the service.
func TestKeyRotation(t *testing.T) {
	data := tempDir(t)
	p := startDev(t, data)
	old := must(t, signup(t, p.base, "rotate@example.com", "password-123"), 201, "signup").field(t, "token")
	oldKid := kidOf(t, old)

	out, err := exec.Command(mintBin, "keys", "rotate", "--file", filepath.Join(data, "auth-keys.json")).CombinedOutput()
	if err != nil {
		t.Fatalf("mint keys rotate: %v\n%s", err, out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(jwksKids(t, p.base)) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the JWKS still lists %v 15 s after rotation", jwksKids(t, p.base))
		}
		time.Sleep(200 * time.Millisecond)
	}
	fresh := must(t, login(t, p.base, "rotate@example.com", "password-123"), 200, "login").field(t, "token")
	newKid := kidOf(t, fresh)
	if newKid == oldKid || !strings.Contains(string(out), newKid) {
		t.Fatalf("new token kid %q, old %q, rotate said %q", newKid, oldKid, out)
	}
	if kids := jwksKids(t, p.base); !slices.Contains(kids, oldKid) || !slices.Contains(kids, newKid) {
		t.Fatalf("JWKS kids %v, want both %s and %s", kids, oldKid, newKid)
	}
	must(t, call(t, "GET", p.base+"/api/v1/auth/user", nil, old), 200, "token from before the rotation")
	must(t, call(t, "GET", p.base+"/api/v1/auth/user", nil, fresh), 200, "token from after the rotation")
}

// TestDevDataDirTakesOneProcess: a second mint dev, or mint wallet reconcile, on a data dir in use is
// refused with a clear error (two processes on one embedded database would break its atomic updates);
// once the first has stopped, the dir is free again.
func TestDevDataDirTakesOneProcess(t *testing.T) {
	data := tempDir(t)
	p := startDev(t, data)
	refused := func(args ...string) {
		t.Helper()
		cmd := exec.Command(mintBin, args...)
		cmd.Env = append(cmd.Environ(), devEnv...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "in use by another process") ||
			strings.Contains(string(out), "panic") {
			t.Errorf("mint %v on a data dir in use: %v\n%s", args, err, out)
		}
	}
	refused("dev", "--http-addr", testenv.FreeAddr(t), "--data-dir", data)
	refused("wallet", "reconcile", "--data-dir", data)
	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("mint dev stopped with %v", err)
	}
	if out, err := exec.Command(mintBin, "wallet", "reconcile", "--data-dir", data).CombinedOutput(); err != nil {
		t.Fatalf("reconcile after mint dev stopped: %v\n%s", err, out)
	}
}

// TestLoginTiming: with the production argon2id parameters, a login with an unknown email takes as long
// as one with a known email and a wrong password (medians within ±40 %), so timing does not reveal
// which emails have accounts.
func TestLoginTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing needs the production hash cost; not a -short test")
	}
	addr := testenv.FreeAddr(t)
	p := start(t, "http://"+addr, []string{"MINT_LOG_LEVEL=warn", "MINT_AUTH_LOGIN_MAX_FAILURES=100000", "MINT_AUTH_LOGIN_ACCOUNT_MAX_FAILURES=100000"},
		"dev", "--http-addr", addr, "--data-dir", tempDir(t))
	must(t, signup(t, p.base, "known@example.com", "password-123"), 201, "signup")
	const rounds = 25
	var known, unknown []time.Duration
	for i := range rounds { // interleaved, so drift in machine load hits both alike
		start := time.Now()
		must(t, login(t, p.base, "known@example.com", "wrong-password"), http.StatusUnauthorized, "known email")
		known = append(known, time.Since(start))
		start = time.Now()
		must(t, login(t, p.base, fmt.Sprintf("nobody-%d@example.com", i), "wrong-password"), http.StatusUnauthorized, "unknown email")
		unknown = append(unknown, time.Since(start))
	}
	mk, mu := median(known), median(unknown)
	ratio := float64(mu) / float64(mk)
	t.Logf("median login: known email + wrong password %v, unknown email %v (ratio %.2f)", mk, mu, ratio)
	if ratio < 0.6 || ratio > 1.4 {
		t.Fatalf("unknown-email median %v is not within ±40%% of known-email median %v", mu, mk)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// TestDevRefusesForeignHosts: mint dev answers only for loopback names, so a web page that rebinds
// its own name to 127.0.0.1 reaches neither the API, nor /metrics, nor the caught mails; a LAN demo
// names its host in MINT_ALLOWED_HOSTS.
func TestDevRefusesForeignHosts(t *testing.T) {
	p := startDev(t, tempDir(t))
	_, port, _ := strings.Cut(strings.TrimPrefix(p.base, "http://"), ":")
	for _, host := range []string{"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "mint.localhost:" + port} {
		must(t, tryHost(t, "GET", p.base+"/health", host), 200, "Host "+host)
	}
	for _, path := range []string{"/health", "/metrics", "/dev/mail", "/api-docs", "/api/v1/auth/signup"} {
		res := must(t, tryHost(t, "GET", p.base+path, "rebind.attacker.example:"+port), 421, path+" for a foreign Host")
		if res.field(t, "code") != "misdirected_request" {
			t.Fatalf("%s for a foreign Host: %s", path, res.body)
		}
	}

	lan := startDev(t, tempDir(t), "MINT_ALLOWED_HOSTS=mint.lan,127.0.0.1")
	must(t, tryHost(t, "GET", lan.base+"/health", "mint.lan"), 200, "a host named in MINT_ALLOWED_HOSTS")
	must(t, tryHost(t, "GET", lan.base+"/health", "other.lan"), 421, "a host not named in MINT_ALLOWED_HOSTS")
}

// tryHost sends a request to url with the given Host header.
func tryHost(t *testing.T, method, url, host string) result {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s (Host %s): %v", method, url, host, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return result{status: res.StatusCode, header: res.Header, body: raw}
}
