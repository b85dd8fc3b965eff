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

	mu sync.Mutex
	// mails are oldest first; the last max are the kept ones. Up to twice as many are held, then the
	// older half is dropped in one copy, so that keeping a mail costs the same whatever max is.
	mails []Mail
	index map[string]int // mail id → its position in mails
}

// NewCatcher keeps the last max mails (default 200).
func NewCatcher(max int, logger *slog.Logger) *Catcher {
	if max <= 0 {
		max = 200
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Catcher{logger: logger, max: max, index: map[string]int{}}
}

// Send keeps m and logs it; it never fails.
func (c *Catcher) Send(ctx context.Context, m Mail) error {
	c.mu.Lock()
	// Replace a kept mail with the same id (a resend after a crash) rather than listing it twice.
	if i, ok := c.index[m.ID]; ok && i >= c.first() {
		c.mails[i] = m
	} else {
		c.index[m.ID] = len(c.mails)
		c.mails = append(c.mails, m)
		if len(c.mails) >= 2*c.max {
			c.mails = append(make([]Mail, 0, 2*c.max), c.mails[c.first():]...)
			clear(c.index)
			for i, kept := range c.mails {
				c.index[kept.ID] = i
			}
		}
	}
	c.mu.Unlock()
	c.logger.InfoContext(ctx, "mail caught (not sent: MINT_SMTP_URL is not set); see /dev/mail", "template", m.Template,
		"to", m.To, "subject", m.Subject, "mail_id", m.ID)
	return nil
}

// first is the position of the oldest kept mail; c.mu held.
func (c *Catcher) first() int { return max(len(c.mails)-c.max, 0) }

// Mails returns the kept mails, newest first.
func (c *Catcher) Mails() []Mail {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.mails[c.first():]
	out := make([]Mail, len(kept))
	for i, m := range kept {
		out[len(kept)-1-i] = m
	}
	return out
}

// Mail returns the kept mail with id.
func (c *Catcher) Mail(id string) (Mail, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.index[id]; ok && i >= c.first() {
		return c.mails[i], true
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
