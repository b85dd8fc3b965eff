// Package jwtverify verifies Mint access tokens in every service.
//
// Tokens are RS256 JWTs issued by the auth service (with internal/platform/jwtsign) and
// carry kid = the RFC 7638 thumbprint of the signing key. A Verifier checks,
// in this order: size and compact form, the algorithm against an allowlist of
// exactly RS256 (never the token's own say-so), the signature with the key
// its kid names, then iss, aud, exp, nbf and iat (≤ 60 s leeway) and the
// presence of sub and jti, and last the revocation denylist. Every rejection is
// a *failure.Error of kind Unauthenticated with a generic detail; the reason
// stays in the wrapped cause, for logs only.
//
// Keys come from a KeySource: RemoteJWKS for services that fetch the auth
// service's /.well-known/jwks.json, LocalJWKS for the auth service itself and
// `mint dev`, where the key set lives in the same process.
package jwtverify
