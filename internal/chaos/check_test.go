package chaos

import (
	"testing"
	"time"
)

func TestMailsAreCountedByMessageIDAndRecipient(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	msg := func(id, to string, s int) mailpitMessage {
		m := mailpitMessage{MessageID: "<" + id + ">", Created: t0.Add(time.Duration(s) * time.Second)}
		m.To = append(m.To, struct {
			Address string `json:"Address"`
		}{to})
		return m
	}
	promised := map[string]string{"a@mint.local": "ada@example.com", "b@mint.local": "bob@example.com"}
	for _, tt := range []struct {
		name       string
		got        []mailpitMessage
		copies     int
		violations int
		all        bool
		last       int
	}{
		{"each once", []mailpitMessage{msg("a@mint.local", "ada@example.com", 1), msg("b@mint.local", "bob@example.com", 3)}, 0, 0, true, 3},
		{"a copy under the same Message-ID", []mailpitMessage{msg("a@mint.local", "ada@example.com", 1), msg("a@mint.local", "ada@example.com", 9),
			msg("b@mint.local", "bob@example.com", 2)}, 1, 0, true, 2},
		{"one missing", []mailpitMessage{msg("a@mint.local", "ada@example.com", 1)}, 0, 1, false, 0},
		{"to the wrong person", []mailpitMessage{msg("a@mint.local", "bob@example.com", 1), msg("b@mint.local", "bob@example.com", 2)}, 0, 2, false, 0},
		{"one nobody promised", []mailpitMessage{msg("a@mint.local", "ada@example.com", 1), msg("b@mint.local", "bob@example.com", 2),
			msg("c@mint.local", "bob@example.com", 3), msg("c@mint.local", "bob@example.com", 4)}, 0, 1, true, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := &run{}
			if copies := r.checkMails(promised, tt.got); copies != tt.copies || len(r.violations) != tt.violations {
				t.Errorf("copies %d, violations %q; want %d copies, %d violations", copies, r.violations, tt.copies, tt.violations)
			}
			last, all := allPromised(promised, tt.got)
			if all != tt.all || (all && !last.Equal(t0.Add(time.Duration(tt.last)*time.Second))) {
				t.Errorf("allPromised = %v, %v; want %v, +%ds", last, all, tt.all, tt.last)
			}
		})
	}
}
