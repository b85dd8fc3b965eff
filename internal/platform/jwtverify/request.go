package jwtverify

import (
	"net/http"
	"strings"
)

// CookieName is the session cookie the auth service sets (CONTRACT.md "Auth").
const CookieName = "mint_session"

// TokenFromRequest returns the raw token of r: from "Authorization: Bearer
// <token>" when present, else from the mint_session cookie. Bearer wins because
// an API client that sends one means it, while a cookie may be left over from a
// browser session. It reports false when neither carries a token.
func TokenFromRequest(r *http.Request) (string, bool) {
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		if tok = strings.TrimSpace(tok); tok != "" {
			return tok, true
		}
	}
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		return c.Value, true
	}
	return "", false
}
