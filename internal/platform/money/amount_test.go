package money

import (
	"errors"
	"math"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct {
		a    Amount
		want string
	}{
		{0, "0.00"},
		{1, "0.01"},
		{10, "0.10"},
		{99, "0.99"},
		{100, "1.00"},
		{1050, "10.50"},
		{-1, "-0.01"},
		{-300, "-3.00"},
		{MaxTransaction, "1000000.00"},
		{math.MaxInt64, "92233720368547758.07"},
		{math.MinInt64, "-92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("Amount(%d).String() = %q, want %q", int64(tt.a), got, tt.want)
		}
	}
}

func TestCents(t *testing.T) {
	for _, n := range []int64{0, 1, -1, 1050, math.MaxInt64, math.MinInt64} {
		if got := FromCents(n).Cents(); got != n {
			t.Errorf("FromCents(%d).Cents() = %d", n, got)
		}
	}
}

func TestAdd(t *testing.T) {
	tests := []struct {
		a, b     Amount
		want     Amount
		overflow bool
	}{
		{1, 2, 3, false},
		{-5, 3, -2, false},
		{math.MaxInt64, 0, math.MaxInt64, false},
		{math.MaxInt64 - 1, 1, math.MaxInt64, false},
		{math.MaxInt64, 1, 0, true},
		{math.MaxInt64, math.MaxInt64, 0, true},
		{math.MinInt64, -1, 0, true},
		{math.MinInt64, math.MinInt64, 0, true},
		{math.MinInt64, math.MaxInt64, -1, false},
		{math.MinInt64 + 1, -1, math.MinInt64, false},
	}
	for _, tt := range tests {
		got, err := tt.a.Add(tt.b)
		checkArith(t, "Add", tt.a, tt.b, got, err, tt.want, tt.overflow)
	}
}

func TestSub(t *testing.T) {
	tests := []struct {
		a, b     Amount
		want     Amount
		overflow bool
	}{
		{5, 3, 2, false},
		{3, 5, -2, false},
		{math.MinInt64, 1, 0, true},
		{math.MinInt64 + 1, 1, math.MinInt64, false},
		{math.MaxInt64, -1, 0, true},
		{0, math.MinInt64, 0, true},
		{-1, math.MinInt64, math.MaxInt64, false},
		{math.MaxInt64, math.MaxInt64, 0, false},
	}
	for _, tt := range tests {
		got, err := tt.a.Sub(tt.b)
		checkArith(t, "Sub", tt.a, tt.b, got, err, tt.want, tt.overflow)
	}
}

func TestNeg(t *testing.T) {
	tests := []struct {
		a        Amount
		want     Amount
		overflow bool
	}{
		{0, 0, false},
		{300, -300, false},
		{-300, 300, false},
		{math.MaxInt64, -math.MaxInt64, false},
		{math.MinInt64 + 1, math.MaxInt64, false},
		{math.MinInt64, 0, true},
	}
	for _, tt := range tests {
		got, err := tt.a.Neg()
		checkArith(t, "Neg", tt.a, 0, got, err, tt.want, tt.overflow)
	}
}

func TestSum(t *testing.T) {
	tests := []struct {
		name     string
		amounts  []Amount
		want     Amount
		overflow bool
	}{
		{"none", nil, 0, false},
		{"one", []Amount{42}, 42, false},
		{"mixed signs", []Amount{1050, -300, 1}, 751, false},
		{"up to the max", []Amount{math.MaxInt64 - 2, 1, 1}, math.MaxInt64, false},
		{"past the max", []Amount{math.MaxInt64, 1, -1}, 0, true},
		{"past the min", []Amount{math.MinInt64, -1}, 0, true},
	}
	for _, tt := range tests {
		got, err := Sum(tt.amounts...)
		checkArith(t, "Sum "+tt.name, 0, 0, got, err, tt.want, tt.overflow)
	}
}

// TestTenDimes is the reason this package exists: 0.1 added ten times is 1.00 exactly, where
// float64 gives 0.9999999999999999.
func TestTenDimes(t *testing.T) {
	dime, err := ParseDecimal("0.1")
	if err != nil {
		t.Fatal(err)
	}
	dimes := make([]Amount, 10)
	for i := range dimes {
		dimes[i] = dime
	}
	total, err := Sum(dimes...)
	if err != nil {
		t.Fatal(err)
	}
	if total != 100 || total.String() != "1.00" {
		t.Errorf("ten times 0.1 = %s (%d cents), want 1.00", total, total.Cents())
	}
}

func checkArith(t *testing.T, op string, a, b, got Amount, err error, want Amount, overflow bool) {
	t.Helper()
	switch {
	case overflow && !errors.Is(err, ErrOverflow):
		t.Errorf("%s(%d, %d) = %d, %v; want ErrOverflow", op, a, b, got, err)
	case !overflow && (err != nil || got != want):
		t.Errorf("%s(%d, %d) = %d, %v; want %d", op, a, b, got, err, want)
	}
}
