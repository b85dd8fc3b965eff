package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"time"

	"github.com/mint-wallet/mint/internal/platform/failure"
)

// Login throttling (docs/AUTH.md "Login throttling").
//
// Every login attempt is counted before its password is checked, in the buckets of whoever makes it:
// a device the account signed in from before (it carries a signed mint_device cookie) has a bucket
// of its own; any other client counts in a bucket of (account, client IP) and in one that all
// unrecognised clients of the account share. A bucket lets MaxFailures attempts through at full
// speed; each further one must wait Delay after the previous attempt, doubling up to MaxDelay. A
// successful login ends its client's streak. So strangers can slow down sign-ins from unrecognised
// clients of an account, but never lock its owner's devices out, and no amount of concurrency gets
// more passwords checked than the buckets allow.
//
// Counting is atomic on every MongoDB-wire server and across any number of auth processes without
// relying on atomic updates: an attempt claims the next numbered slot of its bucket by inserting the
// document <bucket>/<n>, and the unique _id lets exactly one claimant have each slot. A slot records
// the bucket's streak after it, so whoever claims slot n+1 decides from slot n alone.

// ThrottleConfig sets how fast failed logins may follow each other.
type ThrottleConfig struct {
	MaxFailures        int           // per client (a recognised device, else an IP): failures let through at full speed
	AccountMaxFailures int           // per account, all unrecognised clients together
	Delay              time.Duration // the wait after the first failure beyond those; it doubles with each further one
	MaxDelay           time.Duration // the longest wait between two attempts
	Window             time.Duration // a bucket's streak is forgotten this long after its last attempt
}

// Defaults of ThrottleConfig (the README's settings table).
const (
	DefaultLoginMaxFailures        = 5
	DefaultLoginAccountMaxFailures = 20
	DefaultLoginDelay              = time.Second
	DefaultLoginMaxDelay           = 15 * time.Minute
	DefaultLoginWindow             = 24 * time.Hour
)

// withDefaults fills zero fields with the defaults.
func (c ThrottleConfig) withDefaults() ThrottleConfig {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = DefaultLoginMaxFailures
	}
	if c.AccountMaxFailures <= 0 {
		c.AccountMaxFailures = DefaultLoginAccountMaxFailures
	}
	set(&c.Delay, DefaultLoginDelay)
	set(&c.MaxDelay, DefaultLoginMaxDelay)
	set(&c.Window, DefaultLoginWindow)
	return c
}

// policy is the rule of one kind of bucket.
type policy struct {
	free     int           // attempts at full speed
	delay    time.Duration // the first wait beyond them
	maxDelay time.Duration
	forget   time.Duration
	// resetOnSuccess ends the streak at a success. A client's own bucket does; the bucket an account's
	// unrecognised clients share only takes that client's own streak back out (the slot's Refund), so
	// that the owner's typos are forgiven but strangers' guesses are not.
	resetOnSuccess bool
}

func (c ThrottleConfig) clientPolicy() policy {
	return policy{free: c.MaxFailures, delay: c.Delay, maxDelay: c.MaxDelay, forget: c.Window, resetOnSuccess: true}
}

func (c ThrottleConfig) accountPolicy() policy {
	return policy{free: c.AccountMaxFailures, delay: c.Delay, maxDelay: c.MaxDelay, forget: c.Window}
}

// admit decides an attempt at now that would follow last, the bucket's newest slot (nil when the
// bucket is empty). It returns the streak the attempt continues — attempts not known to have
// succeeded, this one included — or, when it must wait, how long. An attempt still being checked
// counts as a failure until it is known to have succeeded.
func (p policy) admit(last *attemptDoc, now time.Time) (streak int, wait time.Duration) {
	prior := 0
	if last != nil && now.Sub(last.At) < p.forget {
		switch {
		case !last.OK:
			prior = last.Streak
		case !p.resetOnSuccess:
			prior = max(last.Streak-last.Refund, 0)
		}
	}
	if prior >= p.free {
		if next := last.At.Add(p.waitAfter(prior - p.free)); now.Before(next) {
			return 0, next.Sub(now)
		}
	}
	return prior + 1, 0
}

// waitAfter is the wait before the next attempt once extra attempts beyond the free ones were made.
func (p policy) waitAfter(extra int) time.Duration {
	d := p.delay
	for range extra {
		if d >= p.maxDelay/2 {
			return p.maxDelay
		}
		d *= 2
	}
	return min(d, p.maxDelay)
}

// Client is who makes a login attempt: the address the edge resolved and the device cookie it sent.
type Client struct {
	IP     netip.Addr
	Device string // the mint_device cookie, "" when absent
}

// bucket names a throttle bucket. Its id is a hash, so no email (known or not) is stored in clear.
type bucket string

func bucketOf(kind string, parts ...string) bucket {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return bucket(hex.EncodeToString(h.Sum(nil)[:16]))
}

// admitted is an attempt the throttle let through: the slots it took, its client's own first; the
// account's is absent for a recognised device, which counts only in its own bucket.
type admitted []attemptDoc

// admitLogin counts an attempt on email by c in its buckets, or refuses it with when to come back.
// deviceID is c's device when its cookie is a device of this account. The client's own bucket is
// counted first: a client it refuses costs the account's shared bucket nothing.
func (s *Service) admitLogin(ctx context.Context, email string, c Client, deviceID string, now time.Time) (admitted, error) {
	cfg := s.throttle
	type step struct {
		b bucket
		p policy
	}
	steps := []step{ // the client's own bucket first
		{bucketOf("ip", email, c.IP.String()), cfg.clientPolicy()},
		{bucketOf("account", email), cfg.accountPolicy()},
	}
	if deviceID != "" {
		steps = []step{{bucketOf("device", deviceID), cfg.clientPolicy()}}
	}
	var a admitted
	for _, st := range steps {
		slot, wait, err := s.store.claimAttempt(ctx, st.b, st.p, now)
		if err != nil {
			return nil, err
		}
		if wait > 0 {
			s.metrics.login(loginThrottled)
			return nil, &failure.Error{Kind: failure.RateLimited, RetryAfter: wait,
				Detail: "too many failed logins for this account from here; try again later"}
		}
		a = append(a, slot)
	}
	return a, nil
}

// finished records how the attempt ended in each of its buckets. A success ends the client's streak,
// and the account's shared streak forgets this client's part of it.
func (s *Service) finished(ctx context.Context, a admitted, ok bool) error {
	for i, slot := range a {
		slot.OK = ok
		if ok && i > 0 {
			slot.Refund = a[0].Streak
		}
		if err := s.store.attemptFinished(ctx, slot); err != nil {
			return err
		}
	}
	return nil
}
