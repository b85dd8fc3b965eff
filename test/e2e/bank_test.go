package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bankScale is the size of the bank tests: MINT_E2E_BANK="wallets,transfers,clients", by default
// full scale, 50 wallets and 2,000 random transfers from 32 concurrent clients.
func bankScale(t *testing.T) (wallets, transfers, clients int) {
	wallets, transfers, clients = 50, 2000, 32
	if v := os.Getenv("MINT_E2E_BANK"); v != "" {
		if _, err := fmt.Sscanf(v, "%d,%d,%d", &wallets, &transfers, &clients); err != nil {
			t.Fatalf("MINT_E2E_BANK=%q: want wallets,transfers,clients", v)
		}
	}
	return
}

// bank is a set of funded users sending each other money at random, and the checks that afterwards
// no money was created or lost. The URLs are the transactions and wallet services' (one `mint dev`,
// or separate processes, each service possibly in several replicas).
type bank struct {
	t                  *testing.T
	txURLs, walletURLs *replicas
	users              []user
	funded             int64 // Σ top-ups, cents
}

// replicas are the base URLs of one service's replicas. next hands them out round-robin, one request
// after the other, as a gateway would: every replica serves requests of every client, and a retry goes
// to another replica.
type replicas struct {
	urls []string
	n    atomic.Uint64
}

func (r *replicas) next() string { return r.urls[(r.n.Add(1)-1)%uint64(len(r.urls))] }

// openBank signs up n users through authURL and tops up each wallet with a different amount.
func openBank(t *testing.T, authURL, txURL, walletURL string, n int, name string) *bank {
	t.Helper()
	return openBankOn(t, []string{authURL}, []string{txURL}, []string{walletURL}, n, name)
}

// openBankOn is openBank on services in several replicas: every request goes to the next replica of
// its service.
func openBankOn(t *testing.T, authURLs, txURLs, walletURLs []string, n int, name string) *bank {
	t.Helper()
	b := &bank{t: t, txURLs: &replicas{urls: txURLs}, walletURLs: &replicas{urls: walletURLs}, users: make([]user, n)}
	auth := &replicas{urls: authURLs}
	for i := range b.users {
		b.users[i] = newUser(t, auth.next(), fmt.Sprintf("%s%d", name, i))
	}
	for i, u := range b.users {
		amount := int64(1000 + 37*i)
		b.funded += amount
		// Retried: the transactions service learns of a user from user.signup, a moment after it.
		b.post("/api/v1/transactions/topup", map[string]any{"amount": float64(amount) / 100}, u, fmt.Sprintf("%s-fund-%d", name, i))
	}
	return b
}

