package bus_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/bus"
)

// subscriber counts the consumers started per queue; a consumer of queue fail returns errBroken at
// once, the others block until their context ends.
type subscriber struct {
	mu      sync.Mutex
	started map[string]int
	all     sync.WaitGroup
}

var errBroken = errors.New("channel closed")

func (s *subscriber) Consume(ctx context.Context, queue string, _ bus.Handler) error {
	s.mu.Lock()
	s.started[queue]++
	s.mu.Unlock()
	s.all.Done()
	if queue == "fail" {
		return errBroken
	}
	<-ctx.Done()
	return ctx.Err()
}

func TestConsumeAll(t *testing.T) {
	noop := func(context.Context, bus.Message) error { return nil }
	tests := []struct {
		name    string
		queues  []string
		copies  int
		want    int // consumers per queue
		wantErr string
	}{
		{name: "one each until ctx ends", queues: []string{"a", "b"}, copies: 1, want: 1},
		{name: "copies per queue", queues: []string{"a", "b"}, copies: 3, want: 3},
		{name: "at least one", queues: []string{"a"}, copies: 0, want: 1},
		{name: "a failing consumer stops the others", queues: []string{"a", "fail"}, copies: 2, want: 2, wantErr: "consume fail: channel closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &subscriber{started: map[string]int{}}
			hs := bus.Handlers{}
			for _, q := range tt.queues {
				hs[q] = noop
			}
			s.all.Add(len(tt.queues) * tt.want)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- bus.ConsumeAll(ctx, s, hs, tt.copies) }()
			s.all.Wait() // every consumer started
			if tt.wantErr == "" {
				cancel()
			}
			err := <-done
			if tt.wantErr == "" && err != nil {
				t.Fatalf("ConsumeAll = %v, want nil once ctx ended", err)
			}
			if tt.wantErr != "" && (!errors.Is(err, errBroken) || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("ConsumeAll = %v, want %q", err, tt.wantErr)
			}
			for _, q := range tt.queues {
				if s.started[q] != tt.want {
					t.Errorf("queue %s: %d consumers, want %d", q, s.started[q], tt.want)
				}
			}
		})
	}
}
