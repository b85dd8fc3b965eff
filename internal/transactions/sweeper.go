package transactions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mint-wallet/mint/internal/platform/backoff"
)

// sweepBatch bounds the transactions re-driven per sweep; the rest come with the next sweeps.
const sweepBatch = 200

// maxRedriveBackoff caps the wait between re-drives of one transaction.
const maxRedriveBackoff = 10 * time.Minute

// redriveBackoff is how long a transaction re-driven n times waits before the next re-drive:
// stuckAfter, doubling per re-drive. A transaction that is merely queued behind a backlog (not lost)
// is then re-published a few times, not every sweep, which would only grow the backlog.
func redriveBackoff(stuckAfter time.Duration, n int) time.Duration {
	return backoff.Doubling(stuckAfter, maxRedriveBackoff, min(n, 16)+1)
}

// sweep re-drives every transaction that has sat in pending or processing longer than StuckAfter with
// nothing left to publish: its event was published but got lost on the way (dead-lettered, a consumer
// crashed before its write, a broker lost it), or the wallet's answer did. Owing the event of its
// state again restarts the saga from where it stopped; every consumer is idempotent, so a re-drive of a
// transaction that was merely slow is harmless. This is what makes every transaction reach a terminal
// state once the system runs again (ARCHITECTURE §2.4). It also expires old idempotency records.
func (s *Service) sweep(ctx context.Context) (int, error) {
	now := s.now()
	docs, err := s.store.stuck(ctx, now.Add(-s.cfg.StuckAfter), sweepBatch)
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, d := range docs {
		if now.Sub(d.DrivenAt) < redriveBackoff(s.cfg.StuckAfter, d.Redrives) {
			continue
		}
		ev, err := s.owedEvent(ctx, d, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ok, err := s.store.redrive(ctx, d, ev, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			n++
			s.outbox.Notify(d.ID)
			s.metrics.redrove(d)
			s.logger.InfoContext(ctx, "re-driving a stuck transaction", "transaction_id", d.ID.Hex(),
				"status", d.Status, "stuck_for", now.Sub(d.DrivenAt).String())
		}
	}
	if err := s.store.sweepKeys(ctx, now.Add(-s.cfg.IdempotencyRetention)); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("sweep: %w", err)
	}
	return n, nil
}
