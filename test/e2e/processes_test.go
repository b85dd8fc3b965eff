package e2e

import (
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// system is the services as separate `mint serve` processes on one RabbitMQ vhost, each with its own
// database directory, as they run in production.
type system struct {
	t       *testing.T
	env     []string
	dirs    map[string]string
	addrs   map[string]string
	running map[string]*process
}

func startSystem(t *testing.T) *system {
	t.Helper()
	s := &system{t: t, dirs: map[string]string{}, addrs: map[string]string{}, running: map[string]*process{}}
	keys := filepath.Join(tempDir(t), "keys.json")
	if out, err := exec.Command(mintBin, "keys", "generate", "--file", keys).CombinedOutput(); err != nil {
		t.Fatalf("mint keys generate: %v\n%s", err, out)
	}
	for _, svc := range []string{"auth", "wallet", "transactions"} {
		s.dirs[svc], s.addrs[svc] = tempDir(t), freeAddr(t)
	}
	s.env = append([]string{"MINT_AMQP_URL=" + testenv.IsolatedRabbitURL(t), "MINT_REDIS_URL=" + testenv.RedisURL(t),
		"MINT_AUTH_KEYS_FILE=" + keys, "MINT_AUTH_JWKS_URL=http://" + s.addrs["auth"] + "/.well-known/jwks.json",
		"MINT_TRANSACTIONS_STUCK_AFTER=3s", "MINT_COOKIE_SECURE=false"}, devEnv...)
	for _, svc := range []string{"auth", "wallet", "transactions"} {
		s.start(svc)
	}
	return s
}

// start runs service svc (again, after a crash: same database directory, same port).
func (s *system) start(svc string) {
	s.t.Helper()
	env := append(s.env, "MINT_DATA_DIR="+s.dirs[svc], "MINT_HTTP_ADDR="+s.addrs[svc])
	s.running[svc] = start(s.t, "http://"+s.addrs[svc], env, "serve", svc)
}

func (s *system) url(svc string) string { return "http://" + s.addrs[svc] }

// crash kills svc with SIGKILL: no shutdown, no flushing, whatever it was doing.
func (s *system) crash(svc string) {
	s.t.Helper()
	_ = s.running[svc].stop(syscall.SIGKILL)
}

// crashAndRestart kills svc in the middle of the stream (after j transfers) and starts it again.
func (s *system) crashAndRestart(svc string, j int) {
	s.t.Helper()
	s.t.Logf("after %d transfers: killing %s and starting it again", j, svc)
	s.crash(svc)
	time.Sleep(500 * time.Millisecond)
	s.start(svc)
}

// TestServeBankInvariant is TestDevBankInvariant with the services as separate processes on RabbitMQ.
func TestServeBankInvariant(t *testing.T) {
	if testing.Short() {
		t.Skip("a load test")
	}
	nWallets, nTransfers, nClients := bankScale(t)
	s := startSystem(t)
	b := openBank(t, s.url("auth"), s.url("transactions"), s.url("wallet"), nWallets, "proc")

	b.run(nTransfers, nClients)
	s.crash("wallet") // reconcile opens the wallet's embedded database itself
	reconcile(t, s.dirs["wallet"])
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
	b := openBank(t, s.url("auth"), s.url("transactions"), s.url("wallet"), nUsers, "crash")
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
	s.crash("wallet")
	summary := reconcile(t, s.dirs["wallet"])
	t.Logf("%d transfers through separate processes with a wallet and a transactions crash: all terminal %v after the stream, Σ balances = Σ top-ups = %d cents; %s",
		sent, settled.Round(100*time.Millisecond), b.funded, summary)
}
