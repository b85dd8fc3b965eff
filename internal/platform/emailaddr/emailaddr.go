// Package emailaddr is the one rule for an e-mail address Mint accepts: a plain local@domain.tld a
// mail relay can be handed — no display name, comment or quoting, no IP literal or numeric domain, at
// most 254 bytes in all (RFC 5321's path limit), 64 before the @ and 63 per domain label. The API
// document calls it format "email".
package emailaddr

import (
	"net/mail"
	"strings"
	"unicode"

	"github.com/mint-wallet/mint/internal/platform/freetext"
)

const (
	maxLen      = 254
	maxLocalLen = 64
	maxLabelLen = 63
)

// Valid reports whether s is such an address, exactly as written (no surrounding space).
func Valid(s string) bool {
	if len(s) > maxLen || freetext.Problem(s) != "" {
		return false
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	return at >= 1 && len(local) <= maxLocalLen && validDomain(domain)
}

// validDomain accepts a host name of at least two labels — letters (any script), digits and inner
// hyphens — whose last label is not numeric. IP literals ("[127.0.0.1]", "127.0.0.1") are refused:
// mail for them would be relayed to an address of the sender's choosing.
func validDomain(domain string) bool {
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabelLen || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.M, r) {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.IndexFunc(tld, func(r rune) bool { return !unicode.IsDigit(r) }) >= 0
}
