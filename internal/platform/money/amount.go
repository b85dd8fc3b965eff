package money

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Amount is a signed sum of money in minor units (cents). It is signed because ledger entries
// debit as well as credit; request amounts are checked to be positive when parsed.
type Amount int64

// MaxTransaction is the most one transaction may move: 1,000,000.00 (CONTRACT "Amounts").
const MaxTransaction Amount = 1_000_000_00

// DefaultCurrency is the ISO 4217 currency of every amount unless a deployment sets another.
const DefaultCurrency = "USD"

// centsPerUnit is the number of minor units in a major unit; the API shows two decimals.
const centsPerUnit = 100

// ErrOverflow reports arithmetic whose result does not fit in an int64 of cents. No real balance
// comes near that (92 quadrillion), so it means corrupted data or a bug: callers treat it as internal.
var ErrOverflow = errors.New("money: amount overflows int64")

// FromCents returns the amount of n minor units, e.g. as read from storage or an event.
func FromCents(n int64) Amount { return Amount(n) }

// Cents returns a as a count of minor units, the form kept in storage and events.
func (a Amount) Cents() int64 { return int64(a) }

// String formats a as a decimal with exactly two decimals: "10.50", "0.01", "-3.00".
func (a Amount) String() string {
	var buf [24]byte // sign, 17 digits, point, 2 decimals
	return string(a.appendDecimal(buf[:0]))
}

// appendDecimal appends a's decimal form; it works on the magnitude as a uint64 so that the most
// negative int64 formats too.
func (a Amount) appendDecimal(b []byte) []byte {
	mag := uint64(a)
	if a < 0 {
		b = append(b, '-')
		mag = -mag // two's complement: correct for math.MinInt64 as well
	}
	b = strconv.AppendUint(b, mag/centsPerUnit, 10)
	frac := mag % centsPerUnit
	return append(b, '.', byte('0'+frac/10), byte('0'+frac%10))
}

// Add returns a+b, or ErrOverflow.
func (a Amount) Add(b Amount) (Amount, error) {
	c := a + b
	// Overflow happened iff a and b have the same sign and c's sign differs from it.
	if (a^c)&(b^c) < 0 {
		return 0, fmt.Errorf("%w: %s + %s", ErrOverflow, a, b)
	}
	return c, nil
}

// Sub returns a-b, or ErrOverflow.
func (a Amount) Sub(b Amount) (Amount, error) {
	c := a - b
	// Overflow happened iff a and b have different signs and c's sign differs from a's.
	if (a^b)&(a^c) < 0 {
		return 0, fmt.Errorf("%w: %s - %s", ErrOverflow, a, b)
	}
	return c, nil
}

// Neg returns -a, or ErrOverflow for the most negative amount, which has no positive counterpart.
func (a Amount) Neg() (Amount, error) {
	if a == math.MinInt64 {
		return 0, fmt.Errorf("%w: -(%s)", ErrOverflow, a)
	}
	return -a, nil
}

// Sum returns the total of amounts (0 for none), or ErrOverflow as soon as a partial sum overflows.
func Sum(amounts ...Amount) (Amount, error) {
	var total Amount
	for _, a := range amounts {
		var err error
		if total, err = total.Add(a); err != nil {
			return 0, err
		}
	}
	return total, nil
}
