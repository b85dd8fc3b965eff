package notifications

import (
	"testing"
	"time"
)

// The deliverer queries for due mails only when it expects one (or at a rescan): each expected mail
// makes exactly one query happen once it is due, however many mails are expected at other times.
func TestDelivererLooksWhenAMailIsDue(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	d := &deliverer{}
	d.expectDue("late", t0.Add(2*time.Second))
	d.expectDue("soon", t0.Add(time.Second))

	for _, step := range []struct {
		at   time.Duration
		want bool
	}{
		{0, false},
		{time.Second, true},  // "soon" is due
		{time.Second, false}, // and forgotten: its query has run
		{1500 * time.Millisecond, false},
		{3 * time.Second, true},  // "late", not lost behind "soon"
		{4 * time.Second, false}, // nothing left
	} {
		if got := d.mustLook(t0.Add(step.at)); got != step.want {
			t.Fatalf("mustLook(+%v) = %v, want %v", step.at, got, step.want)
		}
	}

	d.expectDue(anyMail, t0) // a failed query: look again at once
	if !d.mustLook(t0) {
		t.Fatal("a failed query must be retried at the next poll")
	}
}
