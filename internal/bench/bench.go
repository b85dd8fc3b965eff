// Package bench is "mint bench": it measures a running Mint over HTTP — requests/s and latency
// percentiles of one scenario at a fixed number of concurrent clients — and only targets loopback
// addresses. It always stops after its duration (or count).
//
//	mint bench --base http://127.0.0.1:8080 --scenario user --clients 32 --duration 10s
//
// With Options.Spread each client sends from a loopback address of its own, as a user would from
// their own (see devices.go). The transfer scenario also reports the database operations per
// completed transfer, from the db_query_duration_seconds histograms of every service's /metrics (see
// dbops.go).
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options are the settings of one run (see the cli's "mint bench --help" for each).
type Options struct {
	Base, TxBase, WalletBase string
	Scenario                 string
	Clients                  int
	Users, SeedTransfers     int // reads, sustained (users)
	Count                    int // sustained
	Rate                     float64
	ListEvery                time.Duration
	AMQP                     string
	Seed                     uint32
	Warmup, Duration, Poll   time.Duration
	Wait                     string // transfer: "poll", "stream" or "metrics"
	Spread                   bool   // each client from a loopback address of its own (see devices)

	DBOps         bool
	Metrics       string
	SettleTimeout time.Duration
	Quiet         time.Duration
	Idle          time.Duration
	ProbeGets     int

	JSON bool // print the summary as one JSON object instead of a line

	// Out receives the report; Progress, when not nil (a terminal), a line redrawn each second.
	Out, Progress io.Writer
}

// Scenarios names every scenario, with what it measures.
var Scenarios = map[string]string{
	"user":            "GET /api/v1/auth/user with a warm cache",
	"login":           "POST /api/v1/auth/login (an account per client)",
	"signup":          "POST /api/v1/auth/signup, a new account each time",
	"transfer":        "POST /api/v1/transactions/transfer, then wait until it is terminal (latency = settle time); each client pays the next",
	"hot-source":      "as transfer, every client paying from one account",
	"hot-destination": "as transfer, every client paying one account",
	"mixed":           "--users funded users at once, each client reading its list, wallet and history and sending 0.01 in turn (one summary per kind)",
	"reads":           "store --seed-transfers transfers among --users users, then time the transaction list, the filtered list, the history and the wallet",
	"sustained":       "offer --count transfers among --users users at --rate per second (open loop), then report settle times, queue depths and re-drives",
}

// Run runs the scenario of o against the deployment it names.
func Run(ctx context.Context, o Options) error {
	if o.TxBase == "" {
		o.TxBase = o.Base
	}
	if o.WalletBase == "" {
		o.WalletBase = o.Base
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	return run(ctx, o)
}

// op is one operation of a scenario by one client: its latency, or why it failed.
type op func(client int) (time.Duration, error)

func run(ctx context.Context, o Options) error {
	for _, u := range []string{o.Base, o.TxBase, o.WalletBase} {
		if err := loopbackOnly(u); err != nil {
			return err
		}
	}
	if err := spreadable(o); err != nil {
		return err
	}
	dev := newDevices(o.Spread, o.Clients)
	defer dev.close()
	email := fmt.Sprintf("load-%d@example.com", time.Now().UnixNano())
	me, err := signup(dev.shared, o.Base, email)
	if err != nil {
		return err
	}
	var do op
	switch o.Scenario {
	case "user":
		do = func(client int) (time.Duration, error) {
			return timed(dev.of(client), http.MethodGet, o.Base+"/api/v1/auth/user", nil, me.token)
		}
	case "login":
		// One account per client: the service throttles one client's concurrent logins to one account
		// like guesses (an attempt counts until its password is known to be right). Each signs up from
		// its client's device, where a gateway would count one request, not one per client.
		bodies := make([][]byte, o.Clients)
		for i := range bodies {
			e := fmt.Sprintf("login-%d-%d@example.com", time.Now().UnixNano(), i)
			if _, err := signup(dev.of(i), o.Base, e); err != nil {
				return err
			}
			bodies[i], _ = json.Marshal(map[string]string{"email": e, "password": loadPassword})
		}
		do = func(client int) (time.Duration, error) {
			return timed(dev.of(client), http.MethodPost, o.Base+"/api/v1/auth/login", bodies[client], "")
		}
	case "signup":
		var n atomic.Int64
		stamp := time.Now().UnixNano()
		do = func(client int) (time.Duration, error) {
			body, _ := json.Marshal(map[string]string{"firstName": "Load", "lastName": "Signup",
				"email": fmt.Sprintf("signup-%d-%d@example.com", stamp, n.Add(1)), "password": loadPassword})
			t0 := time.Now()
			err := send(dev.of(client), http.MethodPost, o.Base+"/api/v1/auth/signup", body, "", http.StatusCreated, nil)
			return time.Since(t0), err
		}
	case "transfer", "hot-source", "hot-destination":
		return runTransfers(ctx, dev, o)
	case "reads":
		return runReads(ctx, dev, o)
	case "mixed":
		return runMixed(ctx, dev, o)
	case "sustained":
		return runSustained(ctx, dev, o)
	default:
		return fmt.Errorf("unknown scenario %q", o.Scenario)
	}

	o.runPhase(ctx, "warm-up", o.Warmup, do)
	res := o.runPhase(ctx, "measuring", o.Duration, do)
	return printLatencies(o, res.latencies, res.tally, "")
}

type phaseResult struct {
	latencies []time.Duration
	tally
}

// tally counts the operations that did not succeed: failures, and answers a gateway's rate limit
// refused (429), which a client waits out as told and which say the gateway, not the system, set the pace.
type tally struct {
	failures, limited int
}

// errRateLimited is a 429 answer, once waited out (see send).
var errRateLimited = errors.New("rate limited (429)")

// runPhase runs every client for d (the last operation each started ends after d, or when ctx ends)
// and collects the latencies of the operations that succeeded. On a terminal it redraws a progress
// line each second: the phase, elapsed time, requests, their rate and the errors.
func (o Options) runPhase(ctx context.Context, phase string, d time.Duration, do op) phaseResult {
	start := time.Now()
	stop := start.Add(d)
	var (
		mu       sync.Mutex
		res      phaseResult
		wg       sync.WaitGroup
		done     atomic.Int64
		failed   atomic.Int64
		finished = make(chan struct{})
	)
	if o.Progress != nil {
		go func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-finished:
					fmt.Fprint(o.Progress, "\r\033[K")
					return
				case <-tick.C:
					el := time.Since(start)
					fmt.Fprintf(o.Progress, "\r\033[K%s %s %s/%s  requests %d  %.0f/s  errors %d", o.Scenario, phase,
						el.Round(time.Second), d, done.Load(), float64(done.Load())/el.Seconds(), failed.Load())
				}
			}
		}()
	}
	for client := range o.Clients {
		wg.Go(func() {
			var mine []time.Duration
			var bad tally
			for time.Now().Before(stop) && ctx.Err() == nil {
				elapsed, err := do(client)
				if errors.Is(err, errRateLimited) {
					bad.limited++
					continue
				}
				if err != nil {
					bad.failures++
					failed.Add(1)
					continue
				}
				done.Add(1)
				mine = append(mine, elapsed)
			}
			mu.Lock()
			res.latencies = append(res.latencies, mine...)
			res.failures += bad.failures
			res.limited += bad.limited
			mu.Unlock()
		})
	}
	wg.Wait()
	close(finished)
	return res
}

