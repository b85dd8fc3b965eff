package policy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/failure"
)

func TestDelay(t *testing.T) {
	p := Policy{RetryBase: 200 * time.Millisecond}.WithDefaults()
	for attempt, want := range map[int]time.Duration{
		1: 200 * time.Millisecond, 2: 400 * time.Millisecond, 3: 800 * time.Millisecond,
		6: 6400 * time.Millisecond, 7: 10 * time.Second, 50: 10 * time.Second,
	} {
		if got := p.Delay(attempt); got != want {
			t.Errorf("Delay(%d) = %v, want %v", attempt, got, want)
		}
	}
}

func TestDecide(t *testing.T) {
	p := Policy{MaxAttempts: 3, RetryBase: 200 * time.Millisecond, RetryMax: 10 * time.Second}.WithDefaults()
	boom := errors.New("boom")
	// As a store returns it: the driver's error classified Unavailable, or a failure of that kind,
	// wrapped on its way up.
	down := fmt.Errorf("credit wallet: %w", failure.New(failure.Unavailable, "database not answering"))
	tests := []struct {
		name string
		d    Delivery
		err  error
		want Decision
	}{
		{"handled", Delivery{1, 0}, nil, Decision{Outcome: Ack}},
		{"handled on the last attempt", Delivery{3, 7}, nil, Decision{Outcome: Ack}},
		{"failed", Delivery{1, 0}, boom, Decision{Retry, Delivery{2, 0}, 200 * time.Millisecond}},
		{"failed again", Delivery{2, 0}, boom, Decision{Retry, Delivery{3, 0}, 400 * time.Millisecond}},
		{"failed on the last attempt", Delivery{3, 0}, boom, Decision{Outcome: DeadLetter}},
		{"permanent", Delivery{1, 0}, bus.Permanent(boom), Decision{Outcome: DeadLetter}},
		{"permanent, wrapped", Delivery{1, 0}, wrapped(bus.Permanent(boom)), Decision{Outcome: DeadLetter}},
		{"permanent wins over unavailable", Delivery{1, 0}, bus.Permanent(down), Decision{Outcome: DeadLetter}},
		{"outage", Delivery{1, 0}, down, Decision{Retry, Delivery{1, 1}, 200 * time.Millisecond}},
		{"outage goes on", Delivery{1, 3}, down, Decision{Retry, Delivery{1, 4}, 1600 * time.Millisecond}},
		{"long outage: capped", Delivery{1, 40}, down, Decision{Retry, Delivery{1, 41}, 10 * time.Second}},
		{"outage on the last attempt: never dead-lettered", Delivery{3, 0}, down, Decision{Retry, Delivery{3, 1}, 200 * time.Millisecond}},
		{"outage after failures keeps the attempt", Delivery{2, 5}, wrapped(down), Decision{Retry, Delivery{2, 6}, 6400 * time.Millisecond}},
		{"failure after an outage: the attempts are all there", Delivery{1, 9}, boom, Decision{Retry, Delivery{2, 9}, 200 * time.Millisecond}},
		{"other kinds are ordinary failures", Delivery{3, 0}, failure.New(failure.NotFound, "no such wallet"), Decision{Outcome: DeadLetter}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Decide(tt.d, tt.err); got != tt.want {
				t.Errorf("Decide(%+v, %v) = %+v, want %+v", tt.d, tt.err, got, tt.want)
			}
		})
	}
}

func wrapped(err error) error { return errors.Join(errors.New("context"), err) }

func TestInvokeRecoversPanic(t *testing.T) {
	err := Invoke(context.Background(), func(context.Context, bus.Message) error { panic("bug") }, bus.Message{})
	if err == nil || !strings.Contains(err.Error(), "handler panic: bug") {
		t.Fatalf("Invoke = %v, want the panic as an error", err)
	}
}

func TestNormalize(t *testing.T) {
	in := bus.Message{Exchange: "x", Type: "k", Headers: map[string]string{"a": "1", AttemptHeader: "4", OutageHeader: "2"}, Body: []byte("b"),
		Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("X", 3600))}
	got, err := Normalize(in)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == "" || !got.Timestamp.Equal(time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC)) || got.Timestamp.Location() != time.UTC {
		t.Errorf("Normalize = %+v", got)
	}
	if len(got.Headers) != 1 || got.Headers["a"] != "1" {
		t.Errorf("headers %v, want a=1 without %s or %s", got.Headers, AttemptHeader, OutageHeader)
	}
	got.Headers["a"], got.Body[0] = "2", 'c'
	if in.Headers["a"] != "1" || in.Body[0] != 'b' {
		t.Error("Normalize shares headers or body with its input")
	}
	for _, bad := range []bus.Message{{Type: "k"}, {Exchange: "x"}} {
		if _, err := Normalize(bad); err == nil {
			t.Errorf("Normalize(%+v) accepted", bad)
		}
	}
}

func TestErrorText(t *testing.T) {
	long := errors.New(strings.Repeat("é", maxErrorText))
	if got := ErrorText(long); len(got) > maxErrorText+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("ErrorText of a long error: %d bytes", len(got))
	}
}
