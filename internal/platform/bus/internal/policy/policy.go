// Package policy holds the delivery rules both bus adapters share, so that the in-process bus and the
// RabbitMQ adapter retry, dead-letter and recover panics identically.
package policy

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/mint-wallet/mint/internal/platform/backoff"
	"github.com/mint-wallet/mint/internal/platform/bus"
)

// Header names the adapters put on the wire. They are internal bookkeeping, except ErrorHeader, which
// tells whoever reads a dead-letter queue why the message is there.
const (
	AttemptHeader  = "x-mint-attempt"  // delivery attempt of a retried message (absent = 1)
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
	MaxAttempts int           // deliveries before a failing message is dead-lettered
	RetryBase   time.Duration // delay before the second attempt; doubles each attempt
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
	Retry                     // send it again after Delay(attempt)
	DeadLetter                // park it in the queue's dead-letter queue
)

// Decide maps a handler's result on the given attempt (1-based) to an outcome.
func (p Policy) Decide(attempt int, err error) Outcome {
	switch {
	case err == nil:
		return Ack
	case bus.IsPermanent(err) || attempt >= p.MaxAttempts:
		return DeadLetter
	default:
		return Retry
	}
}

// Delay is the back-off after the given failed attempt: RetryBase·2^(attempt-1), capped at RetryMax.
func (p Policy) Delay(attempt int) time.Duration {
	return backoff.Doubling(p.RetryBase, p.RetryMax, attempt)
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
