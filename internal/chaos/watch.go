package chaos

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/rabbitmq"
	"github.com/mint-wallet/mint/internal/platform/scrape"
)

// watch samples, while the run lasts, how many messages each queue holds (every 250 ms, from the
// broker) and how much work is outstanding for it (every 500 ms, from the services' counters), so
// that the checks can tell a backlog from an amplification: a queue may hold what is owed to it,
// never a multiple of it.
type watch struct {
	bus     *rabbitmq.Bus
	hc      *http.Client
	metrics map[string]string // process name → its /metrics URL
	users   int

	sampling sync.Mutex // one work sample at a time: the ticker's and the one taken before a kill
	counters resets

	mu     sync.Mutex
	depths []depthSample
	work   []workSample
	gaps   int // depth samples missed (broker down)
}

type depthSample struct {
	at     time.Time
	depths map[string]int // ready messages by queue name (retry and dead-letter queues included)
}

// workSample is, at one moment, what each queue's consumers still owe: messages that a system
// publishing each event once would hold.
type workSample struct {
	at   time.Time
	owed map[string]float64 // by queue name (main queues; a retry queue shares its queue's)
}

func newWatch(ctx context.Context, s *stack, users int) (*watch, error) {
	b, err := rabbitmq.New(ctx, rabbitmq.Config{URL: s.rabbit.URL()})
	if err != nil {
		return nil, fmt.Errorf("watch the queues: %w", err)
	}
	if err := b.Declare(ctx, contract.Topology()); err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("watch the queues: %w", err)
	}
	w := &watch{bus: b, hc: &http.Client{Timeout: 2 * time.Second}, metrics: map[string]string{}, counters: resets{}, users: users}
	for _, name := range serviceProcs {
		w.metrics[name] = strings.TrimSuffix(s.procs[name].ready, "/ready") + "/metrics"
	}
	return w, nil
}

// run samples until ctx ends.
func (w *watch) run(ctx context.Context) {
	depthTick := time.NewTicker(250 * time.Millisecond)
	defer depthTick.Stop()
	workTick := time.NewTicker(500 * time.Millisecond)
	defer workTick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-depthTick.C:
			w.sampleDepths(ctx)
		case <-workTick.C:
			w.sampleWork(ctx)
		}
	}
}

func (w *watch) sampleDepths(ctx context.Context) {
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	d, err := w.bus.QueueDepths(qctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.gaps++
		return
	}
	w.depths = append(w.depths, depthSample{at: time.Now(), depths: d})
}

