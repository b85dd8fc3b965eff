package cli_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/cli"
	"github.com/mint-wallet/mint/internal/platform/scrape"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// TestEveryProcessExportsWhatItsConsumersHandled: /metrics of a running process exports
// bus_messages_handled_total for every queue its consumers take, from their start (both outcomes at
// 0), and counts a delivery once it is handled — on the in-process bus of mint dev and on RabbitMQ
// under mint serve, where the broker's queue depths are exported beside it.
func TestEveryProcessExportsWhatItsConsumersHandled(t *testing.T) {
	testenv.Integration(t)
	hc := &http.Client{Timeout: 5 * time.Second}

	t.Run("dev", func(t *testing.T) {
		clearEnv(t)
		base := startMint(t, "dev", "--data-dir", t.TempDir())
		// Each queue appears once its consumer has started, a moment after /health answers.
		queues := []string{"wallet.user.signup", "transactions.transaction.created", "notifications.transaction.completed"}
		fams := waitMetrics(t, hc, base, func(f scrape.Families) bool { return hasEverySeries(f, queues) })
		for _, q := range queues {
			checkSeries(t, fams, q)
		}
		signup := `{"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","password":"correct horse"}`
		res, err := hc.Post(base+"/api/v1/auth/signup", "application/json", strings.NewReader(signup))
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("signup: %s", res.Status)
		}
		// Its user.signup event reaches the wallet's queue, whose consumer opens the wallet.
		waitMetrics(t, hc, base, func(f scrape.Families) bool {
			n, _ := f.Sum("bus_messages_handled_total", map[string]string{"queue": "wallet.user.signup", "outcome": "ok"})
			return n == 1
		})
	})

	t.Run("serve", func(t *testing.T) {
		clearEnv(t)
		base := startMint(t, "serve", "wallet", "--data-dir", t.TempDir(), "--amqp-url", testenv.IsolatedRabbitURL(t))
		queues := []string{"wallet.user.signup", "wallet.transaction.processing", "wallet.transaction.failed"}
		fams := waitMetrics(t, hc, base, func(f scrape.Families) bool {
			_, depths := f.Sum("bus_queue_messages", nil)
			return depths && hasEverySeries(f, queues)
		})
		for _, q := range queues {
			checkSeries(t, fams, q)
		}
		// Only the queues this process consumes: the others' consumers are elsewhere.
		if n := len(fams["bus_messages_handled_total"].GetMetric()); n != 6 {
			t.Errorf("%d series of bus_messages_handled_total, want 2 for each of the wallet's 3 queues", n)
		}
	})
}

// checkSeries fails t unless fams has both outcomes of queue.
func checkSeries(t *testing.T, fams scrape.Families, queue string) {
	t.Helper()
	for _, outcome := range []string{"ok", "error"} {
		if !hasSeries(fams, queue, outcome) {
			t.Errorf("/metrics lacks bus_messages_handled_total{queue=%q, outcome=%q}", queue, outcome)
		}
	}
}

// hasEverySeries reports whether fams has both outcomes of every one of queues.
func hasEverySeries(fams scrape.Families, queues []string) bool {
	for _, q := range queues {
		if !hasSeries(fams, q, "ok") || !hasSeries(fams, q, "error") {
			return false
		}
	}
	return true
}

func hasSeries(fams scrape.Families, queue, outcome string) bool {
	for _, m := range fams["bus_messages_handled_total"].GetMetric() {
		if scrape.Label(m, "queue") == queue && scrape.Label(m, "outcome") == outcome {
			return true
		}
	}
	return false
}

// startMint runs `mint args… --http-addr <free port>` until the test ends and returns its base URL
// once it answers /health. What it logged is shown if the test fails.
func startMint(t *testing.T, args ...string) string {
	t.Helper()
	addr := testenv.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() { done <- cli.Run(ctx, append(args, "--http-addr", addr), &logs, &logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("mint %s: %v", strings.Join(args, " "), err)
			}
		case <-time.After(time.Minute):
			t.Errorf("mint %s did not stop", strings.Join(args, " "))
		}
		if t.Failed() {
			t.Logf("mint %s logged:\n%s", strings.Join(args, " "), logs.String())
		}
	})
	base := "http://" + addr
	hc := &http.Client{Timeout: 2 * time.Second}
	testenv.Eventually(t, 2*time.Minute, "mint "+args[0]+" to answer /health", func() bool {
		select {
		case err := <-done:
			t.Fatalf("mint %s exited: %v\n%s", strings.Join(args, " "), err, logs.String())
		default:
		}
		res, err := hc.Get(base + "/health")
		if err != nil {
			return false
		}
		_ = res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return base
}

// waitMetrics scrapes base's /metrics until cond holds of it, and returns that scrape.
func waitMetrics(t *testing.T, hc *http.Client, base string, cond func(scrape.Families) bool) scrape.Families {
	t.Helper()
	var fams scrape.Families
	testenv.Eventually(t, time.Minute, "/metrics of "+base, func() bool {
		var err error
		fams, err = scrape.Read(t.Context(), hc, base+"/metrics")
		return err == nil && cond(fams)
	})
	return fams
}

// syncBuffer is a bytes.Buffer the process's goroutines may write to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
