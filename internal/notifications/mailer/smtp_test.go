package mailer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/mint-wallet/mint/internal/notifications/mailer"
	"github.com/mint-wallet/mint/internal/platform/smtptest"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want mailer.Endpoint
		err  string
	}{
		{url: "smtp://mail.example.com", want: mailer.Endpoint{Host: "mail.example.com", Port: 25, TLSPolicy: gomail.TLSOpportunistic}},
		{url: "smtp://mail.example.com:587?starttls=required", want: mailer.Endpoint{Host: "mail.example.com", Port: 587, TLSPolicy: gomail.TLSMandatory}},
		{url: "smtps://u%40x:p%3Ass@mail.example.com", want: mailer.Endpoint{Host: "mail.example.com", Port: 465, Implicit: true,
			TLSPolicy: gomail.TLSMandatory, Username: "u@x", Password: "p:ss", Auth: gomail.SMTPAuthAutoDiscover}},
		{url: "smtp://user@127.0.0.1:1025", want: mailer.Endpoint{Host: "127.0.0.1", Port: 1025, TLSPolicy: gomail.TLSOpportunistic,
			Username: "user", Auth: gomail.SMTPAuthAutoDiscover}},
		{url: "http://mail.example.com", err: "scheme"},
		{url: "smtp://:25", err: "no host"},
		{url: "smtp://mail.example.com:99999", err: "port"},
		{url: "smtp://mail.example.com?starttls=maybe", err: "starttls"},
		{url: "smtp://user:secret@exa mple.com", err: "parse"},
	} {
		got, err := mailer.ParseURL(tc.url)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseURL(%q) error %v, want one about %q", tc.url, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("ParseURL(%q) error leaks the password: %v", tc.url, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tc.url, got, err, tc.want)
		}
	}
}

// TestSMTPSendsBothParts sends through go-mail to a real SMTP server over plain smtp:// (the server
// offers no STARTTLS, so the opportunistic policy goes on in clear text).
func TestSMTPSendsBothParts(t *testing.T) {
	srv := smtptest.Start(t)
	s, err := mailer.NewSMTP(mailer.SMTPConfig{URL: srv.URL(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	m := mailer.Mail{ID: "k", MessageID: "abc@mint.local", From: "Mint <no-reply@mint.local>", To: "jane@example.com",
		ToName: `Jane "<b>" Doe`, Subject: "Héllo 10.50 USD", Text: "plain 10.50 USD", HTML: "<p>html 10.50 USD</p>"}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	g := got[0]
	if g.Subject != m.Subject || strings.TrimSpace(g.Text) != m.Text || strings.TrimSpace(g.HTML) != m.HTML ||
		g.MessageID != "<abc@mint.local>" || g.To[0] != "jane@example.com" || g.From != "no-reply@mint.local" {
		t.Errorf("received %+v", g)
	}
	if from := g.Header.Get("From"); !strings.Contains(from, "no-reply@mint.local") {
		t.Errorf("From header %q", from)
	}

	srv.Refuse(true)
	if err := s.Send(context.Background(), m); err == nil {
		t.Error("a refusing server: Send returned nil")
	}
}

func TestSMTPDownIsAnError(t *testing.T) {
	s, err := mailer.NewSMTP(mailer.SMTPConfig{URL: "smtp://127.0.0.1:1", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), mailer.Mail{From: "a@b.c", To: "d@e.f"}); err == nil {
		t.Error("Send to a closed port returned nil")
	}
}
