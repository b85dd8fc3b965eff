package mailer_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
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