// sampleWork reads every service's counters. A process that does not answer (killed, restarting) is
// left out of this sample: its counters are taken up again when it is back, from where they were
// (resets). The fault schedule takes one just before it kills a process, so that the kill loses
// only what the process counted in the moment between.
func (w *watch) sampleWork(ctx context.Context) {
	w.sampling.Lock()
	defer w.sampling.Unlock()
	at := time.Now()
	// All at once, so that one sample's counters are read at about the same moment.
	var mu sync.Mutex
	var scrapes sync.WaitGroup
	fams := map[string]scrape.Families{}
	for name, url := range w.metrics {
		scrapes.Go(func() {
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			if f, err := scrape.Read(sctx, w.hc, url); err == nil {
				mu.Lock()
				fams[name] = f
				mu.Unlock()
			}
		})
	}
	scrapes.Wait()
	count := func(metric string, match map[string]string) float64 {
		t := 0.0
		for name := range w.metrics {
			if f, ok := fams[name]; ok {
				v, _ := f.Sum(metric, match)
				t += w.counters.observe(name, metric, match, v)
			} else {
				t += w.counters.last(name, metric, match)
			}
		}
		return t
	}
	created := count("transactions_total", map[string]string{"status": contract.StatusPending})
	completed := count("transactions_total", map[string]string{"status": contract.StatusCompleted})
	failed := count("transactions_total", map[string]string{"status": contract.StatusFailed})
	handled := func(queue string) float64 {
		return count("bus_messages_handled_total", map[string]string{"queue": queue, "outcome": "ok"})
	}
	open := max(created-completed-failed, 0)
	owed := map[string]float64{}
	for _, q := range contract.Topology().Queues {
		switch q.RoutingKey {
		case contract.UserSignup:
			owed[q.Name] = float64(w.users)
		case contract.TransactionCreated, contract.TransactionProcessing, contract.WalletTxFinalized:
			owed[q.Name] = open
		case contract.TransactionCompleted:
			owed[q.Name] = max(completed-handled(q.Name), 0)
		case contract.TransactionFailed:
			owed[q.Name] = max(failed-handled(q.Name), 0)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.work = append(w.work, workSample{at: at, owed: owed})
}

// resets follows counters across the restarts of the processes that export them: a value lower than
// the last one read means the process started afresh, and what it had counted before is kept. What
// a process counted after its last scrape and before it was killed is lost: when the harness killed
// it, the moment between the sample it took first and the kill; when it died by itself, up to half a
// second of work.
type resets map[string]*resetCounter

type resetCounter struct{ last, base float64 }

func resetKey(proc, metric string, match map[string]string) string {
	parts := make([]string, 0, 2+len(match))
	parts = append(parts, proc, metric)
	for k, v := range match {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts[2:])
	return strings.Join(parts, "|")
}

func (r resets) observe(proc, metric string, match map[string]string, v float64) float64 {
	k := resetKey(proc, metric, match)
	c := r[k]
	if c == nil {
		c = &resetCounter{}
		r[k] = c
	}
	if v < c.last {
		c.base += c.last
	}
	c.last = v
	return c.base + v
}

func (r resets) last(proc, metric string, match map[string]string) float64 {
	if c := r[resetKey(proc, metric, match)]; c != nil {
		return c.base + c.last
	}
	return 0
}

// bound is the most a queue may hold for the work owed to it: half as much again, and the clients'
// own work in flight, which the counters see late (they are read every half second, and a kill loses
// the last half second's counts).
func bound(owed float64, clients int) float64 { return 1.5*owed + float64(clients) }

// overflow is one depth sample above its bound.
type overflow struct {
	at          time.Time
	queue       string
	depth       int
	owed, bound float64
}

// overflows compares every depth sample of each queue (its retry queue included) with the work owed
// to it around that moment (the larger of the work samples just before and just after) and returns
// the samples over their bound, and the deepest each queue got.
func (w *watch) overflows(clients int) (over []overflow, deepest map[string]int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	deepest = map[string]int{}
	for _, d := range w.depths {
		i, _ := slices.BinarySearchFunc(w.work, d.at, func(s workSample, t time.Time) int { return s.at.Compare(t) })
		around := w.work[max(i-1, 0):min(i+1, len(w.work))]
		for _, q := range contract.Topology().Queues {
			n := d.depths[q.Name] + d.depths[bus.RetryQueue(q.Name)]
			deepest[q.Name] = max(deepest[q.Name], n)
			if len(around) == 0 {
				continue
			}
			owed := 0.0
			for _, s := range around {
				owed = max(owed, s.owed[q.Name])
			}
			if b := bound(owed, clients); float64(n) > b {
				over = append(over, overflow{at: d.at, queue: q.Name, depth: n, owed: owed, bound: b})
			}
		}
	}
	return over, deepest
}

// deadLetters returns the messages in every dead-letter queue now.
func (w *watch) deadLetters(ctx context.Context) (map[string]int, error) {
	d, err := w.bus.QueueDepths(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, q := range contract.Topology().Queues {
		if n := d[bus.DeadLetterQueue(q.Name)]; n > 0 {
			out[bus.DeadLetterQueue(q.Name)] = n
		}
	}
	return out, nil
}

func (w *watch) close() { _ = w.bus.Close() }
