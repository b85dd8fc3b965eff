// Package webapp serves the web wallet: one page and its scripts and styles, compiled into the binary
// so that it works offline and nothing fetched from elsewhere runs next to the session cookie. The
// page talks only to the API of the origin that served it.
package webapp

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed site
var site embed.FS

// ContentSecurityPolicy lets the page run only its own script and styles, call only its own origin
// (the API and the status stream) and be framed by nobody.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; manifest-src 'self'"

// asset is one embedded file, read once.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves the page at "/" and its files under "/app/"; mount it for "GET /{$}" and "GET /app/".
func Handler() http.Handler {
	assets := map[string]asset{}
	err := fs.WalkDir(site, "site", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := site.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		assets[strings.TrimPrefix(name, "site/")] = asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic("webapp: reading the embedded site: " + err.Error())
	}
	page, ok := assets["index.html"]
	if !ok {
		panic("webapp: the embedded site has no index.html")
	}

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := page
		if r.URL.Path != "/" {
			var ok bool
			if a, ok = assets[strings.TrimPrefix(r.URL.Path, "/app/")]; !ok || r.URL.Path == "/app/index.html" {
				http.NotFound(w, r)
				return
			}
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("ETag", a.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}
