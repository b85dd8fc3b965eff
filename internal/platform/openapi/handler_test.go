package openapi

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path, accept string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func mediaType(res *http.Response) string {
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	return mt
}

func TestHandlerRoutes(t *testing.T) {
	doc := authDoc()
	want, _ := doc.JSON()
	h := Handler(doc)
	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

	tests := []struct {
		name, path, accept string
		status             int
		mediaType          string
		contains           string
	}{
		{"page for a browser", "/api-docs", browser, 200, "text/html", "<title>"},
		{"page for curl", "/api-docs", "*/*", 200, "text/html", "api-docs/assets/app.js"},
		{"document when JSON is preferred", "/api-docs", "application/json", 200, "application/json", `"openapi": "3.1.0"`},
		{"document when JSON outranks HTML", "/api-docs", "text/html;q=0.5, application/json", 200, "application/json", `"openapi"`},
		{"document file", "/api-docs/openapi.json", "", 200, "application/json", `"openapi": "3.1.0"`},
		{"script", "/api-docs/assets/app.js", "", 200, "text/javascript", "fetch("},
		{"styles", "/api-docs/assets/style.css", "", 200, "text/css", "details.op"},
		{"missing asset", "/api-docs/assets/nope.js", "", 404, "text/plain", ""},
		{"trailing slash", "/api-docs/", "", 301, "text/html", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, h, tt.path, tt.accept)
			if res.StatusCode != tt.status || mediaType(res) != tt.mediaType || !strings.Contains(body, tt.contains) {
				t.Fatalf("got %d %s %.80q, want %d %s containing %q",
					res.StatusCode, mediaType(res), body, tt.status, tt.mediaType, tt.contains)
			}
			if res.StatusCode == 200 && res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff header")
			}
			if tt.mediaType == "application/json" && body != string(want) {
				t.Error("served document differs from Document.JSON")
			}
		})
	}
}

func TestHandlerPageLoadsOnlyItsOwnAssets(t *testing.T) {
	h := Handler(authDoc())
	res, page := get(t, h, "/api-docs", "text/html")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	links := regexp.MustCompile(`(?:href|src)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(links) < 3 {
		t.Fatalf("page links %v", links)
	}
	for _, l := range links {
		if strings.Contains(l[1], "//") {
			t.Errorf("external link %s", l[1])
			continue
		}
		if strings.HasPrefix(l[1], "data:") {
			continue // inline: the empty favicon that spares a request
		}
		// Relative links resolve against /api-docs, whose directory is /.
		if res, _ := get(t, h, "/"+l[1], ""); res.StatusCode != 200 {
			t.Errorf("%s: %d", l[1], res.StatusCode)
		}
	}
}

func TestHandlerRevalidates(t *testing.T) {
	h := Handler(authDoc())
	res, _ := get(t, h, "/api-docs/openapi.json", "")
	etag := res.Header.Get("ETag")
	req := httptest.NewRequest(http.MethodGet, "/api-docs/openapi.json", nil)
	req.Header.Set("If-None-Match", etag)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if etag == "" || rec.Code != http.StatusNotModified {
		t.Fatalf("ETag %q, conditional GET answered %d", etag, rec.Code)
	}
}

func TestHandlerRejectsOtherMethods(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler(authDoc()).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api-docs/openapi.json", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST answered %d", rec.Code)
	}
}

func TestHandlerReportsUnencodableDocument(t *testing.T) {
	d := authDoc()
	d.paths["/health"]["get"].(map[string]any)["x-bad"] = func() {}
	res, body := get(t, Handler(d), "/api-docs/openapi.json", "")
	var p map[string]any
	if res.StatusCode != 500 || mediaType(res) != problemContentType || json.Unmarshal([]byte(body), &p) != nil {
		t.Fatalf("got %d %s %s", res.StatusCode, mediaType(res), body)
	}
	// The page itself still loads.
	if res, _ := get(t, Handler(d), "/api-docs", "text/html"); res.StatusCode != 200 {
		t.Fatalf("page answered %d", res.StatusCode)
	}
}

func TestPrefersJSON(t *testing.T) {
	tests := map[string]bool{
		"":                                    false,
		"*/*":                                 false,
		"application/json":                    true,
		"application/vnd.oai.openapi+json":    true,
		"text/html, application/json":         false,
		"text/html;q=0.9, application/json":   true,
		"application/json;q=0, text/plain":    false,
		"text/html,application/xhtml+xml,*/*": false,
	}
	for accept, want := range tests {
		if got := prefersJSON(accept); got != want {
			t.Errorf("prefersJSON(%q) = %v", accept, got)
		}
	}
}

// TestHandlerServesRoutesAddedAfterMounting: the service mounts /api-docs before registering its
// routes (mint dev did, and served a document without paths).
func TestHandlerServesRoutesAddedAfterMounting(t *testing.T) {
	doc := New("t", "1", "")
	h := Handler(doc)
	doc.Add(Operation{Method: "GET", Path: "/late", ID: "late", Responses: []Response{{Status: 200}}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api-docs/openapi.json", nil))
	if !strings.Contains(rec.Body.String(), `"/late"`) {
		t.Fatalf("document served without the route added after Handler: %s", rec.Body.String())
	}
}
