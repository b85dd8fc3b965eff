package periodic_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/periodic"
)

func TestEveryKeepsGoingAfterAFailureAndStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := make(chan int, 100)
	n := 0
	done := make(chan struct{})
	go func() {
		periodic.Every(ctx, time.Millisecond, slog.New(slog.DiscardHandler), "chore failed", func(context.Context) error {
			n++
			select { // never blocks the chore, however late the test reads
			case calls <- n:
			default:
			}
			if n == 1 {
				return errors.New("first time unlucky")
			}
			return nil
		})
		close(done)
	}()
	for got := 0; got < 3; { // the chore runs again after its failure
		select {
		case got = <-calls:
		case <-time.After(time.Minute): // a guard against hanging, not a measure: it ticks every ms
			t.Fatalf("the chore ran %d times in a minute, want 3: Every stopped after the failure", got)
		}
	}
	cancel()
	<-done // and Every returns once its context has ended
}
