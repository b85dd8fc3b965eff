package localserver_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/smtp"
	"slices"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/localserver"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// TestMailpit: a Mailpit of its own lists the mails it receives over SMTP, refuses SMTP connections
// while stopped, and lists them still once started again.
func TestMailpit(t *testing.T) {
	testenv.Integration(t)
	m, err := localserver.StartMailpit(t.Context(), t.TempDir(), localserver.WithLogf(t.Logf))
	mustStart(t, err)
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})

	send(t, m, "before the outage")
	if got := subjects(t, m); !slices.Equal(got, []string{"before the outage"}) {
		t.Fatalf("listed %q, want the mail sent", got)
	}

	if err := m.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	refused(t, m.SMTPAddr(), "SMTP after Stop")
	if err := m.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if got := subjects(t, m); !slices.Equal(got, []string{"before the outage"}) {
		t.Fatalf("listed %q after Start, want the mail sent before Stop", got)
	}

	send(t, m, "after the outage")
	if got := subjects(t, m); !slices.Equal(got, []string{"after the outage", "before the outage"}) {
		t.Fatalf("listed %q, want both mails, newest first", got)
	}
}

func send(t *testing.T, m *localserver.Mailpit, subject string) {
	t.Helper()
	msg := fmt.Sprintf("From: mint@example.com\r\nTo: ada@example.com\r\nSubject: %s\r\n\r\nHello.\r\n", subject)
	if err := smtp.SendMail(m.SMTPAddr(), nil, "mint@example.com", []string{"ada@example.com"}, []byte(msg)); err != nil {
		t.Fatalf("send %q: %v", subject, err)
	}
}

// subjects lists the subjects of the mails Mailpit holds, newest first.
func subjects(t *testing.T, m *localserver.Mailpit) []string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, m.APIURL()+"/api/v1/messages", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("list messages: %v", err)
	}
	defer res.Body.Close()
	var list struct {
		Total    int
		Messages []struct{ Subject string }
	}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil {
		t.Fatalf("list messages: %s: %v", res.Status, err)
	}
	got := make([]string, 0, len(list.Messages))
	for _, msg := range list.Messages {
		got = append(got, msg.Subject)
	}
	if list.Total != len(got) {
		t.Fatalf("total %d, but %d messages listed", list.Total, len(got))
	}
	return got
}