// textf writes a line of the text report; with --json only the JSON objects are written.
func (o Options) textf(format string, args ...any) {
	if !o.JSON {
		fmt.Fprintf(o.Out, format, args...)
	}
}

// summary is a scenario's result: the line printLatencies prints, or its JSON with --json.
type summary struct {
	Scenario  string  `json:"scenario"`
	Clients   int     `json:"clients"`
	Seconds   float64 `json:"durationSeconds"`
	Requests  int     `json:"requests"`
	Failed    int     `json:"failed"`
	Limited   int     `json:"rateLimited,omitempty"`
	PerSecond float64 `json:"perSecond"`
	P50Ms     float64 `json:"p50Ms"`
	P95Ms     float64 `json:"p95Ms"`
	P99Ms     float64 `json:"p99Ms"`
	MaxMs     float64 `json:"maxMs"`
	Note      string  `json:"note,omitempty"`
}

// printLatencies prints the summary of a scenario; note is appended to it.
func printLatencies(o Options, latencies []time.Duration, failed tally, note string) error {
	if len(latencies) == 0 {
		return errors.New("no successful request")
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	if o.JSON {
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		return json.NewEncoder(o.Out).Encode(summary{Scenario: o.Scenario, Clients: o.Clients, Seconds: o.Duration.Seconds(),
			Requests: len(latencies), Failed: failed.failures, Limited: failed.limited, PerSecond: float64(len(latencies)) / o.Duration.Seconds(),
			P50Ms: ms(pct(0.50)), P95Ms: ms(pct(0.95)), P99Ms: ms(pct(0.99)), MaxMs: ms(latencies[len(latencies)-1]),
			Note: strings.TrimSpace(note)})
	}
	fmt.Fprintf(o.Out, "scenario=%s clients=%d duration=%s requests=%d failed=%d rps=%.0f p50=%s p95=%s p99=%s max=%s%s\n",
		o.Scenario, o.Clients, o.Duration, len(latencies), failed.failures, float64(len(latencies))/o.Duration.Seconds(),
		round(pct(0.50)), round(pct(0.95)), round(pct(0.99)), round(latencies[len(latencies)-1]), limitedNote(failed.limited)+note)
	return nil
}

// limitedNote says how many answers were a rate limit's, when any were.
func limitedNote(limited int) string {
	if limited == 0 {
		return ""
	}
	return fmt.Sprintf(" rate-limited=%d", limited)
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
	if res.StatusCode == http.StatusTooManyRequests {
		// A client of a rate-limited API waits as it is told (a second when the answer does not say).
		_, _ = io.Copy(io.Discard, res.Body)
		wait := time.Second
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
			wait = min(time.Duration(s)*time.Second, 10*time.Second)
		}
		time.Sleep(wait)
		return fmt.Errorf("%s %s: %w", method, url, errRateLimited)
	}
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
