// Package policy holds the delivery rules both bus adapters share, so that the in-process bus and the
// RabbitMQ adapter retry, dead-letter and recover panics identically.
//
// A failed delivery is retried after a back-off, and dead-lettered after MaxAttempts, or at once for a
// bus.Permanent error: a poison message must not loop. A failure of kind failure.Unavailable is not the
// message's fault but a dependency's that did not answer (a database restarting, a failover): it is
// retried for as long as the outage lasts, never dead-lettered, and uses up none of the message's
// attempts, so one that later fails for a real reason still gets all of them.
package policy

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/mint-wallet/mint/internal/platform/backoff"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/failure"
)

// Header names the adapters put on the wire. They are internal bookkeeping, except ErrorHeader, which
// tells whoever reads a dead-letter queue why the message is there.
const (
	AttemptHeader  = "x-mint-attempt"  // delivery attempt of a retried message (absent = 1)
	OutageHeader   = "x-mint-outages"  // outage retries of a retried message so far (absent = 0)
	ExchangeHeader = "x-mint-exchange" // original exchange of a retried or dead-lettered message
	ErrorHeader    = "x-mint-error"    // last handler error of a dead-lettered message
)

// Defaults of Policy.
const (
	DefaultMaxAttempts = bus.DefaultMaxAttempts
	DefaultRetryBase   = 200 * time.Millisecond
	DefaultRetryMax    = 10 * time.Second
)

// Policy decides what becomes of a delivery once its handler returned.
type Policy struct {
	MaxAttempts int           // deliveries before a failing message is dead-lettered, outage retries aside
	RetryBase   time.Duration // delay before the second attempt; doubles each attempt (or outage retry)
	RetryMax    time.Duration // cap of the delay
}

// WithDefaults fills the zero fields.
func (p Policy) WithDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.RetryBase <= 0 {
		p.RetryBase = DefaultRetryBase
	}
	if p.RetryMax <= 0 {
		p.RetryMax = DefaultRetryMax
	}
	if p.RetryMax < p.RetryBase {
		p.RetryMax = p.RetryBase
	}
	return p
}

// Outcome is what to do with a delivery.
type Outcome int

// Outcomes of Decide.
const (
	Ack        Outcome = iota // handled
	Retry                     // send it again after Decision.Delay
	DeadLetter                // park it in the queue's dead-letter queue
)

// Delivery is how far a message has come: what Decide reads, and what a retried message carries (in
// the adapter's bookkeeping, never to the handler).
type Delivery struct {
	Attempt int // 1-based; only ordinary failures move it towards MaxAttempts
	Outages int // retries so far because a dependency was unavailable
}

// Decision is what becomes of a delivery.
type Decision struct {
	Outcome Outcome
	Next    Delivery      // Retry: the message's bookkeeping on its next delivery
	Delay   time.Duration // Retry: how long it waits before that delivery
}

// Decide maps a handler's result on delivery d to a decision:
//
//   - nil: Ack;
//   - a bus.Permanent error: DeadLetter at once, whatever it wraps — the handler said retrying cannot help;
//   - an error of kind failure.Unavailable: Retry, always, with the same attempt; the delay doubles
//     with the outage retries (RetryBase·2^(outages-1), capped at RetryMax), counted apart from the
//     attempts. Doubling from RetryBase bridges a short outage (a restarted database) within a second or
//     two, and the cap keeps a long one to a try per message every RetryMax, never a hot loop against
//     a dependency that is coming back. A flat RetryMax would add its whole delay to every message a
//     blip touched; reusing the attempt for the delay would retry every RetryBase for ever;
//   - any other error: Retry with the next attempt after RetryBase·2^(attempt-1) (capped at RetryMax),
//     or DeadLetter once attempt reaches MaxAttempts.
func (p Policy) Decide(d Delivery, err error) Decision {
	switch {
	case err == nil:
		return Decision{Outcome: Ack}
	case bus.IsPermanent(err):
		return Decision{Outcome: DeadLetter}
	case failure.KindOf(err) == failure.Unavailable:
		next := Delivery{Attempt: d.Attempt, Outages: d.Outages + 1}
		return Decision{Outcome: Retry, Next: next, Delay: p.Delay(next.Outages)}
	case d.Attempt >= p.MaxAttempts:
		return Decision{Outcome: DeadLetter}
	default:
		return Decision{Outcome: Retry, Next: Delivery{Attempt: d.Attempt + 1, Outages: d.Outages}, Delay: p.Delay(d.Attempt)}
	}
}

// Delay is the back-off after the n-th failure (1-based): RetryBase·2^(n-1), capped at RetryMax.
func (p Policy) Delay(n int) time.Duration {
	return backoff.Doubling(p.RetryBase, p.RetryMax, n)
}

// Invoke runs h, turning a panic into an error so that one bad message cannot crash the process; the
// message then takes the ordinary retry/dead-letter path.
func Invoke(ctx context.Context, h bus.Handler, msg bus.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v\n%s", r, debug.Stack())
		}
	}()
	return h(ctx, msg)
}
