package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// The transfer scenario and its database accounting.
//
// The DB ops figure is the growth of the db_query_duration_seconds counts between two readings of
// /metrics, over the transfers completed in between. For it to be about transfers only:
//
//   - The window is clean. Warm-up and measurement are separate phases: after the warm-up the tool
//     waits until the transactions service has ended every transfer it created and the work that
//     follows (outbox events, mails) has stood still, and only then reads "before"; after the
//     measurement it waits the same way (at most -settle-timeout) before reading "after". Both waits
//     read only /metrics, which touches no database.
//   - The status reads of the load generator itself are not counted. With -wait poll (the default,
//     whose latency is the settle time as a client sees it) each client reads its transaction every
//     -poll, and each read is a database lookup. Those reads are counted, and after the window a burst
//     of -probe-gets reads measures what one costs, which is subtracted per collection and operation.
//     The burst reads ids that do not exist: a read of an existing transaction would be answered
//     from the cache once it is terminal, while the polled transactions are read while pending or
//     processing (never cached) and at most once terminal (not cached yet), so they all take the
//     lookup the burst takes. With -wait metrics no status read is made in the window at all: clients
//     pace themselves on the transactions_total counter (a client's next transfer starts once as many
//     transfers have ended as the tool has created, its own included, which bounds the transfers in
//     flight by -c), and every transfer is read once after the "after" reading, for its status and
//     its server-side settle time. The two modes should agree on the figure; poll is the default
//     because its latency is end to end.
//   - Background work (outbox and transaction sweeps, the mail poll) runs whatever the load. It is
//     measured at rest for -idle after the window and subtracted at its rate over the window.
type transferScenario struct {
	dev     *devices
	o       Options
	users   []account
	watcher *finishWatcher // --wait metrics
	streams *outcomes      // --wait stream

	measuring atomic.Bool
	created   atomic.Int64 // transfers created (201), all phases
	measured  atomic.Int64 // transfers created in the measured phase
	gets      atomic.Int64 // status reads made in the measured phase

	mu  sync.Mutex
	txs []sentTx // -wait metrics: the transfers of the measured phase
}

// sentTx is a transfer to read back, by its payer's token from the device that sent it.
type sentTx struct {
	id, token string
	device    int
}

type txView struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	CompletedAt *time.Time `json:"completedAt"`
}

func runTransfers(ctx context.Context, dev *devices, o Options) error {
	if o.Wait != "poll" && o.Wait != "metrics" && o.Wait != "stream" {
		return fmt.Errorf("unknown --wait %q (poll, stream or metrics)", o.Wait)
	}
	var sc *scraper
	if o.DBOps || o.Wait == "metrics" {
		var err error
		if sc, err = newScraper(o.Metrics, o.Base, o.TxBase); err != nil {
			return err
		}
	}
	s := &transferScenario{dev: dev, o: o}
	if err := s.prepare(sc); err != nil {
		return err
	}
	if o.Wait == "stream" {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s.streams = newOutcomes()
		payers := map[string]bool{}
		for client := range o.Clients {
			if from, _ := s.pair(client); !payers[from.id] {
				payers[from.id] = true
				if err := s.streams.listen(ctx, dev.of(client), o.TxBase, from.token); err != nil {
					return err
				}
			}
		}
	}
	if o.Wait == "metrics" {
		w, err := startWatcher(sc, o.Poll)
		if err != nil {
			return err
		}
		defer w.stop()
		s.watcher = w
	}

	o.runPhase(ctx, "warm-up", o.Warmup, s.op)
	var before snapshot
	if o.DBOps {
		var err error
		if before, err = sc.settle(o.SettleTimeout, o.Quiet); err != nil {
			return fmt.Errorf("after the warm-up: %w", err)
		}
	}
	s.measuring.Store(true)
	res := o.runPhase(ctx, "measuring", o.Duration, s.op)
	s.measuring.Store(false)
	if s.watcher != nil {
		s.watcher.stop()
	}

	var report *dbReport
	if sc != nil {
		after, err := sc.settle(o.SettleTimeout, o.Quiet)
		if err != nil {
			return fmt.Errorf("after the window: %w", err)
		}
		if o.DBOps {
			report = &dbReport{window: after.at.Sub(before.at), gross: after.ops.minus(before.ops, 1),
				completed:  after.transfers.completed - before.transfers.completed,
				failed:     after.transfers.failed - before.transfers.failed,
				created:    after.transfers.created - before.transfers.created,
				madeByLoad: s.measured.Load()}
			if err := s.measureAside(sc, report); err != nil {
				return err
			}
		}
	}

	latencies, failed, note := res.latencies, res.tally, ""
	if o.Wait == "metrics" {
		lat, bad, _, err := s.readBack()
		if err != nil {
			return err
		}
		latencies, note = lat, " latency=server(createdAt..completedAt) wait=metrics"
		failed.failures += bad
	}
	if err := printLatencies(o, latencies, failed, note); err != nil {
		return err
	}
	if report != nil {
		report.print(o.Out, o.JSON)
	}
	return nil
}

