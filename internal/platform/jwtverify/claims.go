package jwtverify

import "time"

// The issuer and audience Mint's tokens carry unless configured otherwise. The
// auth service's issuer uses the same defaults, so both ends agree by default.
const (
	DefaultIssuer   = "mint-auth"
	DefaultAudience = "mint"
)

// Claims are the registered claims of a verified Mint access token. Times have
// whole-second precision, as JWT NumericDates do.
type Claims struct {
	Issuer    string
	Subject   string // the user id
	Audience  []string
	Expiry    time.Time
	NotBefore time.Time // zero when the token has no nbf
	IssuedAt  time.Time
	ID        string // jti, the key of the revocation denylist
}
