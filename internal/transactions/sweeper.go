package transactions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mint-wallet/mint/internal/platform/backoff"
)

// sweepBatch bounds the transactions re-driven per sweep; the rest come with the next sweeps.
const sweepBatch = 200

// maxRedriveBackoff caps the wait between re-drives of one transaction.
const maxRedriveBackoff = 10 * time.Minute

// backlogTimeout bounds the sweeper's count of the queues on a path: a broker that does not answer
// defers the re-drives rather than holding up the sweep.
const backlogTimeout = 5 * time.Second

// redriveBackoff is how long a transaction re-driven n times waits before the next re-drive:
// stuckAfter, doubling per re-drive, so that one whose re-drives keep getting lost, or sit with a
// consumer that hangs (a delivery not yet acknowledged is no backlog), is not re-published every sweep.
func redriveBackoff(stuckAfter time.Duration, n int) time.Duration {
	return backoff.Doubling(stuckAfter, maxRedriveBackoff, min(n, 16)+1)
}

// queued is what a count of the backlog of one route found: the messages waiting for its consumers,
// or err when the broker could not count them.
type queued struct {
	route    route
	messages int
	err      error
}

// redriveDecision is what the sweeper does, in one sweep, with the stuck transactions of one state.
type redriveDecision int

const (
	redriveNow   redriveDecision = iota // nothing waits on their path: what drove them on was lost
	redriveLater                        // something waits there, or may: they may be only late
)

// decideRedrive decides on the backlog of every route on a state's path (redrivePath). A transaction
// whose message still waits in a queue is late, not lost, and publishing it again would add to the very
// backlog that makes it late: the slower the consumer, the more work it would be handed. A count does
// not say which transactions it holds, so any message on the path defers every re-drive of that state;
// a count the broker could not give defers too, since a blind re-drive may be just such a copy. Once the
// path has drained, a transaction still stuck was lost, and the next sweep re-drives it.
func decideRedrive(path []queued) redriveDecision {
	for _, q := range path {
		if q.err != nil || q.messages > 0 {
			return redriveLater
		}
	}
	return redriveNow
}

// sweep re-drives every transaction that has sat in pending or processing longer than StuckAfter with
// nothing left to publish and nothing waiting in the queues on its path: its event was published but
// got lost on the way (dead-lettered, a consumer crashed before its write, a broker lost it), or the
// wallet's answer did. Owing the event of its state again restarts the saga from where it stopped;
// every consumer is idempotent, so a re-drive of a transaction that was merely slow is harmless. This is
// what makes every transaction reach a terminal state once the system runs again (ARCHITECTURE §2.4).
// It also expires old idempotency records.
func (s *Service) sweep(ctx context.Context) (int, error) {
	now := s.now()
	docs, err := s.store.stuck(ctx, now.Add(-s.cfg.StuckAfter), sweepBatch)
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	decisions := map[string]redriveDecision{} // by state: its path is counted once per sweep
	for _, d := range docs {
		if now.Sub(d.DrivenAt) < redriveBackoff(s.cfg.StuckAfter, d.Redrives) {
			continue
		}
		decision, decided := decisions[d.Status]
		if !decided {
			decision = s.redriveDecision(ctx, d.Status)
			decisions[d.Status] = decision
		}
		if decision == redriveLater {
			s.metrics.deferredRedrive(d)
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

// redriveDecision counts the backlog of the path of status and decides on it (decideRedrive).
func (s *Service) redriveDecision(ctx context.Context, status string) redriveDecision {
	countCtx, cancel := context.WithTimeout(ctx, backlogTimeout)
	defer cancel()
	routes := redrivePath(status)
	path := make([]queued, len(routes))
	for i, r := range routes {
		n, err := s.backlog.Backlog(countCtx, r.exchange, r.key)
		path[i] = queued{route: r, messages: n, err: err}
	}
	decision := decideRedrive(path)
	if decision == redriveLater {
		attrs := []any{"status", status}
		for _, q := range path {
			if q.err != nil {
				attrs = append(attrs, slog.String(q.route.key, "not counted: "+q.err.Error()))
			} else {
				attrs = append(attrs, slog.Int(q.route.key, q.messages))
			}
		}
		s.logger.DebugContext(ctx, "re-drives deferred: messages wait on the path of the stuck transactions", attrs...)
	}
	return decision
}
