package openapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ui holds the documentation page and its assets, compiled in so the docs work offline and no CDN can
// change the code that runs next to the session cookie.
//
//go:embed ui
var ui embed.FS

// contentSecurityPolicy lets the page load nothing but its own assets and call nothing but its own
// origin, which is all "Try it" needs.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// Handler serves doc at fixed paths; mount it for both "/api-docs" and "/api-docs/":
//
//	GET /api-docs              the UI, or the document when the client asks for application/json
//	GET /api-docs/openapi.json the document
//	GET /api-docs/assets/…     the UI's scripts and styles
//
// The document is encoded once, at the first request for it, so the handler can be mounted before the
// services register their routes; changes to doc after that first request are not served.
func Handler(doc *Document) http.Handler {
	// Encoding fails only for values JSON cannot hold (a NaN example); that is answered on every
	// request rather than taking the service down over its documentation.
	encoded := sync.OnceValues(doc.JSON)
	page, err := ui.ReadFile("ui/index.html")
	if err != nil {
		panic("openapi: embedded index.html is missing: " + err.Error())
	}
	assets, err := fs.Sub(ui, "ui/assets")
	if err != nil {
		panic("openapi: embedded assets are missing: " + err.Error())
	}

	serveDoc := func(w http.ResponseWriter, r *http.Request) {
		body, encodeErr := encoded()
		if encodeErr != nil {
			w.Header().Set("Content-Type", problemContentType)
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"type":"about:blank","title":"Internal server error","status":500,"code":"internal","detail":"the API document could not be encoded"}`))
			return
		}
		serveBytes(w, r, "application/json; charset=utf-8", body)
	}
	servePage := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		serveBytes(w, r, "text/html; charset=utf-8", page)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api-docs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept")
		if prefersJSON(r.Header.Get("Accept")) {
			serveDoc(w, r)
			return
		}
		servePage(w, r)
	})
	mux.HandleFunc("GET /api-docs/{$}", func(w http.ResponseWriter, r *http.Request) {
		// The page's asset links are relative to /api-docs; from /api-docs/ they would miss.
		http.Redirect(w, r, "../api-docs", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /api-docs/openapi.json", serveDoc)
	files := http.StripPrefix("/api-docs/assets/", http.FileServerFS(assets))
	mux.Handle("GET /api-docs/assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	}))
	return mux
}

// serveBytes answers with b, honouring If-None-Match so a reload of the docs costs a 304.
func serveBytes(w http.ResponseWriter, r *http.Request, contentType string, b []byte) {
	sum := sha256.Sum256(b)
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

// prefersJSON reports whether an Accept header ranks JSON above HTML. Wildcards count for neither, so
// browsers (text/html first) and curl (*/*) get the page, and API clients asking for JSON get JSON.
func prefersJSON(accept string) bool {
	var jsonQ, htmlQ float64
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		switch {
		case mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")):
			jsonQ = max(jsonQ, q)
		case mt == "text/html":
			htmlQ = max(htmlQ, q)
		}
	}
	return jsonQ > htmlQ
}
