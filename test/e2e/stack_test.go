package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// The local stack's fixed addresses (deploy/stack/stack.sh).
const (
	gatewayURL    = "http://127.0.0.1:8088"
	mailpitURL    = "http://127.0.0.1:8025"
	prometheusURL = "http://127.0.0.1:9090"
)

// needCommand returns the path of a program a test runs; without it the test fails under CI=true
// (.ci/run installs it) and is skipped elsewhere.
func needCommand(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if gobin := filepath.Join(goPath(), "bin", name); fileExists(gobin) {
		return gobin
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (.ci/run installs it)", name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}

func goPath() string {
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestDeployConfigsAreValid checks deploy/ with the programs that will read it: nginx -t on the
// gateway's configuration, promtool on Prometheus's configurations and rules, and the rules' unit
// tests, docker-compose on the compose file (it validates without a Docker engine) and kustomize
// (kubectl's) on the Kubernetes manifests.
func TestDeployConfigsAreValid(t *testing.T) {
	nginx, promtool, compose := needCommand(t, "nginx"), needCommand(t, "promtool"), needCommand(t, "docker-compose")
	kubectl := needCommand(t, "kubectl")
	deploy, err := filepath.Abs("../../deploy")
	if err != nil {
		t.Fatal(err)
	}
	state := tempDir(t)
	if err := os.MkdirAll(filepath.Join(state, "nginx-tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{nginx, "-t", "-p", state + "/", "-c", filepath.Join(deploy, "nginx/nginx.local.conf")},
		{promtool, "check", "config", filepath.Join(deploy, "prometheus/prometheus.local.yml")},
		{promtool, "check", "config", filepath.Join(deploy, "prometheus/prometheus.compose.yml")},
		{promtool, "test", "rules", filepath.Join(deploy, "prometheus/rules/mint.rules.test.yml")},
		{compose, "-f", filepath.Join(deploy, "compose.yaml"), "config", "-q"},
		{kubectl, "kustomize", filepath.Join(deploy, "k8s/base")},
		{kubectl, "kustomize", filepath.Join(deploy, "k8s/overlays/example")},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// stack is a running make stack, started by startStack and stopped with the test.
type stack struct {
	t   *testing.T
	dir string
}

// startStack runs make stack — building the binary into the stack's folder, in a vhost and a Redis
// database of the test's own — and make stack-down when the test ends.
func startStack(t *testing.T) *stack {
	t.Helper()
	for _, name := range []string{"nginx", "prometheus", "mailpit"} {
		needCommand(t, name)
	}
	s := &stack{t: t, dir: tempDir(t)}
	env := append(os.Environ(), "MINT_STACK_DIR="+s.dir,
		"MINT_STACK_AMQP_URL="+testenv.IsolatedRabbitURL(t), "MINT_STACK_REDIS_URL="+testenv.RedisURL(t),
		"MINT_STACK_MAILPIT="+needCommand(t, "mailpit"))
	runMake := func(target string) ([]byte, error) {
		cmd := exec.Command("make", "-C", "../..", target, "BIN="+filepath.Join(s.dir, "mint"))
		cmd.Env = env
		return cmd.CombinedOutput()
	}
	t.Cleanup(func() {
		if out, err := runMake("stack-down"); err != nil {
			t.Errorf("make stack-down: %v\n%s", err, out)
		}
		if t.Failed() {
			s.dumpLogs()
		}
	})
	if out, err := runMake("stack"); err != nil {
		t.Fatalf("make stack: %v\n%s", err, out)
	}
	return s
}

func (s *stack) dumpLogs() {
	logs, _ := filepath.Glob(filepath.Join(s.dir, "logs", "*.log"))
	for _, l := range logs {
		raw, _ := os.ReadFile(l)
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		s.t.Logf("%s (last lines):\n%s", filepath.Base(l), strings.Join(lines[max(0, len(lines)-15):], "\n"))
	}
}

// kill SIGKILLs one process of the stack, as a crash would.
func (s *stack) kill(name string) {
	s.t.Helper()
	raw, err := os.ReadFile(filepath.Join(s.dir, "pids", name+".pid"))
	if err != nil {
		s.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		s.t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		s.t.Fatalf("kill %s: %v", name, err)
	}
}

// politeCall is a call through the gateway by a client that keeps to its rate limit: a 429 is waited
// out (Retry-After) and the same request sent again, which the gateway never passed on.
func politeCall(t *testing.T, method, path string, body any, token string, headers ...string) result {
	t.Helper()
	for attempt := 0; ; attempt++ {
		res, err := tryCall(method, gatewayURL+path, body, token, headers...)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		if res.status != http.StatusTooManyRequests || attempt == 20 {
			return res
		}
		wait, _ := strconv.Atoi(res.header.Get("Retry-After"))
		time.Sleep(time.Duration(max(wait, 1)) * time.Second)
	}
}

// TestStackThroughNginx runs make stack and uses it as a client would, through nginx only: every
// route prefix reaches its service, the mails arrive in Mailpit once each, the gateway's rate limit
// answers problems, and a wallet and a transactions replica killed mid-traffic fail no request.
func TestStackThroughNginx(t *testing.T) {
	s := startStack(t)

	// The gateway's own answers.
	health := call(t, "GET", gatewayURL+"/health", nil, "")
	if health.status != 200 || health.field(t, "service") != "gateway" {
		t.Fatalf("gateway /health: %d %s", health.status, health.body)
	}
	if h := health.header.Get("X-Content-Type-Options"); h != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", h)
	}
	notFound := call(t, "GET", gatewayURL+"/nowhere", nil, "")
	wantGatewayProblem(t, notFound, 404, "not_found")

	// The whole API's document, whichever service answers it.
	var doc struct{ Paths map[string]any }
	if err := json.Unmarshal(must(t, call(t, "GET", gatewayURL+"/api-docs/openapi.json", nil, ""), 200, "API document").body, &doc); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/auth/signup", "/api/v1/users/search", "/api/v1/wallet/history", "/api/v1/transactions/transfer"} {
		if doc.Paths[path] == nil {
			t.Errorf("the gateway's API document lacks %s", path)
		}
	}
	must(t, call(t, "GET", gatewayURL+"/api-docs", nil, ""), 200, "API docs UI")

	// Every route prefix, each answered by its service: auth (signup, users, JWKS), wallet,
	// transactions.
	signupAs := func(name string) user {
		res := politeCall(t, "POST", "/api/v1/auth/signup", map[string]string{"firstName": name, "lastName": "Stack",
			"email": strings.ToLower(name) + "@example.com", "password": "password-123"}, "")
		must(t, res, 201, "signup "+name)
		return user{id: res.field(t, "id"), token: res.field(t, "token")}
	}
	ada, bob := signupAs("Ada"), signupAs("Bob")
	must(t, politeCall(t, "POST", "/api/v1/auth/login", map[string]string{"email": "ada@example.com", "password": "password-123"}, ""),
		200, "login")
	search := must(t, politeCall(t, "GET", "/api/v1/users/search?q=bob", nil, ada.token), 200, "search")
	if !strings.Contains(string(search.body), bob.id) {
		t.Errorf("search for bob: %s", search.body)
	}
	must(t, politeCall(t, "GET", "/.well-known/jwks.json", nil, ""), 200, "JWKS")
	requestID := "stack-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	me := must(t, politeCall(t, "GET", "/api/v1/users/me", nil, ada.token, "X-Request-Id", requestID), 200, "me")
	if got := me.header.Get("X-Request-Id"); got != requestID {
		t.Errorf("X-Request-Id = %q, want the client's %q passed on and echoed", got, requestID)
	}
	stackBalance(t, ada) // the wallet exists once user.signup went through
	changes := openStatusStream(t, ada)
	topup := must(t, politeCall(t, "POST", "/api/v1/transactions/topup", map[string]any{"amount": "100.00"}, ada.token,
		"Idempotency-Key", "stack-topup"), 201, "top-up")
	stackSettle(t, ada, topup.field(t, "id"))
	// The status stream, through the gateway, announced the top-up completed (unbuffered: nginx holds
	// nothing back).
	for deadline := time.After(30 * time.Second); ; {
		select {
		case ev := <-changes:
			if ev["id"] != topup.field(t, "id") || ev["status"] != "completed" {
				continue
			}
		case <-deadline:
			t.Fatal("the status stream through nginx did not announce the top-up completed")
		}
		break
	}

	// 30 transfers of 0.01, each with its key, sent again with it as a client does when the answer is
	// lost — a gateway error, or the key's request still in progress on a replica that died holding it
	// (its lease runs out in 10 s); wallet and transactions reads between them, which the gateway
	// retries on the other replica by itself. After the 8th, one replica of each is SIGKILLed.
	const transfers = 30
	var ids []string
	for i := range transfers {
		if i == 8 {
			s.kill("wallet-2")
			s.kill("transactions-2")
		}
		key := fmt.Sprintf("stack-transfer-%d", i)
		var res result
		for deadline := time.Now().Add(60 * time.Second); ; {
			res = politeCall(t, "POST", "/api/v1/transactions/transfer",
				map[string]any{"amount": "0.01", "recipientId": bob.id}, ada.token, "Idempotency-Key", key)
			retry := res.status >= 500 || res.status == http.StatusConflict && strings.Contains(string(res.body), "idempotency_in_progress")
			if !retry || time.Now().After(deadline) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		must(t, res, 201, "transfer "+key)
		ids = append(ids, res.field(t, "id"))
		must(t, politeCall(t, "GET", "/api/v1/wallet/user", nil, ada.token), 200, "wallet read")
		must(t, politeCall(t, "GET", "/api/v1/transactions?limit=5", nil, ada.token), 200, "list read")
	}
	for _, id := range ids {
		if tx := stackSettle(t, ada, id); tx["status"] != "completed" {
			t.Errorf("transfer %s: %v", id, tx)
		}
	}
	if got, want := stackBalance(t, ada), int64(100_00-transfers); got != want {
		t.Errorf("Ada's balance %d cents, want %d", got, want)
	}
	if got, want := stackBalance(t, bob), int64(transfers); got != want {
		t.Errorf("Bob's balance %d cents, want %d", got, want)
	}
	list := must(t, politeCall(t, "GET", "/api/v1/transactions?type=transfer&limit=100", nil, ada.token), 200, "list")
	var page struct{ Total int }
	if err := json.Unmarshal(list.body, &page); err != nil || page.Total != transfers {
		t.Errorf("Ada has %d transfers (%v), want %d: one per key", page.Total, err, transfers)
	}

	// Cache-aside through Redis: the second of two reads of what did not change is answered from the
	// cache (the dashboards' hit rate has data).
	for range 2 {
		must(t, politeCall(t, "GET", "/api/v1/transactions/"+topup.field(t, "id"), nil, ada.token), 200, "transaction read")
		must(t, politeCall(t, "GET", "/api/v1/wallet/user", nil, bob.token), 200, "wallet read")
	}
	for base, prefix := range map[string]string{"http://127.0.0.1:4003": "wallet:wallets", "http://127.0.0.1:4004": "transactions:tx"} {
		if hits := metricSum(t, base, "cache_hits_total", `cache_key_prefix="`+prefix+`"`); hits < 1 {
			t.Errorf("%s: no cache hit for %s after reading it twice", base, prefix)
		}
	}

	// More than Bob holds: it fails, moving nothing, and he is told why.
	over := must(t, politeCall(t, "POST", "/api/v1/transactions/transfer", map[string]any{"amount": "1000.00", "recipientId": ada.id},
		bob.token, "Idempotency-Key", "stack-overdraft"), 201, "overdraft")
	if tx := stackSettle(t, bob, over.field(t, "id")); tx["status"] != "failed" || tx["failureReason"] != "insufficient_funds" {
		t.Errorf("overdraft: %v, want failed for insufficient_funds", tx)
	}

	// The gateway keeps its connections to the services: a surviving replica served many requests
	// on a few connections (besides the gateway's: Prometheus's scrapes and the stack's readiness
	// checks).
	for _, base := range []string{"http://127.0.0.1:4003", "http://127.0.0.1:4004"} {
		requests, conns := metricSum(t, base, "http_requests_total"), metricSum(t, base, "http_connections_total")
		if requests < 20 || conns > requests/4 {
			t.Errorf("%s: %v requests on %v connections; want them on few kept-alive connections", base, requests, conns)
		}
		t.Logf("%s: %v requests on %v connections", base, requests, conns)
	}

	checkMailpit(t, map[string]int{
		"ada@example.com Welcome to Mint, Ada":                            1,
		"bob@example.com Welcome to Mint, Bob":                            1,
		"ada@example.com Your top-up of 100.00 USD is in your wallet":     1,
		"ada@example.com You sent 0.01 USD to Bob Stack":                  transfers,
		"bob@example.com You received 0.01 USD from Ada Stack":            transfers,
		"bob@example.com Your transfer of 1000.00 USD did not go through": 1,
	})

	// The web wallet through the gateway, before the rate-limit check spends this client's burst.
	walkWebWallet(t, gatewayURL, "stack")

	checkRateLimit(t)
	checkQueriesHaveData(t)
}

func wantGatewayProblem(t *testing.T, res result, status int, code string) {
	t.Helper()
	var p struct {
		Status int
		Code   string
	}
	if err := json.Unmarshal(res.body, &p); err != nil || res.status != status || p.Status != status || p.Code != code ||
		res.header.Get("Content-Type") != "application/problem+json" || res.header.Get("X-Request-Id") == "" {
		t.Errorf("status %d %v %s, want a %d problem+json %s with a request id", res.status, res.header, res.body, status, code)
	}
}

// checkRateLimit sends 40 requests at once from one client and checks the gateway let through at most
// its burst (20) plus one plus what its rate (10/s) refilled while they were sent, answering the rest
// 429 problems with Retry-After.
func checkRateLimit(t *testing.T) {
	t.Helper()
	time.Sleep(2500 * time.Millisecond) // the bucket refills: 20 at 10/s
	const n = 40
	results := make([]result, n)
	var wg sync.WaitGroup
	began := time.Now()
	for i := range n {
		wg.Go(func() {
			res, err := tryCall("GET", gatewayURL+"/api/v1/users/me", nil, "")
			if err != nil {
				t.Errorf("request %d: %v", i, err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	passed, limited := 0, 0
	for _, res := range results {
		switch res.status {
		case http.StatusTooManyRequests:
			limited++
			wantGatewayProblem(t, res, 429, "rate_limited")
			if res.header.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After: %v", res.header)
			}
		case http.StatusUnauthorized: // reached auth, which wants a session
			passed++
		default:
			t.Errorf("status %d: %s", res.status, res.body)
		}
	}
	allowed := 21 + int(10*elapsed.Seconds()) + 1
	if passed > allowed {
		t.Errorf("%d of %d requests passed in %v, want at most %d (burst 20 + 1 + 10/s)", passed, n, elapsed, allowed)
	}
	if want := n - allowed; limited < want {
		t.Errorf("%d requests limited in %v, want at least %d", limited, elapsed, want)
	}
	t.Logf("%d requests at once in %v: %d passed, %d answered 429", n, elapsed.Round(time.Millisecond), passed, limited)
}

// checkMailpit waits until Mailpit holds the mails of want (recipient and subject → count) and
// checks that each arrived exactly that many times, and nothing else.
func checkMailpit(t *testing.T, want map[string]int) {
	t.Helper()
	total := 0
	for _, n := range want {
		total += n
	}
	var got map[string]int
	deadline := time.Now().Add(60 * time.Second)
	for {
		res := call(t, "GET", mailpitURL+"/api/v1/messages?limit=1000", nil, "")
		var page struct {
			Messages []struct {
				Subject string
				To      []struct{ Address string }
			}
		}
		if err := json.Unmarshal(res.body, &page); err != nil {
			t.Fatalf("Mailpit: %v: %s", err, res.body)
		}
		got = map[string]int{}
		for _, m := range page.Messages {
			for _, to := range m.To {
				got[to.Address+" "+m.Subject]++
			}
		}
		if len(page.Messages) >= total || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("mail %q arrived %d times, want %d", k, got[k], n)
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected mail %q (%d)", k, n)
		}
	}
}

// stackBalance waits until u's wallet exists and returns its balance in cents, read through the
// gateway.
func stackBalance(t *testing.T, u user) int64 {
	t.Helper()
	return pollBalance(t, u, 200*time.Millisecond, func() result {
		return politeCall(t, "GET", "/api/v1/wallet/user", nil, u.token)
	})
}

// stackSettle waits up to 60 s until transaction id reads as terminal through the gateway and returns
// it.
func stackSettle(t *testing.T, u user, id string) map[string]any {
	t.Helper()
	return pollTerminal(t, id, time.Now().Add(60*time.Second), 200*time.Millisecond, func() result {
		return politeCall(t, "GET", "/api/v1/transactions/"+id, nil, u.token)
	})
}

// emptyByDesign are the dashboard panels and alert conditions whose queries have no series on a
// healthy stack, each with the reason.
var emptyByDesign = map[string]string{
	"Server errors (5xx ratio)":                 "no service answers 5xx in the run",
	"Cache errors per second":                   "Redis never fails in the run",
	"Re-driven (stuck) transactions per second": "a transaction is re-driven only when stuck 30 s (the kills may or may not leave one)",
	"HighErrorRatio":                            "no service answers 5xx in the run",
	"TransactionsStuck":                         "a transaction is re-driven only when stuck 30 s",
	"CacheErrors":                               "Redis never fails in the run",
}

// alertThreshold is the comparison that ends an alert's expression: without it, the expression is
// the measure the alert watches, which must have data.
var alertThreshold = regexp.MustCompile(`\s*(==|!=|>=|<=|>|<)\s*[0-9.]+\s*$`)

// logSelector is a LogQL stream selector on the labels Alloy sets, and only those.
var logSelector = regexp.MustCompile(`^\{((service|level|container)=~?"[^"]*"(, *)?)+\}`)

// checkQueriesHaveData asks the stack's Prometheus every query of the Grafana dashboards and every
// alert's measure, and fails on one without series unless it is empty by design; LogQL queries must
// select only the labels Alloy sets.
func checkQueriesHaveData(t *testing.T) {
	t.Helper()
	queries := dashboardQueries(t)
	var rules struct {
		Groups []struct {
			Rules []struct{ Alert, Expr string }
		}
	}
	raw, err := os.ReadFile("../../deploy/prometheus/rules/mint.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatal(err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			queries[r.Alert] = alertThreshold.ReplaceAllString(strings.TrimSpace(r.Expr), "")
		}
	}

	// Prometheus scrapes every 15 s and a rate needs two samples: series that appeared late in the
	// run take a few scrapes to show.
	empty := map[string]bool{}
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(5 * time.Second) {
		clear(empty)
		missing := 0
		for name, expr := range queries {
			if prometheusSeries(t, expr) == 0 {
				empty[name] = true
				if _, ok := emptyByDesign[name]; !ok {
					missing++
				}
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
	}
	for name := range empty {
		if reason, ok := emptyByDesign[name]; ok {
			t.Logf("%q has no data, by design: %s", name, reason)
		} else {
			t.Errorf("%q has no data: %s", name, queries[name])
		}
	}
	t.Logf("%d dashboard and alert queries asked, %d empty", len(queries), len(empty))
}

// dashboardQueries reads the PromQL of every dashboard panel (title → query, with Grafana's
// $__rate_interval as 5m) and checks the LogQL of the logs panels.
func dashboardQueries(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../../deploy/grafana/provisioning/dashboards/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	queries := map[string]string{}
	for _, f := range files {
		var d struct {
			Panels []struct {
				Title   string
				Type    string
				Targets []struct{ Expr string }
			}
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				switch {
				case p.Type != "logs":
					queries[p.Title] = strings.ReplaceAll(tg.Expr, "$__rate_interval", "5m")
				case !logSelector.MatchString(tg.Expr):
					t.Errorf("%s: panel %q: LogQL %q selects a label Alloy does not set (service, level, container)", f, p.Title, tg.Expr)
				}
			}
		}
	}
	return queries
}

// prometheusSeries is how many series the stack's Prometheus answers expr with now.
func prometheusSeries(t *testing.T, expr string) int {
	t.Helper()
	res := call(t, "GET", prometheusURL+"/api/v1/query?query="+url.QueryEscape(expr), nil, "")
	var answer struct {
		Status string
		Data   struct{ Result []json.RawMessage }
	}
	if err := json.Unmarshal(res.body, &answer); err != nil || answer.Status != "success" {
		t.Fatalf("query %s: %d %s", expr, res.status, res.body)
	}
	return len(answer.Data.Result)
}

// TestGrafanaDashboardsAreGenerated: the dashboards in deploy/grafana are what dashboards.go writes.
func TestGrafanaDashboardsAreGenerated(t *testing.T) {
	out := tempDir(t)
	gen := exec.Command("go", "run", "dashboards.go", "-out", out)
	gen.Dir = "../../deploy/grafana"
	if msg, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("go run dashboards.go: %v\n%s", err, msg)
	}
	written, _ := filepath.Glob(filepath.Join(out, "*.json"))
	committed, _ := filepath.Glob("../../deploy/grafana/provisioning/dashboards/*.json")
	if len(written) == 0 || len(written) != len(committed) {
		t.Fatalf("dashboards.go writes %d dashboards, %d are committed", len(written), len(committed))
	}
	for _, w := range written {
		want, _ := os.ReadFile(w)
		got, err := os.ReadFile(filepath.Join("../../deploy/grafana/provisioning/dashboards", filepath.Base(w)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not what dashboards.go writes (run go run dashboards.go in deploy/grafana): %v", filepath.Base(w), err)
		}
	}
	dashboardQueries(t) // the LogQL checks
}

// openStatusStream opens u's status stream through the gateway and returns the transactions it
// announces, decoded; it closes with the test.
func openStatusStream(t *testing.T, u user) <-chan map[string]any {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, gatewayURL+"/api/v1/transactions/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+u.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status stream: %d %v", res.StatusCode, res.Header)
	}
	out := make(chan map[string]any, 256)
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var tx map[string]any
				if json.Unmarshal([]byte(data), &tx) == nil {
					out <- tx
				}
			}
		}
	}()
	return out
}
