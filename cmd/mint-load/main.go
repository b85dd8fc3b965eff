// Command mint-load measures a running Mint over HTTP: requests/s and latency percentiles of one
// scenario at a fixed number of concurrent clients. It only targets loopback addresses and always stops
// after -duration.
//
//	mint-load -base http://127.0.0.1:8080 -scenario user -c 32 -duration 10s
//
// The transfer scenario also reports the database operations per completed transfer, from the
// db_query_duration_seconds histograms of every service's /metrics (see dbops.go).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"
)

type options struct {
	base, txBase, scenario string
	walletBase             string
	clients                int
	users, seedTransfers   int // reads, sustained (users)
	count                  int // sustained
	rate                   float64
	listEvery              time.Duration
	amqp                   string
	seed                   uint64
	warmup, duration, poll time.Duration
	wait                   string // transfer: "poll" or "metrics"

	dbOps         bool
	metrics       string
	settleTimeout time.Duration
	quiet         time.Duration
	idle          time.Duration
	probeGets     int
}

func main() {
	var o options
	flag.StringVar(&o.base, "base", "http://127.0.0.1:8080", "Mint base URL (loopback only)")
	flag.StringVar(&o.scenario, "scenario", "user", "user: GET /api/v1/auth/user with a warm cache; login: POST /api/v1/auth/login (an account per client); "+
		"transfer: POST /api/v1/transactions/transfer, then wait until it is terminal (latency = settle time); "+
		"reads: store -seed-transfers transfers among -users users, then time the transaction list, the filtered list, the history and the wallet; "+
		"sustained: offer -count transfers among -users users at -rate per second (open loop), then report settle times, queue depths and re-drives")
	flag.StringVar(&o.txBase, "tx-base", "", "transactions service base URL when it runs apart (default -base)")
	flag.StringVar(&o.walletBase, "wallet-base", "", "wallet service base URL when it runs apart (default -base)")
	flag.IntVar(&o.users, "users", 100, "reads, sustained: users holding the history")
	flag.IntVar(&o.seedTransfers, "seed-transfers", 10000, "reads: transfers stored before the reads are measured")
	flag.IntVar(&o.count, "count", 3000, "sustained: transfers offered")
	flag.Float64Var(&o.rate, "rate", 20, "sustained: transfers offered per second, whatever the system's pace")
	flag.DurationVar(&o.listEvery, "list-every", time.Second, "sustained: how often one client reads its transaction list")
	flag.StringVar(&o.amqp, "amqp", "", "sustained: RabbitMQ URL to sample the queues' depths (e.g. amqp://guest:guest@127.0.0.1:5672/; default: not sampled)")
	flag.Uint64Var(&o.seed, "seed", 1, "sustained: seed of the sender/recipient pairs")
	flag.IntVar(&o.clients, "c", 32, "concurrent clients (sustained: most transfers in flight)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long to measure (after warm-up)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "load before measuring")
	flag.DurationVar(&o.poll, "poll", 25*time.Millisecond, "transfer: how often a client looks whether its transfer completed "+
		"(the settle time is measured to within this; with -wait poll every look is a request the service must also serve)")
	flag.StringVar(&o.wait, "wait", "poll", "transfer: how a client waits for its transfer: poll (GET /api/v1/transactions/{id} every -poll; "+
		"the DB ops of those reads are measured apart and subtracted) or metrics (no reads: clients pace on the transactions_total "+
		"counter in /metrics, and each transfer is read once after the accounting; latency is then the server's createdAt to updatedAt)")
	flag.BoolVar(&o.dbOps, "db-ops", true, "transfer: report database operations per completed transfer")
	flag.StringVar(&o.metrics, "metrics", "", "transfer: comma-separated base URLs of every service's /metrics, each process once (default -base and -tx-base)")
	flag.DurationVar(&o.settleTimeout, "settle-timeout", time.Minute, "transfer: longest wait for the transfers of a phase to end before the metrics are read")
	flag.DurationVar(&o.quiet, "quiet", time.Second, "transfer: how long the work counters (transactions, outbox, mails) must stand still to call the system settled")
	flag.DurationVar(&o.idle, "idle", 5*time.Second, "transfer: how long to measure background DB ops (sweeps) at rest after the window, to subtract them (0: keep them)")
	flag.IntVar(&o.probeGets, "probe-gets", 200, "transfer, -wait poll: status GETs made after the window to measure the DB ops of one")
	flag.Parse()
	if o.txBase == "" {
		o.txBase = o.base
	}
	if o.walletBase == "" {
		o.walletBase = o.base
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "mint-load:", err)
		os.Exit(1)
	}
}

// op is one operation of a scenario by one client: its latency, or why it failed.
type op func(client int) (time.Duration, error)

