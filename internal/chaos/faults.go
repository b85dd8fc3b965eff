package chaos

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// timeline is what happened when, from the start of the load, for the report and for replaying a
// failure with --seed.
type timeline struct {
	start time.Time
	mu    sync.Mutex
	lines []timed
}

type timed struct {
	At   float64 `json:"atSeconds"`
	What string  `json:"what"`
}

func (t *timeline) add(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, timed{At: time.Since(t.start).Seconds(), What: fmt.Sprintf(format, args...)})
}

func (t *timeline) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	for _, l := range t.lines {
		fmt.Fprintf(&b, "  %8.1fs  %s\n", l.At, l.What)
	}
	return b.String()
}

// inject runs the fault schedule: each fault once the clients have been handed its transfer (or at
// once, if the load ended first). Kills and the broker's restart run one after the other, each until
// the stack is ready again; an outage runs alongside them for its length. It returns when the last
// fault has ended and records in r.recovered when the stack was whole again. Before each kill it has
// w read the counters, so that what the killed process counted is not lost with it.
func (r *run) inject(ctx context.Context, faults []fault, loadDone <-chan struct{}, w *watch) error {
	var outages sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	recovered := func(at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if at.After(r.recovered) {
			r.recovered = at
		}
	}
	for _, f := range faults {
	wait:
		for int(r.handed.Load()) < f.At {
			select {
			case <-loadDone:
				break wait
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
		r.current.Store(f.String())
		r.faultsLeft.Add(-1)
		r.timeline.add("%s (at transfer %d)", f, min(int(r.handed.Load()), r.o.Transfers))
		switch f.Kind {
		case killFault:
			w.sampleWork(ctx)
			if err := r.st.restartProcess(ctx, f.Target, f.Down); err != nil {
				return fmt.Errorf("fault %s: %w", f, err)
			}
			if err := r.st.awaitReady(ctx); err != nil {
				return fmt.Errorf("after fault %s: %w", f, err)
			}
			recovered(time.Now())
			r.timeline.add("%s is back; the stack is ready", f.Target)
		case restartFault:
			if err := r.st.rabbit.Restart(ctx); err != nil {
				return fmt.Errorf("fault %s: %w", f, err)
			}
			if err := r.st.awaitReady(ctx); err != nil {
				return fmt.Errorf("after fault %s: %w", f, err)
			}
			recovered(time.Now())
			r.timeline.add("RabbitMQ is back; the stack is ready")
		case outageFault:
			outages.Go(func() {
				if err := r.st.outage(ctx, f.Target, f.Down); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("fault %s: %w", f, err))
					mu.Unlock()
					return
				}
				now := time.Now()
				recovered(now)
				if f.Target == "smtp" {
					mu.Lock()
					r.smtpBack = now
					mu.Unlock()
				}
				r.timeline.add("%s is back", f.Target)
			})
		}
		r.current.Store("")
	}
	outages.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}
