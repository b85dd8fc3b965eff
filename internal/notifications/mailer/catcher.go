package mailer

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"sync"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/httpx"
)

// Catcher keeps the last mails in memory instead of sending them, and logs each: `mint dev` without
// MINT_SMTP_URL. Handler shows them at /dev/mail.
type Catcher struct {
	logger *slog.Logger
	max    int

	mu    sync.Mutex
	mails []Mail // oldest first, at most max
}

// NewCatcher keeps the last max mails (default 200).
func NewCatcher(max int, logger *slog.Logger) *Catcher {
	if max <= 0 {
		max = 200
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Catcher{logger: logger, max: max}
}

// Send keeps m and logs it; it never fails.
func (c *Catcher) Send(ctx context.Context, m Mail) error {
	c.mu.Lock()
	// Replace a mail with the same id (a resend after a crash) rather than listing it twice.
	replaced := false
	for i := range c.mails {
		if c.mails[i].ID == m.ID {
			c.mails[i], replaced = m, true
		}
	}
	if !replaced {
		c.mails = append(c.mails, m)
		if len(c.mails) > c.max {
			c.mails = append(c.mails[:0:0], c.mails[len(c.mails)-c.max:]...)
		}
	}
	c.mu.Unlock()
	c.logger.InfoContext(ctx, "mail caught (not sent: MINT_SMTP_URL is not set); see /dev/mail", "template", m.Template,
		"to", m.To, "subject", m.Subject, "mail_id", m.ID)
	return nil
}

// Mails returns the kept mails, newest first.
func (c *Catcher) Mails() []Mail {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Mail, len(c.mails))
	for i, m := range c.mails {
		out[len(c.mails)-1-i] = m
	}
	return out
}

// Mail returns the kept mail with id.
func (c *Catcher) Mail(id string) (Mail, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.mails {
		if m.ID == id {
			return m, true
		}
	}
	return Mail{}, false
}

//go:embed catcher.html
var catcherFS embed.FS

var catcherPages = template.Must(template.ParseFS(catcherFS, "catcher.html"))

// ListHandler serves the list of kept mails (GET /dev/mail). base is the path the view handler is
// mounted under, e.g. "/dev/mail".
func (c *Catcher) ListHandler(base string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.render(w, r, "list", map[string]any{"Base": base, "Mails": c.Mails()})
	})
}

// ViewHandler serves one mail (GET /dev/mail/{id}): headers, the text part as text and the HTML part
// in a sandboxed iframe (no scripts, no same-origin access), all escaped.
func (c *Catcher) ViewHandler(base string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, ok := c.Mail(r.PathValue("id"))
		if !ok {
			httpx.WriteError(w, r, c.logger, failure.New(failure.NotFound, "no such mail (the catcher keeps the last mails only)"))
			return
		}
		c.render(w, r, "view", map[string]any{"Base": base, "Mail": m})
	})
}

// render renders the page in full before answering, so a template failure is a clean 500 problem
// rather than half a page.
func (c *Catcher) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	var page bytes.Buffer
	if err := catcherPages.ExecuteTemplate(&page, name, data); err != nil {
		httpx.WriteError(w, r, c.logger, failure.Wrap("mailer.render "+name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The page itself runs no script; the mail's HTML is confined to the sandboxed iframe.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// Mails hold personal data: addresses, names, amounts.
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(page.Bytes())
}
