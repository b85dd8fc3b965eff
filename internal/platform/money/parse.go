package money

import (
	"errors"
	"math"

	"github.com/mint-wallet/mint/internal/platform/failure"
)

// DefaultField is the field that parse errors name until a caller renames them with WithField:
// every request amount in CONTRACT.md is the body field "amount".
const DefaultField = "body.amount"

// op marks the failures this package builds, so that WithField renames only those.
const op = "money"

// The client-facing messages of a rejected amount. They describe the rule, never echo the input.
const (
	msgSyntax   = "must be a decimal number like 10.50"
	msgEmpty    = "must not be empty"
	msgLeading  = "must not have leading zeros"
	msgExponent = "must be written without an exponent, like 10.50"
	msgDecimals = "must have at most two decimals"
	msgPositive = "must be greater than 0"
	msgJSONType = "must be a number like 10.50"
	msgOutOfInt = "is out of range"
)

var msgMax = "must be at most " + MaxTransaction.String()

// ParseDecimal parses a request amount from its exact text: a decimal with at most two decimals,
// no sign, exponent, spaces or leading zeros, in (0, MaxTransaction] (the package doc gives the
// grammar). It rejects anything else with a failure.Invalid error naming DefaultField, and does
// so without allocating for the value, however long s is.
func ParseDecimal(s string) (Amount, error) {
	a, msg := parseRequested(s)
	if msg != "" {
		return 0, invalid(msg)
	}
	return a, nil
}

// parseRequested is ParseDecimal returning the reason for a rejection instead of an error.
func parseRequested(s string) (Amount, string) {
	a, msg := parseSigned(s)
	switch {
	case msg == msgOutOfInt:
		if s[0] == '-' {
			return 0, msgPositive
		}
		return 0, msgMax
	case msg != "":
		return 0, msg
	case a <= 0:
		return 0, msgPositive
	case a > MaxTransaction:
		return 0, msgMax
	}
	return a, ""
}

// parseSigned parses -?(0|[1-9][0-9]*)(\.[0-9]{1,2})? into cents, the grammar of a request amount
// with an optional minus sign — the exact inverse of Amount.String. It returns the reason when s
// does not match or does not fit in an int64. It scans s once and never allocates.
func parseSigned(s string) (Amount, string) {
	if s == "" {
		return 0, msgEmpty
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	// The magnitude is accumulated as a uint64 of whole units; past maxUnits it cannot fit.
	const maxUnits = (math.MaxInt64 + 1) / centsPerUnit
	var units uint64
	i := 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		// Past maxUnits keep scanning without accumulating: a syntax error later in s is the
		// better message, and units stays past maxUnits to report the overflow after.
		if units <= maxUnits {
			units = units*10 + uint64(s[i]-'0')
		}
	}
	switch {
	case i == 0:
		return 0, msgSyntax
	case s[0] == '0' && i > 1:
		return 0, msgLeading
	}
	var frac uint64
	decimals := 0
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && isDigit(s[i]); i++ {
			if decimals < 2 {
				frac = frac*10 + uint64(s[i]-'0')
			}
			decimals++
		}
		if decimals == 0 {
			return 0, msgSyntax
		}
		if decimals == 1 {
			frac *= 10 // "10.5" is 10.50
		}
	}
	switch {
	case i < len(s) && (s[i] == 'e' || s[i] == 'E'):
		return 0, msgExponent
	case i < len(s):
		return 0, msgSyntax
	case decimals > 2:
		return 0, msgDecimals
	case units > maxUnits:
		return 0, msgOutOfInt
	}
	mag := units*centsPerUnit + frac // at most maxUnits*100 + 99, far below 1<<64: no wrap
	switch {
	case neg && mag <= math.MaxInt64+1:
		return Amount(-mag), "" // two's complement: -(MaxInt64+1) is MinInt64
	case !neg && mag <= math.MaxInt64:
		return Amount(mag), ""
	}
	return 0, msgOutOfInt
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// invalid is the failure for a rejected amount, naming DefaultField. The message is repeated as the
// (never shown) cause so that logs and test output read well.
func invalid(msg string) *failure.Error {
	return &failure.Error{
		Kind:   failure.Invalid,
		Op:     op,
		Detail: "the request is invalid",
		Fields: []failure.FieldError{{Field: DefaultField, Message: msg}},
		Err:    errors.New(msg),
	}
}

// WithField returns err with its field renamed to field when err is an amount rejection of this
// package (from ParseDecimal or Requested), e.g. WithField(err, "body.fee"); any other error is
// returned as it is. The original error is not modified.
func WithField(err error, field string) error {
	var fe *failure.Error
	if !errors.As(err, &fe) || fe.Op != op || len(fe.Fields) != 1 {
		return err
	}
	renamed := *fe
	renamed.Fields = []failure.FieldError{{Field: field, Message: fe.Fields[0].Message}}
	return &renamed
}
