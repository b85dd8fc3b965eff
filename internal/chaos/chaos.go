// Package chaos is "mint chaos": it starts a whole local deployment of its own — a RabbitMQ node, a
// Redis and a Mailpit of its own, mint db, the services with wallet and transactions in two
// replicas each, nginx in front — drives transfers through the gateway from many clients, each with
// an Idempotency-Key and retrying what a client retries, while a seeded schedule of faults kills
// every service process in turn, kills the database, restarts RabbitMQ, stops Redis and refuses SMTP.
// Then it checks what a payments system promises: money neither created nor lost, every transaction
// terminal soon after the last fault, each key one transaction, each promised mail sent once, no
// dead letter, no queue holding more than the work owed to it. It prints the seed and the fault
// timeline, so that a failure can be replayed with --seed.
//
//	mint chaos --transfers 10000 --clients 32 --seed 7
package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Options are the settings of one run (see "mint chaos --help" for each).
type Options struct {
	Bin        string // the mint binary the stack runs
	Dir        string // the run's files: logs, data, configurations
	Transfers  int
	Clients    int
	Users      int
	Seed       uint64
	Outage     time.Duration // how long Redis is stopped and SMTP refused
	StuckAfter time.Duration // the stack's MINT_TRANSACTIONS_STUCK_AFTER
	// SettleWithin: every transaction terminal this long after the last fault's recovery (or the
	// load's end, if later); MailWithin: every mail sent this long after SMTP's recovery (or the last
	// transaction's end, if later).
	SettleWithin, MailWithin time.Duration
	JSON                     bool

	Out, Progress io.Writer // the report; a terminal for the progress line, or nil
	Log           io.Writer // what the harness does, as it does it
}

// ErrViolated means the run finished and found a promise broken; the report says which.
var ErrViolated = errors.New("chaos: the system broke a promise")

// run is one chaos run's state, shared by the clients, the fault schedule and the checks.
type run struct {
	o        Options
	st       *stack
	clients  []*client
	reader   *reader
	outcomes *outcomes
	timeline timeline
	errs     *counts // answers the clients retried, by kind
	keys     keyLog
	progress
	current atomic.Value // the fault under way, for the progress line

	users    []account
	funding  []int64 // cents, by user
	funded   int64
	replayed int

	recovered, smtpBack time.Time // the last fault's recovery; SMTP's

	mu         sync.Mutex
	violations []string
}

func (r *run) violate(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.violations = append(r.violations, fmt.Sprintf(format, args...))
}

func (r *run) logf(format string, args ...any) {
	if r.o.Log != nil {
		fmt.Fprintf(r.o.Log, "chaos: "+format+"\n", args...)
	}
}

// Run starts the stack, runs the load and the faults, checks, prints the report and stops the stack.
// It returns ErrViolated when a check failed, another error when the run could not be made.
func Run(ctx context.Context, o Options) error {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	if abs, err := filepath.Abs(o.Dir); err == nil {
		o.Dir = abs
	}
	r := &run{o: o, outcomes: newOutcomes(), errs: &counts{}}
	r.current.Store("")
	r.logf("seed %d: %d transfers among %d users from %d clients; files in %s", o.Seed, o.Transfers, o.Users, o.Clients, o.Dir)
	st, err := startStack(ctx, o, r.logf)
	if err != nil {
		return err
	}
	defer st.close(context.WithoutCancel(ctx))
	r.st, r.reader = st, newReader(st)
	for i := range o.Clients {
		r.clients = append(r.clients, newClient(i))
	}
	rep, err := r.execute(ctx)
	if err != nil {
		return err
	}
	if err := rep.print(o.Out, o.JSON); err != nil {
		return err
	}
	if len(rep.Violations) > 0 {
		return ErrViolated
	}
	return nil
}

