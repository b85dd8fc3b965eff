package jwtverify

import "context"

// Revocations is the denylist of token ids (jti) revoked before they expire,
// e.g. by logout. The verifier consults it only after a token proved authentic,
// so forged tokens never cost a lookup.
//
// An error from IsRevoked fails closed: Verify returns a failure.Unavailable
// (503), not Unauthenticated (401). Accepting the token could let a logged-out
// session back in; answering 401 would tell every client its session is over
// and log users out for what is really a store outage. A 503 says "retry", and
// shows up as a server-side error in alerts. Implementations that sit on Redis
// should therefore fall back to a durable store themselves, so that a Redis
// outage costs speed rather than availability (ARCHITECTURE §3).
type Revocations interface {
	IsRevoked(ctx context.Context, jti string) (bool, error)
}

// NoRevocations revokes nothing. Config requires a Revocations so that no
// service forgets logout by accident; pass NoRevocations to opt out on purpose
// (tests, tools that only inspect tokens).
type NoRevocations struct{}

// IsRevoked always reports false.
func (NoRevocations) IsRevoked(context.Context, string) (bool, error) { return false, nil }
