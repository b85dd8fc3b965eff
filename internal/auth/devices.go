package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/mint-wallet/mint/internal/platform/jwtsign"
	"github.com/mint-wallet/mint/internal/platform/jwtverify"
)

// DeviceCookie holds a device token: proof that this browser signed in to an account before, so the
// login throttle counts its attempts apart from strangers' (throttle.go).
const DeviceCookie = "mint_device"

// deviceAudience is the aud of device tokens. It differs from the session audience, so a device token
// is never accepted as a session, and a session token is never a device.
const deviceAudience = "mint-device"

// DeviceLifetime is how long a device stays recognised after its last sign-in.
const DeviceLifetime = 365 * 24 * time.Hour

// devices issues and recognises device tokens: JWTs signed with the session keys (so every replica
// recognises them without a lookup), subject = the user id, jti = the device id.
type devices struct {
	issuer   *jwtsign.Issuer
	verifier *jwtverify.Verifier
}

func newDevices(keys *jwtsign.KeySet, issuerName string, now func() time.Time) (*devices, error) {
	issuer, err := jwtsign.NewIssuer(keys, jwtsign.Config{Issuer: issuerName, Audience: deviceAudience, Lifetime: DeviceLifetime})
	if err != nil {
		return nil, fmt.Errorf("device tokens: %w", err)
	}
	verifier, err := jwtverify.New(jwtverify.Config{Issuer: issuerName, Audience: deviceAudience,
		Keys: jwtverify.LocalJWKS(keys.JWKS), Revocations: jwtverify.NoRevocations{}, Now: now})
	if err != nil {
		return nil, fmt.Errorf("device tokens: %w", err)
	}
	return &devices{issuer: issuer, verifier: verifier}, nil
}

// recognise returns the device id of token when it is a device of userID, else "", and whether the
// token is old enough (half its lifetime) to be renewed at this sign-in. A token that does not verify
// (forged, expired, signed with a key rotated out) is simply not a recognised device.
func (d *devices) recognise(ctx context.Context, token, userID string, now time.Time) (id string, renew bool) {
	if token == "" {
		return "", false
	}
	c, err := d.verifier.Verify(ctx, token)
	if err != nil || c.Subject != userID {
		return "", false
	}
	return c.ID, now.Sub(c.IssuedAt) > DeviceLifetime/2
}

// issue returns a new device token for userID.
func (d *devices) issue(userID string, now time.Time) (string, error) {
	tok, _, err := d.issuer.Issue(userID, now)
	if err != nil {
		return "", fmt.Errorf("issue device token: %w", err)
	}
	return tok, nil
}
