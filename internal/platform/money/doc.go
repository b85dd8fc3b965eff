// Package money is Mint's exact money: an Amount is an int64 count of minor units (cents), never a
// float64, because binary floating point cannot hold 0.10 and sums of such values drift
// (ARCHITECTURE §2.1).
//
// The API speaks decimal numbers with at most two decimals (CONTRACT "Amounts"). They are parsed
// from the exact JSON text — the digits the client sent — so 10.005 or 1e400 are rejected instead
// of being rounded by a float conversion on the way in.
//
// # Request amounts
//
// A request body declares its amount as a Requested, which accepts a JSON number (10.50) or a JSON
// string ("10.50") matching the grammar of ParseDecimal:
//
//	amount  = int [ "." digit [ digit ] ]
//	int     = "0" | nonzero { digit }      (no leading zeros, as in JSON)
//	nonzero = "1" … "9"
//	digit   = "0" … "9"                    (ASCII only)
//
// with a value in (0, MaxTransaction]. No sign, exponent, spaces, separators or other characters.
// Leading zeros ("010") are rejected for both forms: JSON forbids them in numbers, and accepting
// them only inside strings would make the two forms disagree; "0.5" is fine.
//
// # Naming the field in errors
//
// Rejections are *failure.Error values of kind failure.Invalid carrying one failure.FieldError.
// encoding/json does not tell UnmarshalJSON which field it is decoding, so the error names
// DefaultField ("body.amount"), the name every request amount has in CONTRACT.md. A caller that
// decodes an amount under another name renames the error with WithField. A missing field never
// reaches UnmarshalJSON at all, so handlers ask Requested.Required(field), which names the field
// itself.
//
// # Output
//
// Amount marshals to a JSON number with exactly two decimals ("10.50", "-3.00"): a valid JSON number
// with the exact decimal value, which reads like money. Signed amounts appear in ledger history.
// Storage and events carry int64 cents (Cents, FromCents).
package money
