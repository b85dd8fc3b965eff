package bus

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
)

// Handlers maps each queue a service consumes to its handler.
type Handlers map[string]Handler

// ConsumeAll runs copies consumers (at least one) on every queue of hs until ctx ends, then returns
// nil. If a consumer fails before that, the others are stopped and its error is returned.
func ConsumeAll(ctx context.Context, s Subscriber, hs Handlers, copies int) error {
	g, ctx := errgroup.WithContext(ctx)
	for queue, h := range hs {
		for range max(copies, 1) {
			g.Go(func() error {
				if err := s.Consume(ctx, queue, h); err != nil && ctx.Err() == nil {
					return fmt.Errorf("consume %s: %w", queue, err)
				}
				return nil
			})
		}
	}
	return g.Wait()
}
