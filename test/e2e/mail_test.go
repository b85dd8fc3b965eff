package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/smtptest"
)

// TestDevMailsOverSMTP: mint dev with MINT_SMTP_URL really sends every mail the contract promises, once:
// welcome on signup, a top-up confirmation, "money sent" and "money received" with the exact amount,
// and an alert for a failed transfer with its reason in plain words.
func TestDevMailsOverSMTP(t *testing.T) {
	smtp := smtptest.Start(t)
	p := startDev(t, tempDir(t), "MINT_SMTP_URL="+smtp.URL(), "MINT_MAIL_FROM=Mint <hello@mint.test>")
	ada, bob := newUser(t, p.base, "ada.mail"), newUser(t, p.base, "bob.mail")

	top := must(t, call(t, "POST", p.base+"/api/v1/transactions/topup", map[string]any{"amount": "12.34"}, ada.token), 201, "topup")
	settle(t, p.base, ada, top.field(t, "id"))
	tr := must(t, call(t, "POST", p.base+"/api/v1/transactions/transfer", map[string]any{"recipientId": bob.id, "amount": "5.07"}, ada.token), 201, "transfer")
	settle(t, p.base, ada, tr.field(t, "id"))
	over := must(t, call(t, "POST", p.base+"/api/v1/transactions/transfer", map[string]any{"recipientId": ada.id, "amount": "99"}, bob.token), 201, "overdraft")
	settle(t, p.base, bob, over.field(t, "id"))

	type want struct{ to, subjectHas, textHas string }
	wants := []want{
		{"ada.mail@example.com", "Welcome", ""},
		{"bob.mail@example.com", "Welcome", ""},
		{"ada.mail@example.com", "", "12.34 USD"},
		{"ada.mail@example.com", "", "5.07 USD"},
		{"bob.mail@example.com", "", "5.07 USD"},
		{"bob.mail@example.com", "", "enough money"},
	}
	var msgs []smtptest.Message
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if msgs = smtp.Messages(); len(msgs) >= len(wants) || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(2 * time.Second) // anything sent twice would arrive by now
	msgs = smtp.Messages()
	if len(msgs) != len(wants) {
		for _, m := range msgs {
			t.Logf("to %v: %q", m.To, m.Subject)
		}
		t.Fatalf("the SMTP server received %d mails, want exactly %d", len(msgs), len(wants))
	}
	for _, w := range wants {
		found := false
		for _, m := range msgs {
			if strings.Join(m.To, ",") == w.to && strings.Contains(m.Subject, w.subjectHas) && strings.Contains(m.Text, w.textHas) &&
				strings.Contains(m.HTML, w.textHas) && strings.Contains(m.Header.Get("From"), "hello@mint.test") {
				found = true
			}
		}
		if !found {
			t.Errorf("no mail to %s with subject containing %q and both parts containing %q", w.to, w.subjectHas, w.textHas)
		}
	}
}

// TestDevMailCatcher: without MINT_SMTP_URL, mint dev keeps its mails and lists them at /dev/mail.
func TestDevMailCatcher(t *testing.T) {
	p := startDev(t, tempDir(t))
	newUser(t, p.base, "caught")
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		page := must(t, call(t, "GET", p.base+"/dev/mail", nil, ""), 200, "/dev/mail")
		if strings.Contains(string(page.body), "caught@example.com") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/dev/mail does not list the welcome mail: %s", page.body)
		}
	}
}