// prepare makes the funded accounts: one per client, each sending 0.01 to the next client's account;
// for hot-source and hot-destination one more, the one payer or payee of every client. Account i signs
// up and is funded from device i, so that a gateway limits no address to more than its two requests.
func (s *transferScenario) prepare(sc *scraper) error {
	n := s.o.Clients
	if s.o.Scenario != "transfer" {
		n++
	}
	s.users = make([]account, n)
	for i := range s.users {
		u, err := signup(s.dev.of(i), s.o.Base, fmt.Sprintf("load-%d-%d@example.com", time.Now().UnixNano(), i))
		if err != nil {
			return err
		}
		s.users[i] = u
	}
	if err := s.fund(); err != nil {
		return err
	}
	if sc == nil {
		time.Sleep(2 * time.Second) // let the funding settle before measuring transfers
		return nil
	}
	if _, err := sc.settle(s.o.SettleTimeout, s.o.Quiet); err != nil {
		return fmt.Errorf("after the funding: %w", err)
	}
	return nil
}

// op is one transfer from POST until it is known to have ended.
func (s *transferScenario) op(client int) (time.Duration, error) {
	from, to := s.pair(client)
	body, _ := json.Marshal(map[string]any{"recipientId": to.id, "amount": "0.01"})
	var tx txView
	hc := s.dev.of(client)
	t0 := time.Now()
	if err := send(hc, http.MethodPost, s.o.TxBase+"/api/v1/transactions/transfer", body, from.token, http.StatusCreated, &tx); err != nil {
		return 0, err
	}
	ticket := s.created.Add(1)
	measuring := s.measuring.Load()
	if measuring {
		s.measured.Add(1)
	}
	deadline := t0.Add(60 * time.Second)
	if s.watcher != nil {
		if measuring {
			s.mu.Lock()
			s.txs = append(s.txs, sentTx{id: tx.ID, token: from.token, device: client})
			s.mu.Unlock()
		}
		if err := s.watcher.await(ticket, deadline); err != nil {
			return 0, fmt.Errorf("transfer %s: %w", tx.ID, err)
		}
		return time.Since(t0), nil
	}
	if s.streams != nil && tx.Status != "completed" && tx.Status != "failed" {
		status, err := s.streams.await(tx.ID, deadline)
		if err != nil {
			return 0, err
		}
		tx.Status = status
	}
	for tx.Status != "completed" {
		if tx.Status == "failed" || time.Now().After(deadline) {
			return 0, fmt.Errorf("transfer %s ended %q", tx.ID, tx.Status)
		}
		time.Sleep(s.o.Poll)
		if measuring {
			s.gets.Add(1)
		}
		if err := send(hc, http.MethodGet, s.o.TxBase+"/api/v1/transactions/"+tx.ID, nil, from.token, http.StatusOK, &tx); err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}

// pair is the payer and the payee of a client's transfers: each pays the next (transfer), the first
// account pays every client's own payee (hot-source), or every client pays the first (hot-destination).
func (s *transferScenario) pair(client int) (from, to account) {
	switch s.o.Scenario {
	case "hot-source":
		return s.users[0], s.users[client+1]
	case "hot-destination":
		return s.users[client+1], s.users[0]
	default:
		return s.users[client], s.users[(client+1)%len(s.users)]
	}
}

// measureAside completes r with what is measured at rest, after the window: the background rate and,
// with -wait poll, the cost of one status read.
func (s *transferScenario) measureAside(sc *scraper, r *dbReport) error {
	if s.o.Idle > 0 {
		b0, err := sc.snapshot()
		if err != nil {
			return err
		}
		time.Sleep(s.o.Idle)
		b1, err := sc.snapshot()
		if err != nil {
			return err
		}
		r.background = b1.ops.minus(b0.ops, 1)
		secs := b1.at.Sub(b0.at).Seconds()
		for k := range r.background {
			r.background[k] /= secs
		}
	}
	if s.o.Wait != "poll" || s.o.ProbeGets <= 0 {
		return nil
	}
	r.statusGets = s.gets.Load()
	p0, err := sc.snapshot()
	if err != nil {
		return err
	}
	// The probes go round the clients' devices, so that through a gateway no address sends more than
	// its clients' share.
	token := s.users[0].token
	for i := range s.o.ProbeGets {
		id := make([]byte, 12)
		_, _ = rand.Read(id)
		err := send(s.dev.of(i%s.o.Clients), http.MethodGet, s.o.TxBase+"/api/v1/transactions/"+hex.EncodeToString(id), nil, token, http.StatusNotFound, nil)
		if err != nil {
			return fmt.Errorf("status read probe: %w", err)
		}
	}
	p1, err := sc.snapshot()
	if err != nil {
		return err
	}
	perGet := p1.ops.minus(p0.ops, 1)
	if r.background != nil {
		perGet = perGet.minus(r.background, p1.at.Sub(p0.at).Seconds())
	}
	for k := range perGet {
		perGet[k] /= float64(s.o.ProbeGets)
	}
	r.perGet = perGet
	return nil
}

// readBack reads every transfer of the measured phase once (-wait metrics): the settle times of the
// completed ones, and how many did not complete.
func (s *transferScenario) readBack() (latencies []time.Duration, bad int, lastEnd time.Time, err error) {
	s.mu.Lock()
	txs := s.txs
	s.mu.Unlock()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		next     atomic.Int64
	)
	for range min(s.o.Clients, 8) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(txs); i = int(next.Add(1) - 1) {
				var tx txView
				err := send(s.dev.of(txs[i].device), http.MethodGet, s.o.TxBase+"/api/v1/transactions/"+txs[i].id, nil, txs[i].token, http.StatusOK, &tx)
				mu.Lock()
				switch {
				case err != nil:
					firstErr = firstOf(firstErr, err)
				case tx.Status == "completed":
					end := tx.UpdatedAt
					if tx.CompletedAt != nil {
						end = *tx.CompletedAt
					}
					latencies = append(latencies, end.Sub(tx.CreatedAt))
					if end.After(lastEnd) {
						lastEnd = end
					}
				default:
					bad++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, 0, time.Time{}, fmt.Errorf("reading the transfers back: %w", firstErr)
	}
	return latencies, bad, lastEnd, nil
}

func firstOf(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// finishWatcher follows the number of ended transfers in /metrics (-wait metrics).
type finishWatcher struct {
	sc     *scraper
	period time.Duration
	base   float64 // transfers ended before the tool's first one
	done   chan struct{}
	once   sync.Once
	exited chan struct{}

	mu       sync.Mutex
	finished float64
	changed  chan struct{} // closed and replaced at each change of finished
	err      error
}

func startWatcher(sc *scraper, period time.Duration) (*finishWatcher, error) {
	fams, err := sc.scrape()
	if err != nil {
		return nil, err
	}
	t, found := transfersIn(fams)
	if !found {
		return nil, fmt.Errorf("no %s in %v: list the transactions service in -metrics", txTotal, sc.urls)
	}
	w := &finishWatcher{sc: sc, period: period, base: t.finished(), finished: t.finished(),
		done: make(chan struct{}), exited: make(chan struct{}), changed: make(chan struct{})}
	go w.run()
	return w, nil
}

func (w *finishWatcher) run() {
	defer close(w.exited)
	t := time.NewTicker(w.period)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		fams, err := w.sc.scrape()
		w.mu.Lock()
		w.err = err
		if err == nil {
			if n, _ := transfersIn(fams); n.finished() != w.finished {
				w.finished = n.finished()
				close(w.changed)
				w.changed = make(chan struct{})
			}
		}
		w.mu.Unlock()
	}
}

func (w *finishWatcher) stop() {
	w.once.Do(func() { close(w.done) })
	<-w.exited
}

// await waits until the ticket-th transfer of the tool may be taken as ended: as many transfers have
// ended since the tool started as it has created.
func (w *finishWatcher) await(ticket int64, deadline time.Time) error {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		w.mu.Lock()
		finished, changed, err := w.finished, w.changed, w.err
		w.mu.Unlock()
		if finished-w.base >= float64(ticket) {
			return nil
		}
		select {
		case <-changed:
		case <-w.done:
			return errors.New("stopped waiting")
		case <-timer.C:
			if err != nil {
				return fmt.Errorf("not ended in time (metrics: %w)", err)
			}
			return errors.New("not ended in time")
		}
	}
}
