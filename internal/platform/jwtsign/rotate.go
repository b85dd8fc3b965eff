package jwtsign

import (
	"errors"
	"fmt"
	"time"
)

// RetirementGrace is kept on top of the token lifetime before Rotate drops a
// retired key. A token signed just before retirement is still accepted up to
// jwtverify.MaxLeeway (60 s) past its exp, and a running auth service may sign
// with the old key until its next reload (every 5 s in the auth service); dropping the key at
// exactly one lifetime would reject such tokens early.
const RetirementGrace = 2 * time.Minute

// Generate writes a new key set with one fresh key to path. It fails with an
// error matching fs.ErrExist when path exists, unless overwrite is set —
// overwriting invalidates every token issued so far.
func Generate(path string, overwrite bool) error {
	k, err := newSigningKey(time.Now())
	if err != nil {
		return err
	}
	return writeKeyFile(path, []signingKey{k}, overwrite)
}

// Rotate adds a new signing key to the key set at path and returns its kid.
// The previous signing key is marked retired at now but stays, so tokens it
// signed keep verifying until they expire; keys retired more than
// tokenLifetime + RetirementGrace before now are dropped, since every token
// they signed has expired.
//
// Rotate does not lock the file against a concurrent Rotate; run one at a time.
func Rotate(path string, now time.Time, tokenLifetime time.Duration) (newKid string, err error) {
	if tokenLifetime <= 0 {
		return "", errors.New("rotate keys: token lifetime must be positive")
	}
	keys, err := readKeyFile(path)
	if err != nil {
		return "", fmt.Errorf("rotate keys: %w", err)
	}
	next, err := newSigningKey(now)
	if err != nil {
		return "", fmt.Errorf("rotate keys: %w", err)
	}
	keys[len(keys)-1].retiredAt = now.UTC()
	keys = append(prune(keys, now, tokenLifetime+RetirementGrace), next)
	if err := writeKeyFile(path, keys, true); err != nil {
		return "", fmt.Errorf("rotate keys: %w", err)
	}
	return next.kid, nil
}

// prune returns the keys not retired more than keep before now.
func prune(keys []signingKey, now time.Time, keep time.Duration) []signingKey {
	kept := keys[:0]
	for _, k := range keys {
		if k.retiredAt.IsZero() || now.Sub(k.retiredAt) <= keep {
			kept = append(kept, k)
		}
	}
	return kept
}
