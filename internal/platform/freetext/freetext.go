// Package freetext is the one rule for text a person types into Mint — names, descriptions, search
// queries: any script, marks, symbols and emoji, and spaces; but no control characters (NUL, CR, LF,
// tab, ESC…) and none of the invisible format characters that hide or reorder text on the screen of
// whoever reads it later — a mail, a statement, an operator's log (bidi overrides and isolates,
// zero-width spaces, word joiners, byte-order marks, tag characters). The zero-width non-joiner and
// joiner stay allowed: Persian and Indic writing and emoji sequences need them.
package freetext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

const (
	zeroWidthNonJoiner = '\u200c'
	zeroWidthJoiner    = '\u200d'
)

// Problem says why s is not acceptable free text ("must not contain …"), or returns "" when it is.
func Problem(s string) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for _, r := range s {
		if msg := runeProblem(r); msg != "" {
			return msg
		}
	}
	return ""
}

func runeProblem(r rune) string {
	switch {
	case r == zeroWidthNonJoiner || r == zeroWidthJoiner:
		return ""
	case unicode.IsControl(r):
		return fmt.Sprintf("must not contain control characters (found %U)", r)
	case unicode.Is(unicode.Cf, r), r == '\u2028', r == '\u2029':
		return fmt.Sprintf("must not contain invisible formatting characters (found %U)", r)
	case unicode.Is(unicode.Co, r), isNoncharacter(r):
		return fmt.Sprintf("must not contain private-use or non-characters (found %U)", r)
	default:
		return ""
	}
}

// isNoncharacter reports the code points Unicode reserves never to be characters.
func isNoncharacter(r rune) bool {
	return r >= 0xFDD0 && r <= 0xFDEF || r&0xFFFE == 0xFFFE
}

// Normalize is how free text is stored: surrounding white space trimmed and the rest in Unicode NFC,
// so that the same visible text is the same string whichever way a keyboard composed it.
func Normalize(s string) string { return norm.NFC.String(strings.TrimSpace(s)) }

// Length is the length of s as a person counts it, in code points.
func Length(s string) int { return utf8.RuneCountInString(s) }
