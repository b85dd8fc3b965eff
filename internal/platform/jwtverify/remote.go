package jwtverify

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Defaults of RemoteOptions.
const (
	// DefaultMinRefreshInterval bounds how often tokens with made-up kids can
	// make a service call the auth service: at most one fetch per interval.
	DefaultMinRefreshInterval = 10 * time.Second
	// DefaultMaxAge matches the JWKS response's Cache-Control max-age=300, so
	// a key removed from the set stops being trusted within five minutes.
	DefaultMaxAge       = 5 * time.Minute
	DefaultFetchTimeout = 5 * time.Second

	maxJWKSBytes = 1 << 20
)

// RemoteOptions tunes a Remote. Zero fields take the defaults above.
type RemoteOptions struct {
	MinRefreshInterval time.Duration
	MaxAge             time.Duration
	FetchTimeout       time.Duration
	Now                func() time.Time // for tests; time.Now by default
}

// Remote is a KeySource that fetches a JWKS over HTTP and caches it.
//
// The set is fetched on first use and refetched when a token names a kid it
// does not hold (a rotation happened) or when it is older than MaxAge. Fetch
// attempts, successful or not, are at least MinRefreshInterval apart, and
// concurrent lookups that need a fetch share one (single flight), so neither
// a burst of forged kids nor an auth-service outage turns into a flood of
// requests. When a refetch fails, the last good set keeps serving the kids it
// knows: a short auth outage must not log everyone out.
type Remote struct {
	url    string
	client *http.Client
	opts   RemoteOptions

	mu        sync.Mutex
	keys      map[string]*rsa.PublicKey // last good set; nil before the first success
	fetchedAt time.Time                 // of keys
	attemptAt time.Time                 // of the last attempt, successful or not
	lastErr   error                     // of the last attempt; nil when it succeeded
	inflight  chan struct{}             // closed when the running fetch ends; nil when none runs
}

// RemoteJWKS returns a KeySource for the JWKS at url, fetched with client
// (http.DefaultClient when nil). It does no I/O until the first lookup.
func RemoteJWKS(url string, client *http.Client, opts RemoteOptions) *Remote {
	if client == nil {
		client = http.DefaultClient
	}
	if opts.MinRefreshInterval <= 0 {
		opts.MinRefreshInterval = DefaultMinRefreshInterval
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = DefaultFetchTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Remote{url: url, client: client, opts: opts}
}

// PublicKey implements KeySource.
func (r *Remote) PublicKey(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	r.mu.Lock()
	now := r.opts.Now()
	key, known := r.keys[kid]
	if known && now.Sub(r.fetchedAt) < r.opts.MaxAge {
		r.mu.Unlock()
		return key, nil
	}
	if r.inflight == nil {
		if !r.attemptAt.IsZero() && now.Sub(r.attemptAt) < r.opts.MinRefreshInterval {
			// Rate-limited: answer from what we have.
			err := r.lastErr
			r.mu.Unlock()
			return r.answer(key, known, err)
		}
		r.inflight = make(chan struct{})
		r.attemptAt = now
		// The fetch outlives this caller's context: other callers may be
		// waiting on it, and a good set is worth storing anyway.
		go r.fetch(context.WithoutCancel(ctx), r.inflight)
	}
	wait := r.inflight
	r.mu.Unlock()

	select {
	case <-wait:
	case <-ctx.Done():
		return nil, fmt.Errorf("jwks %s: %w", r.url, ctx.Err())
	}
	r.mu.Lock()
	key, known = r.keys[kid]
	err := r.lastErr
	r.mu.Unlock()
	return r.answer(key, known, err)
}

// answer is the result of a lookup once no (further) fetch will be made: a
// known key, even from a stale set; else the fetch error, because the kid may
// be genuine and we could not check; else ErrUnknownKey.
func (r *Remote) answer(key *rsa.PublicKey, known bool, fetchErr error) (*rsa.PublicKey, error) {
	switch {
	case known:
		return key, nil
	case fetchErr != nil:
		return nil, fetchErr
	default:
		return nil, ErrUnknownKey
	}
}

// fetch loads the set, records the outcome and releases the waiters on done.
func (r *Remote) fetch(ctx context.Context, done chan struct{}) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.FetchTimeout)
	defer cancel()
	keys, err := r.get(ctx)

	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.lastErr = fmt.Errorf("jwks %s: %w", r.url, err)
	} else {
		r.keys, r.fetchedAt, r.lastErr = keys, r.opts.Now(), nil
	}
	r.inflight = nil
	close(done)
}

func (r *Remote) get(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	// The URL is the operator's configuration, never request input.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil) //nolint:gosec // G704, see above

	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := r.client.Do(req) //nolint:gosec // G704: the configured JWKS URL
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxJWKSBytes))
		return nil, fmt.Errorf("get: status %s", resp.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(raw) > maxJWKSBytes {
		return nil, errors.New("body larger than 1 MiB")
	}
	return parseJWKS(raw)
}
