package mailer_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/notifications/mailer"
)

func TestCatcherListsAndShowsEscaped(t *testing.T) {
	c := mailer.NewCatcher(2, nil)
	mux := http.NewServeMux()
	mux.Handle("GET /dev/mail", c.ListHandler("/dev/mail"))
	mux.Handle("GET /dev/mail/{id}", c.ViewHandler("/dev/mail"))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, id := range []string{"old", "a", "b"} {
		if err := c.Send(context.Background(), mailer.Mail{ID: id, Subject: "Hi <script>alert(1)</script> " + id, To: "x@example.com",
			Text: "text <script>", HTML: `<p onclick="x()">html "quoted"</p><script>alert(2)</script>`, Date: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(c.Mails()); got != 2 {
		t.Fatalf("kept %d mails, want the last 2", got)
	}
	get := func(path string) (int, string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	status, list := get("/dev/mail")
	if status != http.StatusOK || !strings.Contains(list, `href="/dev/mail/b"`) || strings.Contains(list, "/dev/mail/old") ||
		strings.Contains(list, "<script>") || !strings.Contains(list, "Hi &lt;script&gt;alert(1)&lt;/script&gt; b") {
		t.Errorf("list page %d:\n%s", status, list)
	}
	status, view := get("/dev/mail/b")
	if status != http.StatusOK || strings.Contains(view, "<script>") || !strings.Contains(view, `<iframe sandbox="" `) ||
		!strings.Contains(view, "srcdoc=\"&lt;p onclick=&#34;x()&#34;&gt;") || !strings.Contains(view, "text &lt;script&gt;") {
		t.Errorf("view page %d:\n%s", status, view)
	}
	if status, _ := get("/dev/mail/nope"); status != http.StatusNotFound {
		t.Errorf("unknown mail: %d", status)
	}
}

func TestCatcherAnswersProblems(t *testing.T) {
	c := mailer.NewCatcher(2, nil)
	if err := c.Send(context.Background(), mailer.Mail{ID: "kept", Subject: "Hi", Date: time.Now()}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path      string
		wantStatus      int
		wantContentType string
	}{
		{"an unknown mail is a problem", "/dev/mail/gone", http.StatusNotFound, "application/problem+json"},
		{"a kept mail is a page", "/dev/mail/kept", http.StatusOK, "text/html; charset=utf-8"},
		{"the list is a page", "/dev/mail", http.StatusOK, "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.Handle("GET /dev/mail", c.ListHandler("/dev/mail"))
			mux.Handle("GET /dev/mail/{id}", c.ViewHandler("/dev/mail"))
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if w.Code != tt.wantStatus || w.Header().Get("Content-Type") != tt.wantContentType {
				t.Errorf("status %d, Content-Type %q; want %d, %q (body %s)", w.Code, w.Header().Get("Content-Type"),
					tt.wantStatus, tt.wantContentType, w.Body)
			}
			if tt.wantStatus == http.StatusNotFound && !strings.Contains(w.Body.String(), `"code":"not_found"`) {
				t.Errorf("body = %s, want a not_found problem", w.Body)
			}
			// Mails hold personal data.
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
		})
	}
}

// The catcher keeps the last max mails, newest first, whatever came before; a resend of a kept mail
// replaces it, a mail no longer kept comes back as a new one.
func TestCatcherKeepsTheLastMails(t *testing.T) {
	ctx := context.Background()
	c := mailer.NewCatcher(3, slog.New(slog.DiscardHandler))
	ids := func() []string {
		var out []string
		for _, m := range c.Mails() {
			out = append(out, m.ID+"/"+m.Subject)
		}
		return out
	}
	for _, step := range []struct {
		send, subject string
		want          []string
	}{
		{"a", "1", []string{"a/1"}},
		{"b", "1", []string{"b/1", "a/1"}},
		{"a", "2", []string{"b/1", "a/2"}}, // a resend replaces the kept mail in its place
		{"c", "1", []string{"c/1", "b/1", "a/2"}},
		{"d", "1", []string{"d/1", "c/1", "b/1"}},
		{"e", "1", []string{"e/1", "d/1", "c/1"}}, // held: twice max, the older half dropped
		{"a", "3", []string{"a/3", "e/1", "d/1"}}, // a is no longer kept: it comes as a new mail
		{"f", "1", []string{"f/1", "a/3", "e/1"}},
		{"e", "2", []string{"f/1", "a/3", "e/2"}},
	} {
		if err := c.Send(ctx, mailer.Mail{ID: step.send, Subject: step.subject}); err != nil {
			t.Fatal(err)
		}
		if got := ids(); !slices.Equal(got, step.want) {
			t.Fatalf("after %s/%s: %v, want %v", step.send, step.subject, got, step.want)
		}
	}
	if _, ok := c.Mail("b"); ok {
		t.Error("b is no longer kept, but Mail finds it")
	}
	if m, ok := c.Mail("a"); !ok || m.Subject != "3" {
		t.Errorf("Mail(a) = %+v, %v; want the resent one", m, ok)
	}
}
