package periodic_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/periodic"
)

// syncBuffer is a log sink the chore's goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestEveryKeepsGoingAfterAFailureAndStopsWithItsContext(t *testing.T) {
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	calls := make(chan int, 100)
	n := 0
	done := make(chan struct{})
	go func() {
		periodic.Every(ctx, time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)), "chore failed", func(context.Context) error {
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
	for got := range calls { // the chore ran again after its failure
		if got == 3 {
			break
		}
	}
	cancel()
	<-done // Every returned once its context ended
	if out := logs.String(); strings.Count(out, "chore failed") != 1 || !strings.Contains(out, "first time unlucky") {
		t.Errorf("log = %q, want the one failure", out)
	}
}
