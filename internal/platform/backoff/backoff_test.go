package backoff

import (
	"testing"
	"time"
)

func TestDoubling(t *testing.T) {
	for _, tt := range []struct {
		base, ceiling time.Duration
		attempt       int
		want          time.Duration
	}{
		{time.Second, time.Minute, 0, time.Second},
		{time.Second, time.Minute, 1, time.Second},
		{time.Second, time.Minute, 2, 2 * time.Second},
		{time.Second, time.Minute, 6, 32 * time.Second},
		{time.Second, time.Minute, 7, time.Minute},
		{time.Second, time.Minute, 1 << 30, time.Minute}, // stops doubling at the ceiling: no overflow
		{time.Minute, time.Second, 3, time.Second},       // a base above the ceiling is capped too
		{0, time.Minute, 5, 0},
	} {
		if got := Doubling(tt.base, tt.ceiling, tt.attempt); got != tt.want {
			t.Errorf("Doubling(%v, %v, %d) = %v, want %v", tt.base, tt.ceiling, tt.attempt, got, tt.want)
		}
	}
}
