package jwtverify

import (
	"context"
	"net/http"

	"github.com/mint-wallet/mint/internal/platform/failure"
)

type claimsKey struct{}

// WithClaims returns ctx carrying the verified claims of the caller.
func WithClaims(ctx context.Context, c Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFrom returns the verified claims ctx carries.
func ClaimsFrom(ctx context.Context) (Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(Claims)
	return c, ok
}

// Caller is the user id (subject) of r's verified caller, "" on a route that was not authenticated.
func Caller(r *http.Request) string {
	c, _ := ClaimsFrom(r.Context())
	return c.Subject
}

// Authenticate verifies the token of r (Bearer or session cookie) and returns r's context carrying its
// claims. It has the shape of httpx.Authenticator.
func (v *Verifier) Authenticate(r *http.Request) (context.Context, error) {
	raw, ok := TokenFromRequest(r)
	if !ok {
		return nil, failure.New(failure.Unauthenticated, "sign in: send the mint_session cookie or an Authorization: Bearer token")
	}
	c, err := v.Verify(r.Context(), raw)
	if err != nil {
		return nil, err
	}
	return WithClaims(r.Context(), c), nil
}
