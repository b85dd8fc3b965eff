package webapp

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	mux := http.NewServeMux()
	h := Handler()
	mux.Handle("GET /{$}", h)
	mux.Handle("GET /app/", h)

	tests := []struct {
		path        string
		status      int
		contentType string
		body        string
	}{
		{"/", 200, "text/html; charset=utf-8", `<script type="module" src="/app/app.js">`},
		{"/app/app.js", 200, "text/javascript; charset=utf-8", "EventSource"},
		{"/app/money.js", 200, "text/javascript; charset=utf-8", "export function parseAmount"},
		{"/app/app.css", 200, "text/css; charset=utf-8", "prefers-color-scheme: dark"},
		{"/app/icon.svg", 200, "image/svg+xml", "<svg"},
		{"/app/index.html", 404, "", ""}, // the page has one address
		{"/app/missing.js", 404, "", ""},
		{"/app/", 404, "", ""},
		{"/elsewhere", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.status != 200 {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			if got := rec.Header().Get("Content-Security-Policy"); got != ContentSecurityPolicy {
				t.Errorf("Content-Security-Policy %q", got)
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
			if !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("body lacks %q", tt.body)
			}
		})
	}
}

func TestHandlerRevalidates(t *testing.T) {
	h := Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/app/app.js", nil))
	etag := rec.Header().Get("ETag")
	if etag == "" || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q: want an ETag and no-cache", etag, rec.Header().Get("Cache-Control"))
	}
	req := httptest.NewRequest("GET", "/app/app.js", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Fatalf("a request with the current ETag: %d, want 304", rec.Code)
	}
}

// The page loads nothing from elsewhere: every src and href in it is the server's own.
func TestPageNamesOnlyItsOwnFiles(t *testing.T) {
	page, err := site.ReadFile("site/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, attr := range []string{`src="`, `href="`} {
		for _, part := range strings.Split(string(page), attr)[1:] {
			ref := part[:strings.Index(part, `"`)]
			if !strings.HasPrefix(ref, "/app/") && !strings.HasPrefix(ref, "#") {
				t.Errorf("the page refers to %q", ref)
			}
		}
	}
}
