// Package periodic runs a service's background chores (sweeps, reloads, polls) on a fixed period.
package periodic

import (
	"context"
	"log/slog"
	"time"
)

// Every calls f every d until ctx ends, then returns. A failure of f is logged at warn with msg (unless
// ctx has ended) and the next tick tries again: a chore that fails once must not stop the service.
func Every(ctx context.Context, d time.Duration, logger *slog.Logger, msg string, f func(context.Context) error) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := f(ctx); err != nil && ctx.Err() == nil {
				logger.WarnContext(ctx, msg, "err", err)
			}
		}
	}
}
