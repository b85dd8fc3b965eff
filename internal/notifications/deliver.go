package notifications

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/mint-wallet/mint/internal/notifications/mailer"
	"github.com/mint-wallet/mint/internal/platform/backoff"
	"github.com/mint-wallet/mint/internal/platform/observe"
)

// Retry is the schedule of a mail's send attempts: Base after the first failure, doubling up to Max,
// at most MaxAttempts attempts in all; then the mail is dead. The defaults (1 s doubling to 5 min, 25
// attempts) keep a mail trying for about an hour and a half of SMTP outage.
type Retry struct {
	Base        time.Duration
	Max         time.Duration
	MaxAttempts int
}

func (r Retry) withDefaults() Retry {
	if r.Base <= 0 {
		r.Base = time.Second
	}
	if r.Max <= 0 {
		r.Max = 5 * time.Minute
	}
	if r.Max < r.Base {
		r.Max = r.Base
	}
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 25
	}
	return r
}

// delay is the wait after the attempts-th failed attempt (1-based).
func (r Retry) delay(attempts int) time.Duration {
	return backoff.Doubling(r.Base, r.Max, attempts)
}

// deliverer sends the mails the store owes: every pending mail whose next attempt is due, a few at a
// time, each attempt independent of the others, so one failing mail never holds back another.
type deliverer struct {
	store    *store
	sender   mailer.Sender
	metrics  *metrics
	logger   *slog.Logger
	now      func() time.Time
	retry    Retry
	poll     time.Duration
	lease    time.Duration
	parallel int
	fresh    chan []Mail // the mails each event just recorded, attempted without looking for them

	mu       sync.Mutex
	expected map[string]time.Time // mail id → when this deliverer knows it will be due: a retry, a mail not handed over
	// unrecorded are mails this process sent whose record as sent failed (the database was away): never
	// sent again by this process, and written again at every poll until the write succeeds.
	unrecorded map[string]attempted
}

// leaseFor is the lease of a sender whose SMTP conversations last at most smtpTimeout (plus the
// mailer's 5 s of margin): a mail is sent under a lease only while half of it remains, so half must hold
// one whole conversation, with room for its record. Not longer: the mails a crashed process held are
// due to the others only when its leases end.
func leaseFor(smtpTimeout time.Duration) time.Duration {
	return 2*(smtpTimeout+5*time.Second) + 10*time.Second
}

// leaseEnd is when a lease taken at now ends, at the precision the database stores.
func (d *deliverer) leaseEnd(now time.Time) time.Time {
	return now.Add(d.lease).UTC().Truncate(time.Millisecond)
}

// handOver gives the deliverer the mails one event just recorded under its lease (NextAttemptAt =
// leaseEnd), to be sent now, together. It waits while the deliverer is busy — back-pressure on the
// event queue rather than mails left until their lease ends — except when ctx ends: the mails are then
// due when their lease ends.
func (d *deliverer) handOver(ctx context.Context, mails []Mail) {
	if len(mails) == 0 {
		return
	}
	select {
	case d.fresh <- mails:
	case <-ctx.Done():
	}
}

// anyMail stands for mails this deliverer could not read: look for due mails at the next poll.
const anyMail = ""

// expectDue says mail id will be due at.
func (d *deliverer) expectDue(id string, at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.expected == nil {
		d.expected = map[string]time.Time{}
	}
	d.expected[id] = at
}

// mustLook reports whether a mail is expected to be due at now; those mails are forgotten, since the
// query that follows attempts them (and a failed attempt expects them again).
func (d *deliverer) mustLook(now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	due := false
	for id, at := range d.expected {
		if !at.After(now) {
			delete(d.expected, id)
			due = true
		}
	}
	return due
}

