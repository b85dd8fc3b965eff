package jwtverify

import (
	"crypto/rsa"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	// verifiedTTL bounds how long a proven signature is remembered. A key withdrawn from the JWKS
	// stops being honoured as soon as the key source stops serving it: every hit asks the source.
	verifiedTTL = time.Minute
	// verifiedMax bounds the cache's memory (about 300 bytes an entry).
	verifiedMax = 1 << 14
)

// verifiedCache remembers tokens whose signature was verified, keyed by the SHA-256 of the whole
// token: only the exact bytes that were proven authentic hit. It holds signature results only; the
// caller re-checks the key, exp/nbf/iat and revocation on every use.
type verifiedCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]verifiedEntry
}

type verifiedEntry struct {
	claims jwt.Claims
	kid    string
	key    *rsa.PublicKey // the key that verified it; a hit requires the source still serves it
	until  time.Time
}

func newVerifiedCache() *verifiedCache {
	return &verifiedCache{entries: make(map[[sha256.Size]byte]verifiedEntry)}
}

func (c *verifiedCache) get(raw string, now time.Time) (verifiedEntry, bool) {
	k := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || !now.Before(e.until) {
		return verifiedEntry{}, false
	}
	return e, true
}

func (c *verifiedCache) put(raw string, e verifiedEntry, now time.Time) {
	k := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= verifiedMax {
		for key, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, key)
			}
		}
		if len(c.entries) >= verifiedMax {
			clear(c.entries) // a burst of distinct tokens: start over rather than grow
		}
	}
	e.until = now.Add(verifiedTTL)
	c.entries[k] = e
}