// execute runs the load and the faults, waits for the system to settle, and checks.
func (r *run) execute(ctx context.Context) (*report, error) {
	if err := r.setup(ctx); err != nil {
		return nil, err
	}
	r.logf("%d users signed up and funded (Σ %s)", len(r.users), centsString(r.funded))

	watch, err := newWatch(ctx, r.st, len(r.users))
	if err != nil {
		return nil, err
	}
	defer watch.close()
	wctx, stopWatch := context.WithCancel(ctx)
	var background sync.WaitGroup
	background.Go(func() { watch.run(wctx) })
	for i, a := range r.users {
		c := r.clients[i%len(r.clients)]
		background.Go(func() { c.stream(wctx, r.st.gateway, a, r.outcomes) })
	}
	defer func() {
		stopWatch()
		background.Wait()
	}()

	faults := plan(r.o.Seed, r.o.Transfers, append([]string{"db"}, serviceProcs...), r.o.Outage)
	r.timeline.start = time.Now()
	r.recovered = r.timeline.start
	r.timeline.add("load starts: %d transfers, %d clients", r.o.Transfers, r.o.Clients)
	r.faultsLeft.Store(int64(len(faults)))
	loadDone := make(chan struct{})
	faultsDone := make(chan error, 1)
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	go func() {
		err := r.inject(ctx, faults, loadDone, watch)
		r.faultsLeft.Store(0)
		if err != nil {
			stopLoad() // a fault that could not be made (or undone) ends the run
		}
		faultsDone <- err
	}()
	stopProgress := r.showProgress()
	var clients sync.WaitGroup
	for _, c := range r.clients {
		clients.Go(func() { r.drive(loadCtx, c) })
	}
	clients.Wait()
	loadEnd := time.Now()
	close(loadDone)
	r.timeline.add("load ends: %d of %d transfers accepted", r.accepted.Load(), r.o.Transfers)
	if err := <-faultsDone; err != nil {
		stopProgress()
		return nil, err
	}
	stopProgress()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	rep := &report{Seed: r.o.Seed, Transfers: r.o.Transfers, Clients: r.o.Clients, Users: len(r.users),
		LoadSeconds: loadEnd.Sub(r.timeline.start).Seconds()}
	settleBy := later(r.recovered, loadEnd).Add(r.o.SettleWithin)
	allTerminal, err := r.drain(ctx, settleBy)
	if err != nil {
		r.violate("not every transaction terminal %v after the last fault's recovery: %v", r.o.SettleWithin, err)
		// Go on checking once it has settled: what else broke matters too.
		if allTerminal, err = r.drain(ctx, time.Now().Add(5*time.Minute)); err != nil {
			return nil, err
		}
	}
	r.timeline.add("every transaction terminal")
	rep.TerminalAfterRecovery = allTerminal.Sub(later(r.recovered, loadEnd)).Seconds()

	l, err := r.readLedger(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.checkMoney(ctx, l); err != nil {
		return nil, err
	}
	r.checkKeys(l)
	r.replayKeys(ctx, r.clients[0])
	rep.Replayed = r.replayed

	promised, err := r.promisedMails(l)
	if err != nil {
		return nil, err
	}
	mailBy := later(r.smtpBack, allTerminal).Add(r.o.MailWithin)
	mails, lastMail, err := r.awaitMails(ctx, promised, mailBy)
	if err != nil {
		return nil, err
	}
	if lastMail.IsZero() {
		rep.MailsAfterSMTP = -1
		r.violate("not every promised mail sent %v after SMTP's recovery (or the last transaction's end)", r.o.MailWithin)
	} else {
		rep.MailsAfterSMTP = lastMail.Sub(r.smtpBack).Seconds()
		rep.MailsAfterTerminal = lastMail.Sub(allTerminal).Seconds()
	}
	rep.MailCopies = r.checkMails(promised, mails)
	rep.Mails = len(promised)

	dead, err := watch.deadLetters(ctx)
	if err != nil {
		return nil, err
	}
	for q, n := range dead {
		r.violate("dead-letter queue %s holds %d messages", q, n)
	}
	over, deepest := watch.overflows(r.o.Clients)
	for i, o := range over {
		if i == 5 {
			r.violate("… %d more samples of a queue over its bound", len(over)-5)
			break
		}
		r.violate("queue %s held %d messages at %.1fs, %.0f owed to it (bound %.0f)", o.queue, o.depth,
			o.at.Sub(r.timeline.start).Seconds(), o.owed, o.bound)
	}
	rep.DeepestQueues = deepest
	rep.Reconcile = r.reconcile(ctx)
	rep.fill(r, l)
	return rep, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// showProgress redraws a progress line on the terminal each second until the returned func is called.
func (r *run) showProgress() func() {
	if r.o.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(r.o.Progress, "\r\033[K")
				return
			case <-t.C:
				el := time.Since(r.timeline.start)
				line := fmt.Sprintf("chaos %s  transfers %d/%d  %.0f/s  settled %d  retried %d",
					el.Round(time.Second), r.accepted.Load(), r.o.Transfers, float64(r.accepted.Load())/el.Seconds(),
					r.settled.Load(), r.errs.total())
				if f, _ := r.current.Load().(string); f != "" {
					line += "  fault: " + f
				}
				fmt.Fprint(r.o.Progress, "\r\033[K"+line)
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
