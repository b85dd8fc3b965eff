package jwtsign

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mint-wallet/mint/internal/platform/jwtverify"
)

// DefaultLifetime is how long a token (and the mint_session cookie) lives.
const DefaultLifetime = 7 * 24 * time.Hour

// Claims are the claims of an issued token; the same type verifiers return.
type Claims = jwtverify.Claims

// Config configures an Issuer. Zero fields take the defaults, which match
// jwtverify's, so the two ends agree without configuration.
type Config struct {
	Issuer   string        // iss; jwtverify.DefaultIssuer ("mint-auth") when empty
	Audience string        // aud; jwtverify.DefaultAudience ("mint") when empty
	Lifetime time.Duration // exp - iat; DefaultLifetime when zero
}

// Issuer signs access tokens with the newest key of a KeySet.
type Issuer struct {
	keys *KeySet
	cfg  Config
}

// NewIssuer returns an Issuer signing with keys.
func NewIssuer(keys *KeySet, cfg Config) (*Issuer, error) {
	if keys == nil {
		return nil, errors.New("token: NewIssuer needs a key set")
	}
	if cfg.Lifetime < 0 {
		return nil, fmt.Errorf("token: negative lifetime %v", cfg.Lifetime)
	}
	if cfg.Issuer == "" {
		cfg.Issuer = jwtverify.DefaultIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = jwtverify.DefaultAudience
	}
	if cfg.Lifetime == 0 {
		cfg.Lifetime = DefaultLifetime
	}
	return &Issuer{keys: keys, cfg: cfg}, nil
}

// Lifetime is how long issued tokens live; the session cookie's Max-Age.
func (i *Issuer) Lifetime() time.Duration { return i.cfg.Lifetime }

// Issue signs a token for subject (the user id) valid from now for the
// lifetime. The returned claims are exactly those in the token, with times
// truncated to seconds as JWT requires.
func (i *Issuer) Issue(subject string, now time.Time) (string, Claims, error) {
	if subject == "" {
		return "", Claims{}, errors.New("issue token: empty subject")
	}
	jti, err := newTokenID()
	if err != nil {
		return "", Claims{}, fmt.Errorf("issue token: %w", err)
	}
	iat := time.Unix(now.Unix(), 0).UTC()
	c := Claims{
		Issuer:    i.cfg.Issuer,
		Subject:   subject,
		Audience:  []string{i.cfg.Audience},
		IssuedAt:  iat,
		NotBefore: iat,
		Expiry:    iat.Add(i.cfg.Lifetime),
		ID:        jti,
	}
	raw, err := jwt.Signed(i.keys.cur.Load().signer).Claims(jwt.Claims{
		Issuer:    c.Issuer,
		Subject:   c.Subject,
		Audience:  jwt.Audience(c.Audience),
		Expiry:    jwt.NewNumericDate(c.Expiry),
		NotBefore: jwt.NewNumericDate(c.NotBefore),
		IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
		ID:        c.ID,
	}).Serialize()
	if err != nil {
		return "", Claims{}, fmt.Errorf("issue token: sign: %w", err)
	}
	return raw, c, nil
}

// newTokenID returns a random 128-bit jti: unguessable and collision-free in
// practice, so the revocation denylist can key on it.
func newTokenID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random jti: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
