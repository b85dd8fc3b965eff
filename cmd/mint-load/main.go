// Command mint-load measures a running Mint over HTTP: requests/s and latency percentiles of one
// scenario at a fixed number of concurrent clients. It only targets loopback addresses and always stops
// after -duration.
//
//	mint-load -base http://127.0.0.1:8080 -scenario user -c 32 -duration 10s
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

func main() {
	base := flag.String("base", "http://127.0.0.1:8080", "Mint base URL (loopback only)")
	scenario := flag.String("scenario", "user", "user: GET /api/v1/auth/user with a warm cache; login: POST /api/v1/auth/login (an account per client); "+
		"transfer: POST /api/v1/transactions/transfer, then wait until it reads completed (latency = settle time)")
	txBase := flag.String("tx-base", "", "transactions service base URL when it runs apart (default -base)")
	clients := flag.Int("c", 32, "concurrent clients")
	duration := flag.Duration("duration", 10*time.Second, "how long to measure (after warm-up)")
	warmup := flag.Duration("warmup", 2*time.Second, "load before measuring")
	poll := flag.Duration("poll", 25*time.Millisecond, "transfer: how often a client reads its transaction until it completed "+
		"(the settle time is measured to within this; every read is a request the service must also serve)")
	flag.Parse()
	if *txBase == "" {
		*txBase = *base
	}
	if err := run(*base, *txBase, *scenario, *clients, *warmup, *duration, *poll); err != nil {
		fmt.Fprintln(os.Stderr, "mint-load:", err)
		os.Exit(1)
	}
}

func run(base, txBase, scenario string, clients int, warmup, duration, poll time.Duration) error {
	for _, u := range []string{base, txBase} {
		if err := loopbackOnly(u); err != nil {
			return err
		}
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients, IdleConnTimeout: time.Minute}}
	const password = "load-test-password"
	email := fmt.Sprintf("load-%d@example.com", time.Now().UnixNano())
	me, err := signup(hc, base, email, password)
	if err != nil {
		return err
	}
	var op func(client int) (time.Duration, error)
	switch scenario {
	case "user":
		op = func(int) (time.Duration, error) {
			return timed(hc, http.MethodGet, base+"/api/v1/auth/user", nil, me.token)
		}
	case "login":
		// One account per client: the service throttles one client's concurrent logins to one account
		// like guesses (an attempt counts until its password is known to be right).
		bodies := make([][]byte, clients)
		for i := range bodies {
			e := fmt.Sprintf("login-%d-%d@example.com", time.Now().UnixNano(), i)
			if _, err := signup(hc, base, e, password); err != nil {
				return err
			}
			bodies[i], _ = json.Marshal(map[string]string{"email": e, "password": password})
		}
		op = func(client int) (time.Duration, error) {
			return timed(hc, http.MethodPost, base+"/api/v1/auth/login", bodies[client], "")
		}
	case "transfer":
		if op, err = transfers(hc, base, txBase, clients, poll); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown scenario %q", scenario)
	}

	measureFrom := time.Now().Add(warmup)
	stop := measureFrom.Add(duration)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  int
		wg        sync.WaitGroup
	)
	for client := range clients {
		wg.Go(func() {
			var mine []time.Duration
			bad := 0
			for time.Now().Before(stop) {
				t0 := time.Now()
				elapsed, err := op(client)
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					bad++
					continue
				}
				mine = append(mine, elapsed)
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			failures += bad
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(latencies) == 0 {
		return errors.New("no successful request")
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	fmt.Printf("scenario=%s clients=%d duration=%s requests=%d failed=%d rps=%.0f p50=%s p95=%s p99=%s max=%s\n",
		scenario, clients, duration, len(latencies), failures, float64(len(latencies))/duration.Seconds(),
		round(pct(0.50)), round(pct(0.95)), round(pct(0.99)), round(latencies[len(latencies)-1]))
	return nil
}

func round(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }

type account struct{ id, token string }

func signup(hc *http.Client, base, email, password string) (account, error) {
	body, _ := json.Marshal(map[string]string{"firstName": "Load", "lastName": "Test", "email": email, "password": password})
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

// transfers prepares the transfer scenario: one funded sender per client, each sending 0.01 to the
// next client's account. An operation is one transfer from POST until it reads completed.
func transfers(hc *http.Client, base, txBase string, clients int, poll time.Duration) (func(int) (time.Duration, error), error) {
	users := make([]account, clients)
	for i := range users {
		u, err := signup(hc, base, fmt.Sprintf("load-%d-%d@example.com", time.Now().UnixNano(), i), "load-test-password")
		if err != nil {
			return nil, err
		}
		users[i] = u
	}
	fund, _ := json.Marshal(map[string]any{"amount": "1000000.00"})
	for _, u := range users {
		// The transactions service learns users from user.signup: wait until it takes a top-up.
		var err error
		for range 100 {
			if err = send(hc, http.MethodPost, txBase+"/api/v1/transactions/topup", fund, u.token, http.StatusCreated, nil); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			return nil, fmt.Errorf("fund: %w", err)
		}
	}
	time.Sleep(2 * time.Second) // let the funding settle before measuring transfers
	return func(client int) (time.Duration, error) {
		from, to := users[client], users[(client+1)%len(users)]
		body, _ := json.Marshal(map[string]any{"recipientId": to.id, "amount": "0.01"})
		var tx struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		t0 := time.Now()
		if err := send(hc, http.MethodPost, txBase+"/api/v1/transactions/transfer", body, from.token, http.StatusCreated, &tx); err != nil {
			return 0, err
		}
		for deadline := t0.Add(60 * time.Second); tx.Status != "completed"; {
			if tx.Status == "failed" || time.Now().After(deadline) {
				return 0, fmt.Errorf("transfer %s ended %q", tx.ID, tx.Status)
			}
			time.Sleep(poll)
			if err := send(hc, http.MethodGet, txBase+"/api/v1/transactions/"+tx.ID, nil, from.token, http.StatusOK, &tx); err != nil {
				return 0, err
			}
		}
		return time.Since(t0), nil
	}, nil
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
