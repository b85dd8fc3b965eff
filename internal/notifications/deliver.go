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
	fresh    chan Mail // mails just recorded, attempted without looking for them

	mu       sync.Mutex
	expected map[string]time.Time // mail id → when this deliverer knows it will be due: a retry, a mail not handed over
}

// leaseEnd is when a lease taken at now ends, at the precision the database stores.
func (d *deliverer) leaseEnd(now time.Time) time.Time {
	return now.Add(d.lease).UTC().Truncate(time.Millisecond)
}

// handOver gives the deliverer a mail just recorded under its lease (NextAttemptAt = leaseEnd), to be
// sent now. It waits while the deliverer is busy — back-pressure on the event queue rather than a mail
// left until its lease ends — except when ctx ends: the mail is then due when its lease ends.
func (d *deliverer) handOver(ctx context.Context, m Mail) {
	select {
	case d.fresh <- m:
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
// (a retry, a mail not handed over); and every lease period regardless, which finds what nothing here
// knows about: mails a crashed process left claimed or unsent, another replica's.
func (d *deliverer) run(ctx context.Context) error {
	t := time.NewTicker(d.poll)
	defer t.Stop()
	var lastRescan time.Time // zero: look at once, for what the last run of the process left
	for {
		if now := d.now(); d.mustLook(now) || now.Sub(lastRescan) >= d.lease {
			lastRescan = now
			for d.deliverDue(ctx) {
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case m := <-d.fresh:
			batch := []Mail{m}
			for len(batch) < batchSize && len(d.fresh) > 0 {
				batch = append(batch, <-d.fresh)
			}
			d.attemptAll(ctx, batch)
		}
	}
}

const batchSize = 100

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
	d.attemptAll(ctx, mails)
	return len(mails) == batchSize && ctx.Err() == nil
}

// attemptAll makes one attempt at each of mails, at most parallel at a time.
func (d *deliverer) attemptAll(ctx context.Context, mails []Mail) {
	sem := make(chan struct{}, d.parallel)
	var wg sync.WaitGroup
	for _, m := range mails {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			d.attempt(ctx, m)
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

// attempt sends m once and records the outcome. The window in which a mail can go out twice is the
// time between the server's acceptance and markSent (one database write): a crash exactly there sends
// it again when its lease ends, with the same Message-ID, so the receiving side can drop the copy.
func (d *deliverer) attempt(ctx context.Context, m Mail) {
	ctx = observe.WithTraceParent(ctx, m.TraceParent) // its log lines belong to the trace of the event that owed it
	now := d.now()
	claimed, err := d.claim(ctx, m, now)
	if err != nil {
		d.expectDue(m.ID, now) // the database is away: the mail stays pending, tried again at a poll
		return
	}
	if !claimed {
		return // another sender has it
	}
	start := time.Now()
	sendErr := d.sender.Send(ctx, mailer.Mail{ID: m.ID, MessageID: m.MessageID, Template: m.Template, From: m.From,
		To: m.To, ToName: m.ToName, Subject: m.Subject, Text: m.Text, HTML: m.HTML, Date: d.now()})
	took := time.Since(start)
	attempts := m.Attempts + 1
	// A write after a successful send must not be lost to a stopping process: it is what prevents a resend.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if sendErr == nil {
		d.metrics.attempt(m.Template, resultSent, took)
		if err := d.store.markSent(wctx, m.ID, attempts, d.now()); err != nil {
			d.logger.ErrorContext(ctx, "mail sent but not recorded as sent: it will be sent again when its lease ends",
				"mail_id", m.ID, "err", err)
		}
		return
	}
	dead := attempts >= d.retry.MaxAttempts
	next := d.now().Add(d.retry.delay(attempts))
	if dead {
		d.metrics.attempt(m.Template, resultDead, took)
		d.logger.ErrorContext(ctx, "giving up on a mail; set its state back to pending to send it again", "mail_id", m.ID,
			"template", m.Template, "attempts", attempts, "err", sendErr)
	} else {
		d.metrics.attempt(m.Template, resultRetry, took)
		d.logger.WarnContext(ctx, "mail not sent; will retry", "mail_id", m.ID, "template", m.Template, "attempts", attempts,
			"retry_at", next, "err", sendErr)
	}
	if !dead {
		d.expectDue(m.ID, next)
	}
	if err := d.store.markFailed(wctx, m.ID, attempts, next, dead, sendErr.Error()); err != nil {
		d.logger.WarnContext(ctx, "cannot record a failed attempt; the mail is retried when its lease ends", "mail_id", m.ID, "err", err)
	}
}