// run delivers until ctx ends: fresh mails as they come; at a poll, the due mails when one is expected
// (a retry, a mail not handed over, the earliest pending mail a look found); and every lease period
// regardless, which finds what nothing here knows about: another replica's mails, recorded since.
func (d *deliverer) run(ctx context.Context) error {
	t := time.NewTicker(d.poll)
	defer t.Stop()
	var lastRescan time.Time // zero: look at once, for what the last run of the process left
	for {
		d.recordUnrecorded(ctx)
		if now := d.now(); d.mustLook(now) || now.Sub(lastRescan) >= d.lease {
			lastRescan = now
			for d.deliverDue(ctx) {
			}
			d.expectNextDue(ctx)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case group := <-d.fresh:
			groups := [][]Mail{group}
			for len(groups) < batchSize && len(d.fresh) > 0 {
				groups = append(groups, <-d.fresh)
			}
			d.attemptAll(ctx, groups)
		}
	}
}

const batchSize = 100

// expectNextDue expects the earliest mail still pending, so that it is sent when it falls due rather
// than at the next rescan: a retry scheduled by a process that has since died, or a mail it held under
// its lease when it died, is then sent by this one as soon as it may be.
func (d *deliverer) expectNextDue(ctx context.Context) {
	at, ok, err := d.store.nextDue(ctx)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			d.logger.WarnContext(ctx, "cannot read when the next mail is due; looking at the next poll", "err", err)
		}
		d.expectDue(anyMail, d.now())
	case ok:
		d.expectDue(anyMail, at)
	}
}

// deliverDue makes one attempt at up to batchSize due mails and reports whether a full batch was due
// (there may be more).
func (d *deliverer) deliverDue(ctx context.Context) bool {
	mails, err := d.store.due(ctx, d.now(), batchSize)
	if err != nil {
		if ctx.Err() == nil {
			d.logger.WarnContext(ctx, "cannot read the mails to send; retrying at the next poll", "err", err)
		}
		d.expectDue(anyMail, d.now())
		return false
	}
	groups := make([][]Mail, len(mails))
	for i, m := range mails {
		groups[i] = []Mail{m}
	}
	d.attemptAll(ctx, groups)
	return len(mails) == batchSize && ctx.Err() == nil
}

// attemptAll makes one attempt at each group of mails, at most parallel groups at a time.
func (d *deliverer) attemptAll(ctx context.Context, groups [][]Mail) {
	sem := make(chan struct{}, d.parallel)
	var wg sync.WaitGroup
	for _, g := range groups {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			d.attempt(ctx, g)
		}()
	}
	wg.Wait()
}

// claim takes m for one attempt, so that another sender (another replica) does not send it meanwhile. A
// mail handed over when it was recorded holds this deliverer's lease already (NextAttemptAt in the
// future): it is sent as it is while half the lease remains — longer than one SMTP conversation — and
// otherwise the lease is renewed first, guarded by its end as recorded.
func (d *deliverer) claim(ctx context.Context, m Mail, now time.Time) (bool, error) {
	if !m.NextAttemptAt.After(now) {
		return d.store.claim(ctx, m.ID, now, d.leaseEnd(now))
	}
	if m.NextAttemptAt.Sub(now) >= d.lease/2 {
		return true, nil
	}
	return d.store.renew(ctx, m.ID, m.NextAttemptAt, d.leaseEnd(now))
}

// attempt sends each of mails once, at the same time, and records their outcomes in one write. The
// window in which a mail can go out twice is the time between the server's acceptance and that write:
// the rest of its group's SMTP conversations (the two mails of a transfer go out together), then one
// database write. A crash there sends it again when its lease ends, with the same Message-ID, so the
// receiving side can drop the copy. A write that fails while the process lives sends nothing twice: the
// mail is remembered as sent and recorded later.
func (d *deliverer) attempt(ctx context.Context, mails []Mail) {
	outcomes := make([]attempted, len(mails))
	var wg sync.WaitGroup
	for i, m := range mails {
		wg.Go(func() { outcomes[i] = d.send(ctx, m) })
	}
	wg.Wait()
	var done []attempted
	for _, o := range outcomes {
		if o.tried {
			done = append(done, o)
		}
	}
	if len(done) == 0 {
		return
	}
	// A write after a successful send must not be lost to a stopping process: it is what prevents a resend.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := d.store.recordAttempts(wctx, done); err != nil {
		for _, o := range done {
			if o.State == StateSent {
				d.logger.WarnContext(ctx, "mail sent but not recorded as sent yet: recording it again at every poll", "mail_id", o.ID, "err", err)
				d.remember(o)
			} else {
				d.logger.WarnContext(ctx, "cannot record a failed attempt; the mail is retried when its lease ends",
					"mail_id", o.ID, "err", err)
			}
		}
	}
}

