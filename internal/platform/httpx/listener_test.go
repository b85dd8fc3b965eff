package httpx_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/observe"
)

// serveRaw runs httpx.Serve with h on a loopback listener until the test ends and returns its address.
func serveRaw(t *testing.T, h http.Handler, logger *slog.Logger) string {
	t.Helper()
	ln := listen(t)
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- httpx.Serve(ctx, ln, h, logger, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	return ln.Addr().String()
}

// rawExchange writes req on a new connection and reads one response.
func rawExchange(t *testing.T, addr, req string) (*http.Response, string) {
	t.Helper()
	c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second)) // a hang fails the test instead of blocking it
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatalf("write request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(body)
}

func TestServeAnswersItsOwnErrorsWithProblems(t *testing.T) {
	var logs syncBuffer
	addr := serveRaw(t, okHandler, observe.NewLogger(&logs, "test", slog.LevelInfo))
	tests := []struct {
		name       string
		req        string
		wantStatus int
		wantCode   string
		wantDetail string
	}{
		{"header fields over the limit", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 40<<10) + "\r\n\r\n",
			431, "request_headers_too_large", "the request's header fields are too large"},
		{"garbage request line", "NOT HTTP AT ALL\r\n\r\n", 400, "malformed_request", "the request is not valid HTTP/1.1"},
		{"invalid method", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed_request", "the request is not valid HTTP/1.1"},
		{"missing Host", "GET / HTTP/1.1\r\n\r\n", 400, "malformed_request", "the request is not valid HTTP/1.1: missing required Host header"},
		{"malformed Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "malformed_request", "the request is not valid HTTP/1.1: malformed Host header"},
		{"invalid header name", "GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400, "malformed_request", "the request is not valid HTTP/1.1: invalid header name"},
		{"unsupported transfer encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
			501, "not_implemented", "unsupported transfer encoding"},
		{"unsupported protocol version", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "http_version_not_supported",
			"the request is not valid HTTP/1.1: unsupported protocol version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := rawExchange(t, addr, tt.req)
			p := wantProblem(t, resp.StatusCode, resp.Header, []byte(body), tt.wantStatus, tt.wantCode)
			if p.Detail != tt.wantDetail {
				t.Errorf("detail = %q, want %q", p.Detail, tt.wantDetail)
			}
			if p.RequestID == "" || p.RequestID != resp.Header.Get("X-Request-Id") {
				t.Errorf("requestId = %q, X-Request-Id = %q; want the same fresh id", p.RequestID, resp.Header.Get("X-Request-Id"))
			}
			if resp.Header.Get("Cache-Control") != "no-store" || !resp.Close {
				t.Errorf("Cache-Control %q, close %v; want no-store and the connection closed", resp.Header.Get("Cache-Control"), resp.Close)
			}
		})
	}
	if rec := findRecord(t, logs.String(), "request refused by the HTTP server"); rec["level"] != "INFO" || rec["request_id"] == nil {
		t.Errorf("log = %v, want an info record with the request id", rec)
	}
}

// A handler's answer is never taken for one of net/http's own, even one shaped like it.
func TestServeLeavesHandlerAnswersAlone(t *testing.T) {
	const lookalike = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/plain":
			w.Header().Set("Connection", "close")
			http.Error(w, "Bad Request", http.StatusBadRequest)
		case "/bare":
			// No header of the handler's own: net/http adds only Date, Content-Length, Content-Type.
			w.Header()["Date"] = nil
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, "400 Bad Request")
		default:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, lookalike)
		}
	})
	addr := serveRaw(t, h, discardLogger())
	tests := []struct {
		path, wantCT, wantBody string
		wantStatus             int
	}{
		{"/plain", "text/plain; charset=utf-8", "Bad Request\n", 400},
		{"/bare", "text/plain; charset=utf-8", "400 Bad Request", 400},
		{"/echo", "text/plain; charset=utf-8", lookalike, 200},
	}
	for _, tt := range tests {
		resp, body := rawExchange(t, addr, "GET "+tt.path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp.StatusCode != tt.wantStatus || resp.Header.Get("Content-Type") != tt.wantCT || body != tt.wantBody {
			t.Errorf("GET %s = %d %q %q; want the handler's %d %q %q", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), body,
				tt.wantStatus, tt.wantCT, tt.wantBody)
		}
	}
}
