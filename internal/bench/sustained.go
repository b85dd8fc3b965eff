package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mint-wallet/mint/internal/contract"
)

// The sustained scenario: an open-loop stream, the way traffic arrives. -count transfers of 0.01
// between random pairs of -users users (from a generator seeded with -seed) are offered at -rate per
// second, whatever the system's pace, with at most -c in flight; meanwhile one client reads its
// transaction list every -list-every. Afterwards every transfer is read back once. It reports the rate
// offered and accepted, the API latency of the POSTs, the settle time of every transfer (server side:
// createdAt..completedAt), how long after the stream the last one ended, the list latencies while the
// stream ran, the deepest each queue got (with -amqp: its ready messages, sampled every 250 ms) and
// the stuck transactions the transactions service re-drove (transactions_redriven_total). User i's
// requests go from device i.
func runSustained(ctx context.Context, dev *devices, o Options) error {
	if o.Rate <= 0 || o.Count <= 0 {
		return errors.New("sustained: -rate and -count must be positive")
	}
	s, sc, err := fundedUsers(dev, o, "sustained")
	if err != nil {
		return err
	}
	users := s.users
	redriven := func() (float64, error) {
		fams, err := sc.scrape()
		if err != nil {
			return 0, err
		}
		n, _ := sum(fams, "transactions_redriven_total", nil)
		return n, nil
	}
	redriven0, err := redriven()
	if err != nil {
		return err
	}
	var depths *queueDepths
	if o.AMQP != "" {
		if depths, err = watchQueues(o.AMQP); err != nil {
			return err
		}
		defer depths.stop()
	}

	stopReads := make(chan struct{})
	var lists []time.Duration
	readsDone := make(chan struct{})
	go func() {
		defer close(readsDone)
		t := time.NewTicker(o.ListEvery)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-stopReads:
				return
			case <-t.C:
			}
			u := i % len(users)
			if d, err := timed(dev.of(u), http.MethodGet, o.TxBase+"/api/v1/transactions?limit=20", nil, users[u].token); err == nil {
				lists = append(lists, d)
			}
		}
	}()

	rng := rand.New(rand.NewPCG(uint64(o.Seed), uint64(o.Seed))) //nolint:gosec // a repeatable workload, not a secret
	var (
		inFlight = make(chan struct{}, o.Clients)
		wg       sync.WaitGroup
		mu       sync.Mutex
		posts    []time.Duration
		failures atomic.Int64
		late     int // transfers offered after their slot because -c were in flight
	)
	interval := time.Duration(float64(time.Second) / o.Rate)
	start := time.Now()
	for i := range o.Count {
		if ctx.Err() != nil {
			wg.Wait()
			return fmt.Errorf("stopped after %d of %d transfers: %w", i, o.Count, ctx.Err())
		}
		from := rng.IntN(len(users))
		to := (from + 1 + rng.IntN(len(users)-1)) % len(users)
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		select {
		case inFlight <- struct{}{}:
		default:
			late++
			inFlight <- struct{}{}
		}
		wg.Go(func() {
			defer func() { <-inFlight }()
			body, _ := json.Marshal(map[string]any{"recipientId": users[to].id, "amount": "0.01"})
			var tx txView
			t0 := time.Now()
			err := send(dev.of(from), http.MethodPost, o.TxBase+"/api/v1/transactions/transfer", body, users[from].token, http.StatusCreated, &tx)
			d := time.Since(t0)
			if err != nil {
				failures.Add(1)
				return
			}
			mu.Lock()
			posts = append(posts, d)
			s.txs = append(s.txs, sentTx{id: tx.ID, token: users[from].token, device: from})
			mu.Unlock()
		})
	}
	wg.Wait()
	streamEnd := time.Now()
	if _, err := sc.settle(o.SettleTimeout, o.Quiet); err != nil {
		return fmt.Errorf("after the stream: %w", err)
	}
	close(stopReads)
	<-readsDone
	redriven1, err := redriven()
	if err != nil {
		return err
	}

	settles, bad, lastEnd, err := s.readBack()
	if err != nil {
		return err
	}
	streamed := streamEnd.Sub(start)
	o.textf("sustained: offered=%d in %s (%.1f/s, %d late for --clients) accepted=%d failed=%d users=%d seed=%d\n",
		o.Count, streamed.Round(100*time.Millisecond), float64(o.Count)/streamed.Seconds(), late, len(posts), failures.Load(), o.Users, o.Seed)
	so := o
	so.Duration = streamed
	so.Scenario = "sustained/post"
	if err := printLatencies(so, posts, tally{failures: int(failures.Load())}, ""); err != nil {
		return err
	}
	so.Scenario = "sustained/settle"
	if err := printLatencies(so, settles, tally{failures: bad}, fmt.Sprintf(" latency=server(createdAt..completedAt) last-terminal=%+.1fs-after-stream",
		lastEnd.Sub(streamEnd).Seconds())); err != nil {
		return err
	}
	so.Scenario = "sustained/list"
	if err := printLatencies(so, lists, tally{}, fmt.Sprintf(" every=%s", o.ListEvery)); err != nil {
		return err
	}
	o.textf("sustained: stuck transactions re-driven=%.0f\n", redriven1-redriven0)
	if depths != nil {
		o.textf("sustained: deepest queues (ready messages) %s\n", depths.report())
	}
	return nil
}

// queueDepths samples the ready messages of every queue of the contract (and its retry queue).
type queueDepths struct {
	conn *amqp.Connection
	done chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	deepest map[string]int
	err     error
}

func watchQueues(url string) (*queueDepths, error) {
	conn, err := amqp.Dial(url)
	if err != nil {
		return nil, fmt.Errorf("queue depths: %w", err)
	}
	q := &queueDepths{conn: conn, done: make(chan struct{}), deepest: map[string]int{}}
	var names []string
	for _, queue := range contract.Topology().Queues {
		names = append(names, queue.Name)
	}
	q.wg.Go(func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			if err := q.sample(names); err != nil {
				q.mu.Lock()
				q.err = err
				q.mu.Unlock()
				return
			}
			select {
			case <-q.done:
				return
			case <-t.C:
			}
		}
	})
	return q, nil
}

// sample reads each queue's depth with a passive declare (which creates nothing).
func (q *queueDepths) sample(names []string) error {
	ch, err := q.conn.Channel()
	if err != nil {
		return err
	}
	defer func() { _ = ch.Close() }()
	for _, name := range names {
		st, err := ch.QueueDeclarePassive(name, true, false, false, false, nil)
		if err != nil {
			return fmt.Errorf("queue %s: %w", name, err)
		}
		q.mu.Lock()
		q.deepest[name] = max(q.deepest[name], st.Messages)
		q.mu.Unlock()
	}
	return nil
}

func (q *queueDepths) stop() {
	close(q.done)
	q.wg.Wait()
	_ = q.conn.Close()
}

func (q *queueDepths) report() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return "unknown: " + q.err.Error()
	}
	var parts []string
	for name, n := range q.deepest {
		parts = append(parts, fmt.Sprintf("%s=%d", name, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}
