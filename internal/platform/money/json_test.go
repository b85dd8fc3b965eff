package money

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/failure"
)

func TestAmountMarshalJSON(t *testing.T) {
	tests := []struct {
		a    Amount
		want string
	}{
		{1050, `{"amount":10.50}`},
		{1, `{"amount":0.01}`},
		{0, `{"amount":0.00}`},
		{-300, `{"amount":-3.00}`},
		{math.MinInt64, `{"amount":-92233720368547758.08}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(struct {
			Amount Amount `json:"amount"`
		}{tt.a})
		if err != nil || string(b) != tt.want {
			t.Errorf("json.Marshal(%d cents) = %s, %v; want %s", tt.a.Cents(), b, err, tt.want)
		}
	}
}

// TestAmountJSONRoundTrip: what a response prints, a client reads back to the cent, signs included.
func TestAmountJSONRoundTrip(t *testing.T) {
	for _, a := range []Amount{0, 1, -1, 1050, -300, MaxTransaction, math.MaxInt64, math.MinInt64} {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var back Amount
		if err := json.Unmarshal(b, &back); err != nil || back != a {
			t.Errorf("%s round-trips as %d, %v", b, back.Cents(), err)
		}
	}
}

func TestAmountUnmarshalJSONRejects(t *testing.T) {
	tests := []struct{ in, message string }{
		{`"10.50"`, msgJSONType},
		{`null`, msgJSONType},
		{`10.005`, msgDecimals},
		{`1e2`, msgExponent},
		{`92233720368547758.08`, msgOutOfInt},
	}
	for _, tt := range tests {
		var a Amount
		err := json.Unmarshal([]byte(tt.in), &a)
		checkInvalid(t, "Amount from "+tt.in, err, DefaultField, tt.message)
	}
}

type topUp struct {
	Amount      Requested `json:"amount"`
	Description string    `json:"description,omitempty"`
}

func TestRequestedAccepts(t *testing.T) {
	tests := []struct {
		body string
		want Amount
	}{
		{`{"amount": 10.50}`, 1050},
		{`{"amount": 10.5}`, 1050},
		{`{"amount": 10}`, 1000},
		{`{"amount": 0.01}`, 1},
		{`{"amount": 1000000.00}`, MaxTransaction},
		{`{"amount": "10.50"}`, 1050},
		{`{"amount": "0.5"}`, 50},
		{`{"amount": "\u0031\u0030"}`, 1000}, // "10", escaped: the grammar applies to the decoded string
	}
	for _, tt := range tests {
		var req topUp
		if err := json.Unmarshal([]byte(tt.body), &req); err != nil {
			t.Errorf("%s: %v", tt.body, err)
			continue
		}
		if got, err := req.Amount.Required(DefaultField); err != nil || got != tt.want {
			t.Errorf("%s: amount %d, %v; want %d cents", tt.body, got, err, tt.want)
		}
	}
}

func TestRequestedRejects(t *testing.T) {
	tests := []struct{ value, message string }{
		{`null`, msgJSONType},
		{`true`, msgJSONType},
		{`false`, msgJSONType},
		{`{}`, msgJSONType},
		{`{"amount": 10}`, msgJSONType},
		{`[]`, msgJSONType},
		{`[10]`, msgJSONType},
		{`"abc"`, msgSyntax},
		{`""`, msgEmpty},
		{`" 10"`, msgSyntax},
		{`"NaN"`, msgSyntax},
		{`"Infinity"`, msgSyntax},
		{`"١٠"`, msgSyntax},
		{`"-1"`, msgPositive},
		{`"010"`, msgLeading},
		{`"1e2"`, msgExponent},
		{`0`, msgPositive},
		{`0.00`, msgPositive},
		{`-1`, msgPositive},
		{`-0`, msgPositive},
		{`10.005`, msgDecimals},
		{`1e2`, msgExponent},
		{`1e400`, msgExponent},
		{`1E-2`, msgExponent},
		{`1000000.01`, msgMax},
		{strings.Repeat("9", 400), msgMax},
	}
	for _, tt := range tests {
		var req topUp
		err := json.Unmarshal([]byte(`{"amount": `+tt.value+`}`), &req)
		checkInvalid(t, fmt.Sprintf("amount %.40s", tt.value), err, DefaultField, tt.message)
	}
}

func TestRequestedMarshalJSON(t *testing.T) {
	var req topUp
	if err := json.Unmarshal([]byte(`{"amount":"10.5"}`), &req); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(req)
	if err != nil || string(b) != `{"amount":10.50}` {
		t.Errorf("json.Marshal = %s, %v", b, err)
	}
}

func TestJSONSchema(t *testing.T) {
	if got := schemaJSON(t, Amount(0).JSONSchema()); got != `{"multipleOf":0.01,"type":"number"}` {
		t.Errorf("Amount schema %s", got)
	}
	want := `{"description":"An amount greater than 0 and at most 1000000.00, with at most two decimals.",` +
		`"examples":[10.5],"oneOf":[{"exclusiveMinimum":0,"maximum":1000000,"multipleOf":0.01,"type":"number"},` +
		`{"pattern":"^(0|[1-9][0-9]{0,6})(\\.[0-9]{1,2})?$","type":"string"}]}`
	if got := schemaJSON(t, Requested{}.JSONSchema()); got != want {
		t.Errorf("Requested schema\n got %s\nwant %s", got, want)
	}
	// The pattern admits what ParseDecimal accepts (the range aside).
	pattern := regexp.MustCompile(requestedPattern)
	for _, s := range []string{"0.01", "10", "10.5", "1000000.00"} {
		if !pattern.MatchString(s) {
			t.Errorf("pattern rejects %q", s)
		}
	}
	for _, s := range []string{"010", "1e2", "10.005", "-1", "10000000"} {
		if pattern.MatchString(s) {
			t.Errorf("pattern admits %q", s)
		}
	}
}

func schemaJSON(t *testing.T, s map[string]any) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzRequestedUnmarshalJSON feeds raw JSON values, as encoding/json would hand them over.
func FuzzRequestedUnmarshalJSON(f *testing.F) {
	for _, s := range []string{`10.50`, `"10.50"`, `null`, `true`, `{}`, `[]`, `"abc"`, `1e400`, `-1`, `"\u0031"`, `"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Requested
		err := r.UnmarshalJSON(data)
		if err != nil {
			if !failure.Is(err, failure.Invalid) || r != (Requested{}) {
				t.Fatalf("UnmarshalJSON(%q) = %v, leaving %+v; want a failure.Invalid and no amount", data, err, r)
			}
			return
		}
		a, err := r.Required(DefaultField)
		if err != nil || a <= 0 || a > MaxTransaction {
			t.Fatalf("UnmarshalJSON(%q) accepted %d, %v; out of (0, MaxTransaction]", data, a, err)
		}
		text := string(data)
		if data[0] == '"' {
			if err := json.Unmarshal(data, &text); err != nil {
				t.Fatalf("UnmarshalJSON(%q) accepted an invalid JSON string", data)
			}
		}
		if !grammar.MatchString(text) {
			t.Fatalf("UnmarshalJSON(%q) accepted %q, outside the grammar", data, text)
		}
		if back, err := ParseDecimal(a.String()); err != nil || back != a {
			t.Fatalf("UnmarshalJSON(%q) = %s, which parses back as %d, %v", data, a, back, err)
		}
	})
}

func BenchmarkMarshalJSON(b *testing.B) {
	a := Amount(12345678)
	for b.Loop() {
		if _, err := a.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}