func run(o options) error {
	for _, u := range []string{o.base, o.txBase, o.walletBase} {
		if err := loopbackOnly(u); err != nil {
			return err
		}
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 2 * o.clients, MaxIdleConnsPerHost: 2 * o.clients, IdleConnTimeout: time.Minute}}
	email := fmt.Sprintf("load-%d@example.com", time.Now().UnixNano())
	me, err := signup(hc, o.base, email)
	if err != nil {
		return err
	}
	var do op
	switch o.scenario {
	case "user":
		do = func(int) (time.Duration, error) {
			return timed(hc, http.MethodGet, o.base+"/api/v1/auth/user", nil, me.token)
		}
	case "login":
		// One account per client: the service throttles one client's concurrent logins to one account
		// like guesses (an attempt counts until its password is known to be right).
		bodies := make([][]byte, o.clients)
		for i := range bodies {
			e := fmt.Sprintf("login-%d-%d@example.com", time.Now().UnixNano(), i)
			if _, err := signup(hc, o.base, e); err != nil {
				return err
			}
			bodies[i], _ = json.Marshal(map[string]string{"email": e, "password": loadPassword})
		}
		do = func(client int) (time.Duration, error) {
			return timed(hc, http.MethodPost, o.base+"/api/v1/auth/login", bodies[client], "")
		}
	case "transfer":
		return runTransfers(hc, o)
	case "reads":
		return runReads(hc, o)
	case "sustained":
		return runSustained(hc, o)
	default:
		return fmt.Errorf("unknown scenario %q", o.scenario)
	}

	runPhase(o.clients, o.warmup, do)
	res := runPhase(o.clients, o.duration, do)
	return printLatencies(o, res.latencies, res.failures, "")
}

type phaseResult struct {
	latencies []time.Duration
	failures  int
}

// runPhase runs every client for d (the last operation each started ends after d) and collects the
// latencies of the operations that succeeded.
func runPhase(clients int, d time.Duration, do op) phaseResult {
	stop := time.Now().Add(d)
	var (
		mu  sync.Mutex
		res phaseResult
		wg  sync.WaitGroup
	)
	for client := range clients {
		wg.Go(func() {
			var mine []time.Duration
			bad := 0
			for time.Now().Before(stop) {
				elapsed, err := do(client)
				if err != nil {
					bad++
					continue
				}
				mine = append(mine, elapsed)
			}
			mu.Lock()
			res.latencies = append(res.latencies, mine...)
			res.failures += bad
			mu.Unlock()
		})
	}
	wg.Wait()
	return res
}

// printLatencies prints the summary line of a scenario; note is appended to it.
func printLatencies(o options, latencies []time.Duration, failures int, note string) error {
	if len(latencies) == 0 {
		return errors.New("no successful request")
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	fmt.Printf("scenario=%s clients=%d duration=%s requests=%d failed=%d rps=%.0f p50=%s p95=%s p99=%s max=%s%s\n",
		o.scenario, o.clients, o.duration, len(latencies), failures, float64(len(latencies))/o.duration.Seconds(),
		round(pct(0.50)), round(pct(0.95)), round(pct(0.99)), round(latencies[len(latencies)-1]), note)
	return nil
}

func round(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }

type account struct{ id, token string }

// loadPassword is the password of every account the tool signs up.
const loadPassword = "load-test-password"

func signup(hc *http.Client, base, email string) (account, error) {
	body, _ := json.Marshal(map[string]string{"firstName": "Load", "lastName": "Test", "email": email, "password": loadPassword})
	var out struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	if err := send(hc, http.MethodPost, base+"/api/v1/auth/signup", body, "", http.StatusCreated, &out); err != nil {
		return account{}, fmt.Errorf("signup: %w", err)
	}
	return account{id: out.ID, token: out.Token}, nil
}

// send makes one request and decodes the JSON answer into out (when not nil); a status other than
// want is an error.
func send(hc *http.Client, method, url string, body []byte, token string, want int, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != want {
		_, _ = io.Copy(io.Discard, res.Body)
		return fmt.Errorf("%s %s: status %d", method, url, res.StatusCode)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, res.Body)
		return err
	}
	return json.NewDecoder(res.Body).Decode(out)
}

// timed makes one request expecting 200 and returns how long it took.
func timed(hc *http.Client, method, url string, body []byte, token string) (time.Duration, error) {
	t0 := time.Now()
	err := send(hc, method, url, body, token, http.StatusOK, nil)
	return time.Since(t0), err
}

// loopbackOnly refuses to send load anywhere but this machine.
func loopbackOnly(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("base URL: %w", err)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing to load %s: only loopback addresses are allowed", host)
}