// remember keeps a sent mail whose record failed, so that this process records it later instead of
// sending it again: only a crash before the record is written can send a mail twice.
func (d *deliverer) remember(o attempted) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.unrecorded == nil {
		d.unrecorded = map[string]attempted{}
	}
	d.unrecorded[o.ID] = o
}

// sentUnrecorded reports whether this process sent mail id and has not recorded it yet.
func (d *deliverer) sentUnrecorded(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.unrecorded[id]
	return ok
}

// recordUnrecorded writes the sent mails whose record failed; they are forgotten once it succeeds.
func (d *deliverer) recordUnrecorded(ctx context.Context) {
	d.mu.Lock()
	owed := make([]attempted, 0, len(d.unrecorded))
	for _, o := range d.unrecorded {
		owed = append(owed, o)
	}
	d.mu.Unlock()
	if len(owed) == 0 {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := d.store.recordAttempts(wctx, owed); err != nil {
		return // still away; the next poll tries again
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, o := range owed {
		delete(d.unrecorded, o.ID)
	}
	d.logger.InfoContext(ctx, "recorded mails sent while the database was away", "mails", len(owed))
}

// attempted is the outcome of one send attempt, as recordAttempts stores it.
type attempted struct {
	ID            string
	tried         bool   // claimed and attempted; false when another sender has it or the claim failed
	State         string // StateSent, StatePending (to retry at NextAttemptAt) or StateDead
	Attempts      int
	At            time.Time // when it was sent
	NextAttemptAt time.Time
	LastError     string
}

// send claims m and sends it once, and says what to record.
func (d *deliverer) send(ctx context.Context, m Mail) attempted {
	ctx = observe.WithTraceParent(ctx, m.TraceParent) // its log lines belong to the trace of the event that owed it
	if d.sentUnrecorded(m.ID) {
		return attempted{} // sent already; recordUnrecorded writes it
	}
	now := d.now()
	claimed, err := d.claim(ctx, m, now)
	if err != nil {
		d.expectDue(m.ID, now) // the database is away: the mail stays pending, tried again at a poll
		return attempted{}
	}
	if !claimed {
		return attempted{} // another sender has it
	}
	start := time.Now()
	sendErr := d.sender.Send(ctx, mailer.Mail{ID: m.ID, MessageID: m.MessageID, Template: m.Template, From: m.From,
		To: m.To, ToName: m.ToName, Subject: m.Subject, Text: m.Text, HTML: m.HTML, Date: d.now()})
	took := time.Since(start)
	out := attempted{ID: m.ID, tried: true, Attempts: m.Attempts + 1}
	if sendErr == nil {
		d.metrics.attempt(m.Template, resultSent, took)
		out.State, out.At = StateSent, d.now()
		return out
	}
	out.State, out.NextAttemptAt, out.LastError = StatePending, d.now().Add(d.retry.delay(out.Attempts)), sendErr.Error()
	if out.Attempts >= d.retry.MaxAttempts {
		out.State = StateDead
		d.metrics.attempt(m.Template, resultDead, took)
		d.logger.ErrorContext(ctx, "giving up on a mail; set its state back to pending to send it again", "mail_id", m.ID,
			"template", m.Template, "attempts", out.Attempts, "err", sendErr)
		return out
	}
	d.metrics.attempt(m.Template, resultRetry, took)
	d.logger.WarnContext(ctx, "mail not sent; will retry", "mail_id", m.ID, "template", m.Template, "attempts", out.Attempts,
		"retry_at", out.NextAttemptAt, "err", sendErr)
	d.expectDue(m.ID, out.NextAttemptAt)
	return out
}
