package policy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/bus"
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
	p := Policy{MaxAttempts: 3}.WithDefaults()
	boom := errors.New("boom")
	tests := []struct {
		attempt int
		err     error
		want    Outcome
	}{
		{1, nil, Ack},
		{3, nil, Ack},
		{1, boom, Retry},
		{2, boom, Retry},
		{3, boom, DeadLetter},
		{1, bus.Permanent(boom), DeadLetter},
		{1, wrapped(bus.Permanent(boom)), DeadLetter},
	}
	for _, tt := range tests {
		if got := p.Decide(tt.attempt, tt.err); got != tt.want {
			t.Errorf("Decide(%d, %v) = %v, want %v", tt.attempt, tt.err, got, tt.want)
		}
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
	in := bus.Message{Exchange: "x", Type: "k", Headers: map[string]string{"a": "1", AttemptHeader: "4"}, Body: []byte("b"),
		Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("X", 3600))}
	got, err := Normalize(in)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == "" || !got.Timestamp.Equal(time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC)) || got.Timestamp.Location() != time.UTC {
		t.Errorf("Normalize = %+v", got)
	}
	if _, ok := got.Headers[AttemptHeader]; ok || got.Headers["a"] != "1" {
		t.Errorf("headers %v, want a=1 without %s", got.Headers, AttemptHeader)
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
