package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// system is the services as separate `mint serve` processes on one RabbitMQ vhost, as they run in
// production: either each service with its own embedded database directory, or every process on one
// `mint db`, with services in several replicas.
type system struct {
	t        *testing.T
	env      []string
	dbURI    string // the shared `mint db`; "" when each replica embeds its own database
	replicas map[string][]*replica
}

// replica is one `mint serve <svc>` process: its data directory (its database, unless the system has
// a shared one) and HTTP address stay the same across restarts.
type replica struct {
	svc, dir, addr string
	p              *process
}

func (r *replica) base() string { return "http://" + r.addr }

// startSystem runs one process per service, each on a database directory of its own.
func startSystem(t *testing.T) *system {
	t.Helper()
	s := newSystem(t, "")
	for _, svc := range []string{"auth", "wallet", "transactions"} {
		s.startReplicas(svc, 1)
	}
	return s
}

// startReplicated runs a `mint db` and on it one auth process and n replicas each of wallet and
// transactions. The replicas of each service start at once, as a deployment starts them, racing each
// other to create their indexes.
func startReplicated(t *testing.T, n int) *system {
	t.Helper()
	s := newSystem(t, startDB(t, tempDir(t)))
	s.startReplicas("auth", 1)
	s.startReplicas("wallet", n)
	s.startReplicas("transactions", n)
	return s
}

func newSystem(t *testing.T, dbURI string) *system {
	t.Helper()
	s := &system{t: t, dbURI: dbURI, replicas: map[string][]*replica{}}
	keys := filepath.Join(tempDir(t), "keys.json")
	if out, err := exec.Command(mintBin, "keys", "generate", "--file", keys).CombinedOutput(); err != nil {
		t.Fatalf("mint keys generate: %v\n%s", err, out)
	}
	authAddr := testenv.FreeAddr(t)
	s.replicas["auth"] = []*replica{{svc: "auth", dir: tempDir(t), addr: authAddr}}
	s.env = append([]string{"MINT_AMQP_URL=" + testenv.IsolatedRabbitURL(t), "MINT_REDIS_URL=" + testenv.RedisURL(t),
		"MINT_AUTH_KEYS_FILE=" + keys, "MINT_AUTH_JWKS_URL=http://" + authAddr + "/.well-known/jwks.json",
		"MINT_TRANSACTIONS_STUCK_AFTER=3s", "MINT_COOKIE_SECURE=false"}, devEnv...)
	if dbURI != "" {
		s.env = append(s.env, "MINT_MONGODB_URI="+dbURI)
	}
	return s
}

// startReplicas launches n replicas of svc together (auth has its one replica already) and waits
// until every one answers /health.
func (s *system) startReplicas(svc string, n int) {
	s.t.Helper()
	for len(s.replicas[svc]) < n {
		s.replicas[svc] = append(s.replicas[svc], &replica{svc: svc, dir: tempDir(s.t), addr: testenv.FreeAddr(s.t)})
	}
	for _, r := range s.replicas[svc] {
		r.p = s.launch(r)
	}
	for _, r := range s.replicas[svc] {
		r.p.waitHealthy()
	}
}