// post sends one money request with an Idempotency-Key until it is accepted (201). It retries what a
// client of a payments API retries with the same key: no answer (a process down), 5xx, 409 (the same
// key still in flight), and 404 (a recipient who signed up a moment ago is not known yet).
func (b *bank) post(path string, body map[string]any, from user, key string) bool {
	b.t.Helper()
	for attempt := 0; ; attempt++ {
		res, err := tryCall("POST", b.txURLs.next()+path, body, from.token, "Idempotency-Key", key)
		if err == nil && res.status == 201 {
			return true
		}
		if err == nil && res.status != 409 && res.status != 404 && res.status < 500 {
			b.t.Errorf("POST %s: %d %s", path, res.status, res.body)
			return false
		}
		if attempt > 300 {
			b.t.Errorf("POST %s never accepted: %v %+v", path, err, res)
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stream sends n random transfers (0.01 to 14.99, overdrafts included) from clients concurrent
// clients and returns how many were accepted. before(j), if set, runs before transfer j is handed out.
func (b *bank) stream(n, clients int, before func(j int)) (sent int) {
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	jobs := make(chan int)
	for range clients {
		wg.Go(func() {
			for j := range jobs {
				r := rand.New(rand.NewPCG(uint64(j), 7))
				from, to := b.users[r.IntN(len(b.users))], b.users[r.IntN(len(b.users))]
				if from.id == to.id {
					continue
				}
				amount := fmt.Sprintf("%d.%02d", r.IntN(15), 1+r.IntN(99))
				if b.post("/api/v1/transactions/transfer", map[string]any{"recipientId": to.id, "amount": amount}, from, fmt.Sprintf("transfer-%d", j)) {
					mu.Lock()
					sent++
					mu.Unlock()
				}
			}
		})
	}
	for j := range n {
		if before != nil {
			before(j)
		}
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	return sent
}

// run streams n random transfers from clients concurrent clients, waits until every transaction is
// terminal, logs the figures, and checks that the users read none as open and that no money was
// created or lost.
func (b *bank) run(n, clients int) {
	b.t.Helper()
	start := time.Now()
	sent := b.stream(n, clients, nil)
	accepted := time.Since(start)
	want := len(b.users) + sent
	completed, failed := b.waitTerminal(want, 10*time.Minute)
	settled := time.Since(start)
	b.t.Logf("%d transfers accepted in %v (%.0f/s) at %d clients; all %d transactions terminal after %v (%.1f/s); %d completed, %d failed",
		sent, accepted.Round(time.Millisecond), float64(sent)/accepted.Seconds(), clients, want,
		settled.Round(time.Millisecond), float64(want)/settled.Seconds(), completed, failed)

	if open := b.stillOpen(); open != 0 {
		b.t.Fatalf("users still read %d transactions as pending or processing", open)
	}
	b.checkMoney()
}

// waitTerminal waits until the transactions service has counted want transactions completed or failed
// (its transactions_total: one read per replica, where polling every transaction would compete with
// the saga on the database) and returns how many of each. Each transaction is counted by the one
// replica whose guarded update made it terminal, so the replicas' counts add up.
func (b *bank) waitTerminal(want int, within time.Duration) (completed, failed int) {
	b.t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(250 * time.Millisecond) {
		completed, failed = 0, 0
		for _, base := range b.txURLs.urls {
			c, f := terminalCounts(b.t, base)
			completed, failed = completed+c, failed+f
		}
		if completed+failed >= want {
			return completed, failed
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("after %v only %d of %d transactions are terminal", within, completed+failed, want)
		}
	}
}

// stillOpen counts the users' transactions that are pending or processing, as each user reads them.
func (b *bank) stillOpen() int {
	b.t.Helper()
	open := 0
	for _, u := range b.users {
		for _, status := range []string{"pending", "processing"} {
			res := must(b.t, call(b.t, "GET", b.txURLs.next()+"/api/v1/transactions?limit=1&status="+status, nil, u.token), 200, "list")
			var page struct {
				Total int `json:"total"`
			}
			if err := json.Unmarshal(res.body, &page); err != nil {
				b.t.Fatal(err)
			}
			open += page.Total
		}
	}
	return open
}

// checkMoney: no balance is negative and Σ balances = Σ top-ups.
func (b *bank) checkMoney() {
	b.t.Helper()
	var total int64
	for _, u := range b.users {
		c := balance(b.t, b.walletURLs.next(), u)
		if c < 0 {
			b.t.Errorf("wallet of %s is negative: %d", u.id, c)
		}
		total += c
	}
	if total != b.funded {
		b.t.Fatalf("Σ balances = %d cents, Σ top-ups = %d: money was created or lost", total, b.funded)
	}
}

// reconcile runs `mint wallet reconcile` on a stopped wallet's data dir: every wallet must equal the
// sum of its entries. It returns the command's summary.
func reconcile(t *testing.T, dataDir string) string {
	t.Helper()
	return runReconcile(t, "--data-dir", dataDir)
}

// reconcileDB runs `mint wallet reconcile` against the database server at uri, which the wallet
// replicas may still be using.
func reconcileDB(t *testing.T, uri string) string {
	t.Helper()
	return runReconcile(t, "--mongodb-uri", uri)
}

func runReconcile(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(mintBin, append([]string{"wallet", "reconcile"}, args...)...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "drifts 0") {
		t.Fatalf("mint wallet reconcile %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// terminalCounts reads transactions_total from /metrics: how many transactions reached completed and
// failed.
func terminalCounts(t *testing.T, base string) (completed, failed int) {
	t.Helper()
	return int(metricSum(t, base, "transactions_total", `status="completed"`)),
		int(metricSum(t, base, "transactions_total", `status="failed"`))
}

// metricSum adds up the samples of the counter or gauge name on base's /metrics whose labels contain
// every one of match.
func metricSum(t *testing.T, base, name string, match ...string) float64 {
	t.Helper()
	sum := 0.0
	for _, line := range strings.Split(string(must(t, call(t, "GET", base+"/metrics", nil, ""), 200, "metrics").body), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		labels := ""
		if i := strings.IndexByte(line, '}'); i >= 0 {
			labels = line[:i]
		}
		if !containsAll(labels, match) {
			continue
		}
		fields := strings.Fields(line)
		n, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		sum += n
	}
	return sum
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
