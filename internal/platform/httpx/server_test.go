package httpx_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/observe"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

func activeConnections(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	s := gather(t, reg, "active_connections")
	if len(s) != 1 {
		t.Fatalf("active_connections series = %v", s)
	}
	return s[0].value
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

type result struct {
	status int
	body   string
	err    error
}

func TestServeShutsDownGracefully(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics := observe.NewHTTPMetrics(reg)
	started, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-release:
		case <-time.After(300 * time.Millisecond): // never the assertion: release normally comes first
		}
		if err := r.Context().Err(); err != nil {
			http.Error(w, "request context ended: "+err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "done")
	})
	mux.HandleFunc("GET /fast", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "fast") })

	ln := listen(t)
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- httpx.Serve(ctx, ln, mux, discardLogger(), metrics) }()

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	get := func(path string) result {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			return result{err: err}
		}
		resp, err := client.Do(req)
		if err != nil {
			return result{err: err}
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return result{status: resp.StatusCode, body: string(b), err: err}
	}

	if res := get("/fast"); res.err != nil || res.status != http.StatusOK || res.body != "fast" {
		t.Fatalf("GET /fast = %+v", res)
	}
	if got := activeConnections(t, reg); got != 1 {
		t.Errorf("active_connections with one keep-alive connection = %v, want 1", got)
	}
	if res := get("/fast"); res.err != nil || res.status != http.StatusOK {
		t.Fatalf("GET /fast again = %+v", res)
	}
	if s := gather(t, reg, "http_connections_total"); len(s) != 1 || s[0].value != 1 {
		t.Errorf("http_connections_total after two requests on one keep-alive connection = %v, want 1", s)
	}

	slow := make(chan result, 1)
	go func() { slow <- get("/slow") }()
	<-started
	cancel() // stop while /slow is in flight

	// The listener closes at once: new connections are refused while /slow still runs.
	testenv.Eventually(t, 3*time.Second, "the listener to close", func() bool {
		c, err := (&net.Dialer{Timeout: time.Second}).DialContext(t.Context(), "tcp", addr)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before the in-flight request finished", err)
	default:
	}
	close(release)

	if res := <-slow; res.err != nil || res.status != http.StatusOK || res.body != "done" {
		t.Errorf("in-flight request = %+v, want 200 done", res)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	if res := get("/fast"); res.err == nil {
		t.Errorf("GET after shutdown = %+v, want a refused connection", res)
	}
	if got := activeConnections(t, reg); got != 0 {
		t.Errorf("active_connections after shutdown = %v, want 0", got)
	}
}

func TestServeCountsConnections(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics := observe.NewHTTPMetrics(reg)
	ln := listen(t)
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() {
		served <- httpx.Serve(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "ok")
		}), discardLogger(), metrics)
	}()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve = %v", err)
		}
	}()

	var conns []net.Conn
	for i := 1; i <= 3; i++ {
		c, err := (&net.Dialer{}).DialContext(t.Context(), "tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		testenv.Eventually(t, 3*time.Second, "active_connections to count the new connection", func() bool { return activeConnections(t, reg) == float64(i) })
	}
	for i, c := range conns {
		c.Close()
		want := float64(len(conns) - i - 1)
		testenv.Eventually(t, 3*time.Second, "active_connections to drop", func() bool { return activeConnections(t, reg) == want })
	}
}

func TestServeReportsListenerFailure(t *testing.T) {
	ln := listen(t)
	ln.Close()
	err := httpx.Serve(t.Context(), ln, http.NotFoundHandler(), discardLogger(), nil)
	if err == nil || !errors.Is(err, net.ErrClosed) || !strings.Contains(err.Error(), "http server") {
		t.Errorf("Serve on a closed listener = %v, want an http server error", err)
	}
}

func TestServeWithoutMetrics(t *testing.T) {
	ln := listen(t)
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- httpx.Serve(ctx, ln, http.NotFoundHandler(), discardLogger(), nil) }()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+ln.Addr().String()+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status = %d", resp.StatusCode)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve = %v", err)
	}
}