// launch runs replica r without waiting for it (start waits); it is stopped with the test.
func (s *system) launch(r *replica) *process {
	s.t.Helper()
	cmd := exec.Command(mintBin, "serve", r.svc)
	cmd.Env = append(append(os.Environ(), s.env...), "MINT_DATA_DIR="+r.dir, "MINT_HTTP_ADDR="+r.addr)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	p := &process{t: s.t, cmd: cmd, base: r.base(), logs: &logs.buf, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t := s.t
	t.Cleanup(func() {
		_ = p.stop(syscall.SIGKILL)
		if t.Failed() {
			t.Logf("mint serve %s (%s) output:\n%s", r.svc, r.addr, logs.String())
		}
	})
	return p
}

// waitHealthy waits until p answers /health; it fails the test if p exits first.
func (p *process) waitHealthy() {
	p.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		select {
		case err := <-p.done:
			p.done <- err
			p.t.Fatalf("%s exited early: %v", strings.Join(p.cmd.Args, " "), err)
		default:
		}
		if res, err := http.Get(p.base + "/health"); err == nil {
			_ = res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
	}
	p.t.Fatalf("%s did not answer /health in 60 s", strings.Join(p.cmd.Args, " "))
}

// urls are the base URLs of svc's replicas.
func (s *system) urls(svc string) []string {
	var out []string
	for _, r := range s.replicas[svc] {
		out = append(out, r.base())
	}
	return out
}

// crash kills every replica of svc with SIGKILL: no shutdown, no flushing, whatever it was doing.
func (s *system) crash(svc string) {
	s.t.Helper()
	for _, r := range s.replicas[svc] {
		_ = r.p.stop(syscall.SIGKILL)
	}
}

// crashAndRestart kills svc in the middle of the stream (after j transfers) and starts it again (same
// database directory, same port).
func (s *system) crashAndRestart(svc string, j int) {
	s.t.Helper()
	s.t.Logf("after %d transfers: killing %s and starting it again", j, svc)
	s.crash(svc)
	time.Sleep(500 * time.Millisecond)
	s.startReplicas(svc, len(s.replicas[svc]))
}

// checkShared checks that every replica of svc did its share of the work: it answered API requests
// (http_requests_total) and handled events from its queues (handled reads, from a replica's /metrics,
// a count that only its consumers record). It returns, per replica, "requests/handled".
func (s *system) checkShared(svc string, handled func(base string) int) []string {
	s.t.Helper()
	var shares []string
	for _, r := range s.replicas[svc] {
		served, n := int(metricSum(s.t, r.base(), "http_requests_total", ` /api/v1/`)), handled(r.base())
		if served == 0 || n == 0 {
			s.t.Errorf("%s replica on %s answered %d API requests and handled %d events: every replica must do both",
				svc, r.addr, served, n)
		}
		shares = append(shares, fmt.Sprintf("%d/%d", served, n))
	}
	return shares
}

// TestServeBankInvariant is TestDevBankInvariant with the services as separate processes on RabbitMQ,
// all on one `mint db`, wallet and transactions in two replicas each: every request goes to the next
// replica of its service, and the replicas of a service share its queues. Every transaction ends
// terminal, Σ balances = Σ top-ups, no balance is negative, and `mint wallet reconcile`, run against the
// database server, finds every wallet equal to the sum of its entries.
func TestServeBankInvariant(t *testing.T) {
	if testing.Short() {
		t.Skip("a load test")
	}
	const n = 2
	nWallets, nTransfers, nClients := bankScale(t)
	s := startReplicated(t, n)
	b := openBankOn(t, s.urls("auth"), s.urls("transactions"), s.urls("wallet"), nWallets, "proc")

	b.run(nTransfers, nClients)
	// A transactions replica counts a transaction terminal when its consumer of
	// wallet.transactionFinalized records the outcome; a wallet replica counts a decision when its
	// consumer of transaction.processing records one.
	finished := s.checkShared("transactions", func(base string) int {
		completed, failed := terminalCounts(t, base)
		return completed + failed
	})
	decided := s.checkShared("wallet", func(base string) int { return int(metricSum(t, base, "wallet_finalizations_total")) })
	// Against the server, with the wallet replicas still running, as an operator runs it.
	summary := reconcileDB(t, s.dbURI)
	t.Logf("%d replicas each of wallet and transactions on one mint db; API requests/transactions finished per transactions replica %v, API requests/transactions decided per wallet replica %v; %s",
		n, finished, decided, summary)
}

// TestServeBankInvariantWithCrashes: users transfer money through the separate services while the
// wallet process and then the transactions process are killed and restarted. Every transaction
// still ends terminal within 30 s, no money is created or lost, no balance is negative and the ledger
// reconciles.
func TestServeBankInvariantWithCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("a load test")
	}
	const nUsers, nTransfers, nClients = 10, 300, 8
	s := startSystem(t)
	b := openBankOn(t, s.urls("auth"), s.urls("transactions"), s.urls("wallet"), nUsers, "crash")
	sent := b.stream(nTransfers, nClients, func(j int) {
		switch j {
		case nTransfers / 3:
			s.crashAndRestart("wallet", j)
		case 2 * nTransfers / 3:
			s.crashAndRestart("transactions", j)
		}
	})

	// After a crashed service restarts, every transaction is terminal within 30 s. Both restarts
	// happened during the stream, so the bound is counted from its end. (The restarted
	// transactions process counts afresh, so this asks the users rather than its metrics.)
	streamEnd := time.Now()
	for deadline := streamEnd.Add(30 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		open := b.stillOpen()
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d transactions are still pending or processing 30 s after the stream", open, nUsers+sent)
		}
	}
	settled := time.Since(streamEnd)
	b.checkMoney()
	s.crash("wallet") // reconcile opens the wallet's embedded database itself
	summary := reconcile(t, s.replicas["wallet"][0].dir)
	t.Logf("%d transfers through separate processes with a wallet and a transactions crash: all terminal %v after the stream, Σ balances = Σ top-ups = %d cents; %s",
		sent, settled.Round(100*time.Millisecond), b.funded, summary)
}
