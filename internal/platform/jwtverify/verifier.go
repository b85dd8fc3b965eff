package jwtverify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mint-wallet/mint/internal/platform/failure"
)

const (
	// MaxLeeway is the most clock skew tolerated on exp, nbf and iat. Mint's
	// services run on synchronised clocks; a minute covers drift without
	// stretching a token's life noticeably.
	MaxLeeway = 60 * time.Second

	// maxTokenBytes bounds the work an unauthenticated caller can cause. Mint's
	// tokens are under 1 KiB.
	maxTokenBytes = 8 << 10

	op = "jwtverify.Verify"
)

// allowedAlgs is the algorithm allowlist: the token's alg header is never
// trusted on its own, which rules out "none" and the HS256-with-public-key
// confusion at parse time.
var allowedAlgs = []jose.SignatureAlgorithm{jose.RS256}

// Client-facing details. They say no more than a client can act on.
const (
	detailMissing = "missing token"
	detailInvalid = "invalid token"
	detailExpired = "token expired"
)

// Config configures a Verifier.
type Config struct {
	Issuer      string        // expected iss; DefaultIssuer when empty
	Audience    string        // must be among aud; DefaultAudience when empty
	Keys        KeySource     // required
	Revocations Revocations   // required; NoRevocations to opt out on purpose
	Leeway      time.Duration // clock skew allowed; MaxLeeway when zero, at most MaxLeeway
	Now         func() time.Time
}

// Verifier checks Mint access tokens. It is safe for concurrent use.
type Verifier struct {
	expected    jwt.Expected
	keys        KeySource
	revocations Revocations
	leeway      time.Duration
	now         func() time.Time
	verified    *verifiedCache
}

// New returns a Verifier for cfg.
func New(cfg Config) (*Verifier, error) {
	if cfg.Keys == nil {
		return nil, errors.New("jwtverify: Config.Keys is required")
	}
	if cfg.Revocations == nil {
		return nil, errors.New("jwtverify: Config.Revocations is required (use NoRevocations to opt out)")
	}
	if cfg.Leeway < 0 || cfg.Leeway > MaxLeeway {
		return nil, fmt.Errorf("jwtverify: Config.Leeway %v is outside [0, %v]", cfg.Leeway, MaxLeeway)
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = MaxLeeway
	}
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = DefaultAudience
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Verifier{
		// Both must be non-empty: go-jose skips the check of an empty one.
		expected:    jwt.Expected{Issuer: cfg.Issuer, AnyAudience: jwt.Audience{cfg.Audience}},
		keys:        cfg.Keys,
		revocations: cfg.Revocations,
		leeway:      cfg.Leeway,
		now:         cfg.Now,
		verified:    newVerifiedCache(),
	}, nil
}

// Verify authenticates raw and returns its claims. Every error is a
// *failure.Error: Unauthenticated when the token is missing, malformed,
// forged, expired, not yet valid, for another issuer or audience, or revoked;
// Unavailable when the keys or the revocation list could not be consulted.
func (v *Verifier) Verify(ctx context.Context, raw string) (Claims, error) {
	if raw == "" {
		return Claims{}, unauthenticated(detailMissing, errors.New("empty token"))
	}
	if len(raw) > maxTokenBytes {
		return Claims{}, unauthenticated(detailInvalid, fmt.Errorf("token of %d bytes", len(raw)))
	}
	c, err := v.authentic(ctx, raw)
	if err != nil {
		return Claims{}, err
	}
	if err := v.validate(c); err != nil {
		return Claims{}, err
	}

	revoked, err := v.revocations.IsRevoked(ctx, c.ID)
	if err != nil {
		return Claims{}, unavailable(fmt.Errorf("revocation check: %w", err))
	}
	if revoked {
		return Claims{}, unauthenticated(detailInvalid, fmt.Errorf("jti %q revoked", c.ID))
	}
	return claimsOf(c), nil
}

// authentic returns the claims of raw once its signature proved it was issued with one of our keys.
// The RSA check dominates the cost of an authenticated request, so a token already proven is
// remembered for a short while (see verifiedCache); time-based claims and revocation are still checked
// on every use.
func (v *Verifier) authentic(ctx context.Context, raw string) (jwt.Claims, error) {
	now := v.now()
	if e, ok := v.verified.get(raw, now); ok {
		if key, err := v.keys.PublicKey(ctx, e.kid); err == nil && key.Equal(e.key) {
			return e.claims, nil
		}
	}
	tok, err := jwt.ParseSigned(raw, allowedAlgs)
	if err != nil {
		return jwt.Claims{}, unauthenticated(detailInvalid, fmt.Errorf("parse: %w", err))
	}
	if len(tok.Headers) != 1 {
		return jwt.Claims{}, unauthenticated(detailInvalid, errors.New("not exactly one signature"))
	}
	h := tok.Headers[0]
	if h.Algorithm != string(jose.RS256) { // the parser enforces it; stay explicit
		return jwt.Claims{}, unauthenticated(detailInvalid, fmt.Errorf("alg %q", h.Algorithm))
	}
	if h.KeyID == "" {
		return jwt.Claims{}, unauthenticated(detailInvalid, errors.New("no kid"))
	}

	key, err := v.keys.PublicKey(ctx, h.KeyID)
	switch {
	case errors.Is(err, ErrUnknownKey):
		return jwt.Claims{}, unauthenticated(detailInvalid, fmt.Errorf("kid %q: %w", h.KeyID, err))
	case err != nil:
		return jwt.Claims{}, unavailable(fmt.Errorf("key for kid %q: %w", h.KeyID, err))
	}

	var c jwt.Claims
	if err := tok.Claims(key, &c); err != nil { // verifies the signature first
		return jwt.Claims{}, unauthenticated(detailInvalid, fmt.Errorf("signature or claims: %w", err))
	}
	v.verified.put(raw, verifiedEntry{claims: c, kid: h.KeyID, key: key}, now)
	return c, nil
}

// validate checks the claims of an authentic token. go-jose checks exp, nbf
// and iat only when present; Mint's tokens always carry exp and iat, so their
// absence is an error here.
func (v *Verifier) validate(c jwt.Claims) error {
	switch {
	case c.Expiry == nil:
		return unauthenticated(detailInvalid, errors.New("no exp"))
	case c.IssuedAt == nil:
		return unauthenticated(detailInvalid, errors.New("no iat"))
	case c.Subject == "":
		return unauthenticated(detailInvalid, errors.New("no sub"))
	case c.ID == "":
		return unauthenticated(detailInvalid, errors.New("no jti"))
	}
	err := c.ValidateWithLeeway(v.expected.WithTime(v.now()), v.leeway)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jwt.ErrExpired):
		return unauthenticated(detailExpired, err)
	default:
		return unauthenticated(detailInvalid, err)
	}
}

func claimsOf(c jwt.Claims) Claims {
	out := Claims{
		Issuer:   c.Issuer,
		Subject:  c.Subject,
		Audience: []string(c.Audience),
		Expiry:   c.Expiry.Time(),
		IssuedAt: c.IssuedAt.Time(),
		ID:       c.ID,
	}
	if c.NotBefore != nil {
		out.NotBefore = c.NotBefore.Time()
	}
	return out
}

func unauthenticated(detail string, cause error) error {
	return &failure.Error{Kind: failure.Unauthenticated, Op: op, Detail: detail, Err: cause}
}

func unavailable(cause error) error {
	return &failure.Error{
		Kind: failure.Unavailable, Op: op,
		Detail: "authentication is temporarily unavailable", Err: cause,
	}
}
