package money

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/failure"
)

// grammar is the accepted language of ParseDecimal as a regular expression, written independently
// of the scanner so that tests and fuzzing can check one against the other.
var grammar = regexp.MustCompile(`^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$`)

func TestParseDecimalAccepts(t *testing.T) {
	tests := []struct {
		in   string
		want Amount
	}{
		{"10", 1000},
		{"10.5", 1050},
		{"10.50", 1050},
		{"0.01", 1},
		{"0.1", 10},
		{"0.5", 50},
		{"0.10", 10},
		{"1", 100},
		{"999999.99", 99999999},
		{"1000000", MaxTransaction},
		{"1000000.0", MaxTransaction},
		{"1000000.00", MaxTransaction},
		{"123.45", 12345},
	}
	for _, tt := range tests {
		got, err := ParseDecimal(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDecimal(%q) = %d, %v; want %d cents", tt.in, got, err, tt.want)
		}
	}
}

func TestParseDecimalRejects(t *testing.T) {
	tests := []struct {
		in, message string
	}{
		{"", msgEmpty},
		{"0", msgPositive},
		{"0.0", msgPositive},
		{"0.00", msgPositive},
		{"-1", msgPositive},
		{"-0", msgPositive},
		{"-0.01", msgPositive},
		{"-" + strings.Repeat("9", 400), msgPositive},
		{"+1", msgSyntax},
		{"10.005", msgDecimals},
		{"10.500", msgDecimals},
		{"0.001", msgDecimals},
		{"1000000.01", msgMax},
		{"1000001", msgMax},
		{"92233720368547758.07", msgMax}, // MaxInt64 cents
		{"92233720368547758.08", msgMax}, // one cent past it
		{strings.Repeat("9", 400), msgMax},
		{"1" + strings.Repeat("0", 400) + ".00", msgMax},
		{"1e2", msgExponent},
		{"1E2", msgExponent},
		{"1e400", msgExponent},
		{"1.5e-1", msgExponent},
		{strings.Repeat("9", 400) + "e1", msgExponent},
		{"010", msgLeading},
		{"00", msgLeading},
		{"00.5", msgLeading},
		{"NaN", msgSyntax},
		{"Infinity", msgSyntax},
		{"-Infinity", msgSyntax},
		{".5", msgSyntax},
		{"5.", msgSyntax},
		{"5..0", msgSyntax},
		{"1,00", msgSyntax},
		{"1_000", msgSyntax},
		{"0x10", msgSyntax},
		{" 1", msgSyntax},
		{"1 ", msgSyntax},
		{"1\n", msgSyntax},
		{"1\x00", msgSyntax},
		{"١٠", msgSyntax}, // Arabic-Indic digits
		{"１０", msgSyntax}, // fullwidth digits
		{"abc", msgSyntax},
		{`"10"`, msgSyntax},
		{"--1", msgSyntax},
	}
	for _, tt := range tests {
		got, err := ParseDecimal(tt.in)
		if err == nil {
			t.Errorf("ParseDecimal(%.40q) = %d, want an error", tt.in, got)
			continue
		}
		checkInvalid(t, fmt.Sprintf("ParseDecimal(%.40q)", tt.in), err, DefaultField, tt.message)
	}
}

// TestParseDecimalRoundTrip: every accepted value prints as text that parses to the same value.
func TestParseDecimalRoundTrip(t *testing.T) {
	for _, in := range []string{"0.01", "0.1", "10.5", "10", "999999.99", "1000000"} {
		a, err := ParseDecimal(in)
		if err != nil {
			t.Fatalf("ParseDecimal(%q): %v", in, err)
		}
		back, err := ParseDecimal(a.String())
		if err != nil || back != a {
			t.Errorf("ParseDecimal(%q) = %s, which parses back as %d, %v", in, a, back, err)
		}
	}
}

// TestParseSignedBounds pins the int64 edges of the signed grammar that Amount.UnmarshalJSON reads.
func TestParseSignedBounds(t *testing.T) {
	tests := []struct {
		in      string
		want    Amount
		message string
	}{
		{"92233720368547758.07", 1<<63 - 1, ""},
		{"92233720368547758.08", 0, msgOutOfInt},
		{"-92233720368547758.08", -1 << 63, ""},
		{"-92233720368547758.09", 0, msgOutOfInt},
		{"92233720368547759", 0, msgOutOfInt},
		{"922337203685477580", 0, msgOutOfInt},
		{"-0.5", -50, ""},
	}
	for _, tt := range tests {
		got, msg := parseSigned(tt.in)
		if got != tt.want || msg != tt.message {
			t.Errorf("parseSigned(%q) = %d, %q; want %d, %q", tt.in, got, msg, tt.want, tt.message)
		}
	}
}

func TestWithField(t *testing.T) {
	_, err := ParseDecimal("1e2")
	renamed := WithField(err, "body.fee")
	checkInvalid(t, "WithField", renamed, "body.fee", msgExponent)
	checkInvalid(t, "the original", err, DefaultField, msgExponent) // left as it was

	other := failure.InvalidFields(failure.FieldError{Field: "body.email", Message: "is required"})
	checkInvalid(t, "another package's error", WithField(other, "body.fee"), "body.email", "is required")
	if WithField(nil, "body.fee") != nil {
		t.Error("WithField(nil) is not nil")
	}
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"10", "10.50", "0.01", "1000000.00", "0", "-1", "1e400", "10.005", "٠"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseDecimal(s)
		if err != nil {
			if a != 0 || !failure.Is(err, failure.Invalid) {
				t.Fatalf("ParseDecimal(%q) = %d, %v; want 0 and a failure.Invalid", s, a, err)
			}
			return
		}
		if a <= 0 || a > MaxTransaction {
			t.Fatalf("ParseDecimal(%q) = %d, out of (0, MaxTransaction]", s, a)
		}
		if !grammar.MatchString(s) {
			t.Fatalf("ParseDecimal(%q) accepted text outside the grammar", s)
		}
		if back, err := ParseDecimal(a.String()); err != nil || back != a {
			t.Fatalf("ParseDecimal(%q) = %s, which parses back as %d, %v", s, a, back, err)
		}
	})
}

func BenchmarkParseDecimal(b *testing.B) {
	for b.Loop() {
		if _, err := ParseDecimal("123456.78"); err != nil {
			b.Fatal(err)
		}
	}
}

// checkInvalid asserts that err is a failure.Invalid naming field with message.
func checkInvalid(t *testing.T, what string, err error, field, message string) {
	t.Helper()
	var fe *failure.Error
	switch {
	case !errors.As(err, &fe):
		t.Errorf("%s: error %v is not a *failure.Error", what, err)
	case fe.Kind != failure.Invalid:
		t.Errorf("%s: kind %q, want %q", what, fe.Kind, failure.Invalid)
	case len(fe.Fields) != 1 || fe.Fields[0] != (failure.FieldError{Field: field, Message: message}):
		t.Errorf("%s: fields %+v, want [{%s %s}]", what, fe.Fields, field, message)
	}
}
