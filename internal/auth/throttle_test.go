package auth

import (
	"testing"
	"time"
)

func TestPolicyAdmit(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	client := ThrottleConfig{MaxFailures: 3, Delay: time.Second, MaxDelay: 10 * time.Second, Window: time.Hour}.clientPolicy()
	account := ThrottleConfig{AccountMaxFailures: 3, Delay: time.Second, MaxDelay: 10 * time.Second, Window: time.Hour}.accountPolicy()
	slot := func(streak int, ok bool, ago time.Duration) *attemptDoc {
		return &attemptDoc{Streak: streak, OK: ok, At: t0.Add(-ago)}
	}
	refunded := func(streak, refund int) *attemptDoc {
		return &attemptDoc{Streak: streak, OK: true, Refund: refund, At: t0}
	}
	tests := []struct {
		name       string
		p          policy
		last       *attemptDoc
		wantStreak int
		wantWait   time.Duration
	}{
		{"empty bucket", client, nil, 1, 0},
		{"free attempts", client, slot(1, false, 0), 2, 0},
		{"last free attempt", client, slot(2, false, 0), 3, 0},
		{"first delay", client, slot(3, false, 0), 0, time.Second},
		{"first delay passed", client, slot(3, false, time.Second), 4, 0},
		{"delay doubles", client, slot(4, false, time.Second), 0, time.Second},
		{"doubled delay passed", client, slot(4, false, 2*time.Second), 5, 0},
		{"four times", client, slot(5, false, time.Second), 0, 3 * time.Second},
		{"capped", client, slot(40, false, time.Second), 0, 9 * time.Second},
		{"cap passed", client, slot(40, false, 10*time.Second), 41, 0},
		{"an attempt still being checked counts", client, slot(3, false, 0), 0, time.Second},
		{"success ends a client's streak", client, slot(9, true, 0), 1, 0},
		{"a success takes its client's streak out of the account's", account, refunded(3, 3), 1, 0},
		{"but not other clients' failures", account, refunded(5, 2), 0, time.Second},
		{"other clients' failures below the limit", account, refunded(4, 2), 3, 0},
		{"a refund never goes below zero", account, refunded(1, 5), 1, 0},
		{"forgotten after the window", client, slot(40, false, time.Hour), 1, 0},
		{"not yet forgotten", client, slot(40, false, time.Hour-time.Second), 41, 0},
		{"a clock behind the last attempt waits", client, slot(3, false, -5*time.Second), 0, 6 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streak, wait := tt.p.admit(tt.last, t0)
			if streak != tt.wantStreak || wait != tt.wantWait {
				t.Errorf("admit = (%d, %v), want (%d, %v)", streak, wait, tt.wantStreak, tt.wantWait)
			}
		})
	}
}

func TestWaitAfterDoesNotOverflow(t *testing.T) {
	p := policy{delay: time.Second, maxDelay: 15 * time.Minute}
	for _, extra := range []int{0, 1, 10, 63, 64, 1000, 1 << 30} {
		if d := p.waitAfter(extra); d <= 0 || d > p.maxDelay {
			t.Errorf("waitAfter(%d) = %v", extra, d)
		}
	}
}

func TestBucketsAreDistinct(t *testing.T) {
	seen := map[bucket]string{}
	for _, b := range []struct{ kind, a, b string }{
		{"ip", "a@example.com", "10.0.0.1"}, {"ip", "a@example.com", "10.0.0.2"}, {"ip", "a@example.com1", "0.0.0.1"},
		{"account", "a@example.com", ""}, {"device", "a@example.com", ""},
	} {
		id := bucketOf(b.kind, b.a, b.b)
		if prev, ok := seen[id]; ok {
			t.Fatalf("bucket %v of %v collides with %s", id, b, prev)
		}
		seen[id] = b.kind + "/" + b.a + "/" + b.b
	}
}
