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
	scenario := flag.String("scenario", "user", "user: GET /api/v1/auth/user with a warm cache; login: POST /api/v1/auth/login")
	clients := flag.Int("c", 32, "concurrent clients")
	duration := flag.Duration("duration", 10*time.Second, "how long to measure (after warm-up)")
	warmup := flag.Duration("warmup", 2*time.Second, "load before measuring")
	flag.Parse()
	if err := run(*base, *scenario, *clients, *warmup, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "mint-load:", err)
		os.Exit(1)
	}
}

func run(base, scenario string, clients int, warmup, duration time.Duration) error {
	if err := loopbackOnly(base); err != nil {
		return err
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: clients, MaxIdleConnsPerHost: clients, IdleConnTimeout: time.Minute}}
	email := fmt.Sprintf("load-%d@example.com", time.Now().UnixNano())
	const password = "load-test-password"
	token, err := signup(hc, base, email, password)
	if err != nil {
		return err
	}
	var newReq func() (*http.Request, error)
	switch scenario {
	case "user":
		newReq = func() (*http.Request, error) {
			r, err := http.NewRequestWithContext(context.Background(), http.MethodGet, base+"/api/v1/auth/user", nil)
			if err == nil {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			return r, err
		}
	case "login":
		body, _ := json.Marshal(map[string]string{"email": email, "password": password})
		newReq = func() (*http.Request, error) {
			r, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/api/v1/auth/login", bytes.NewReader(body))
			if err == nil {
				r.Header.Set("Content-Type", "application/json")
			}
			return r, err
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
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			bad := 0
			for time.Now().Before(stop) {
				req, err := newReq()
				if err != nil {
					bad++
					continue
				}
				t0 := time.Now()
				res, err := hc.Do(req)
				elapsed := time.Since(t0)
				ok := err == nil && res.StatusCode < 300
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					_ = res.Body.Close()
				}
				if t0.Before(measureFrom) {
					continue
				}
				if !ok {
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

func signup(hc *http.Client, base, email, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"firstName": "Load", "lastName": "Test", "email": email, "password": password})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/auth/signup", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("signup: %w", err)
	}
	defer res.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if res.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("signup: status %d", res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("signup: %w", err)
	}
	return out.Token, nil
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
