package strictjson_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/strictjson"
)

type refusal struct{}

var errRefused = errors.New("refused")

func (*refusal) UnmarshalJSON([]byte) error { return errRefused }

type embedded struct {
	Inner string `json:"inner"`
}

type target struct {
	embedded
	Name    string            `json:"name"`
	Count   int64             `json:"count"`
	Ratio   float64           `json:"ratio"`
	Active  bool              `json:"active"`
	Middle  *string           `json:"middle,omitempty"`
	Tags    []string          `json:"tags"`
	Labels  map[string]string `json:"labels"`
	At      time.Time         `json:"at"`
	Refused refusal           `json:"refused"`
	Address struct {
		City string `json:"city"`
	} `json:"address"`
}

func TestUnmarshal(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		wantField   string
		wantProblem string // "" = decodes
		wantSyntax  bool
	}{
		{name: "every field", in: `{"inner":"i","name":"n","count":3,"ratio":0.5,"active":true,"middle":"m","tags":["a"],"labels":{"k":"v"},"at":"2026-01-02T03:04:05Z","address":{"city":"Oslo"}}`},
		{name: "nulls", in: `{"name":null,"middle":null,"tags":null}`},
		{name: "surrounding whitespace", in: " \n{}\t"},

		{name: "duplicate name", in: `{"count":1,"count":1000000}`, wantField: "count", wantProblem: "appears more than once"},
		{name: "duplicate nested name", in: `{"address":{"city":"a","city":"b"}}`, wantField: "address.city", wantProblem: "appears more than once"},
		{name: "duplicate map key", in: `{"labels":{"k":"a","k":"b"}}`, wantField: "labels.k", wantProblem: "appears more than once"},
		{name: "case variant", in: `{"Count":7}`, wantField: "Count", wantProblem: `is not a known field (names are case-sensitive: "count")`},
		{name: "upper case", in: `{"NAME":"Al"}`, wantField: "NAME", wantProblem: `is not a known field (names are case-sensitive: "name")`},
		{name: "case variant beside the real one", in: `{"count":1,"COUNT":9}`, wantField: "COUNT", wantProblem: `is not a known field (names are case-sensitive: "count")`},
		{name: "case variant of an embedded field", in: `{"Inner":"x"}`, wantField: "Inner", wantProblem: `is not a known field (names are case-sensitive: "inner")`},
		{name: "unknown", in: `{"isAdmin":true}`, wantField: "isAdmin", wantProblem: "is not a known field"},
		{name: "unknown nested", in: `{"address":{"zip":"1"}}`, wantField: "address.zip", wantProblem: "is not a known field"},
		{name: "invalid UTF-8", in: "{\"name\":\"\xff\xfe\"}", wantField: "name", wantProblem: "must be valid UTF-8"},
		{name: "invalid UTF-8 in a name", in: "{\"\xff\":1}", wantProblem: "must be valid UTF-8"},

		{name: "number for a string", in: `{"name":1}`, wantField: "name", wantProblem: "must be a string"},
		{name: "string for an integer", in: `{"count":"1"}`, wantField: "count", wantProblem: "must be an integer"},
		{name: "fraction for an integer", in: `{"count":1.5}`, wantField: "count", wantProblem: "must be an integer"},
		{name: "overflow for an integer", in: `{"count":1e99}`, wantField: "count", wantProblem: "must be an integer"},
		{name: "string for a number", in: `{"ratio":"1"}`, wantField: "ratio", wantProblem: "must be a number"},
		{name: "number for a bool", in: `{"active":1}`, wantField: "active", wantProblem: "must be a boolean"},
		{name: "object for an array", in: `{"tags":{}}`, wantField: "tags", wantProblem: "must be an array"},
		{name: "array element", in: `{"tags":["a",1]}`, wantField: "tags[1]", wantProblem: "must be a string"},
		{name: "array for an object", in: `{"address":[]}`, wantField: "address", wantProblem: "must be a JSON object"},
		{name: "top-level array", in: `[]`, wantProblem: "must be a JSON object"},
		{name: "top-level string", in: `"x"`, wantProblem: "must be a JSON object"},
		{name: "bad time", in: `{"at":"yesterday"}`, wantField: "at", wantProblem: "*"},
		{name: "field type refuses", in: `{"refused":1}`, wantField: "refused", wantProblem: "is invalid: refused"},

		{name: "empty", in: ``, wantProblem: "is not valid JSON", wantSyntax: true},
		{name: "truncated", in: `{"name":"x"`, wantProblem: "is not valid JSON", wantSyntax: true},
		{name: "trailing comma", in: `{"name":"x",}`, wantProblem: "is not valid JSON", wantSyntax: true},
		{name: "two values", in: `{}{}`, wantProblem: "is not valid JSON", wantSyntax: true},
		{name: "trailing garbage", in: `{} x`, wantProblem: "is not valid JSON", wantSyntax: true},
		{name: "single quotes", in: `{'name':'x'}`, wantProblem: "is not valid JSON", wantSyntax: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v target
			err := strictjson.Unmarshal([]byte(tt.in), &v)
			if tt.wantProblem == "" {
				if err != nil {
					t.Fatalf("Unmarshal: %v", err)
				}
				return
			}
			var e *strictjson.Error
			if !errors.As(err, &e) {
				t.Fatalf("Unmarshal = %v, want a *strictjson.Error", err)
			}
			if e.Field != tt.wantField || (tt.wantProblem != "*" && e.Problem != tt.wantProblem) || e.Syntax != tt.wantSyntax {
				t.Errorf("error = {Field: %q, Problem: %q, Syntax: %v}, want {%q, %q, %v}", e.Field, e.Problem, e.Syntax,
					tt.wantField, tt.wantProblem, tt.wantSyntax)
			}
		})
	}
}

func TestUnmarshalKeepsTheFieldTypesError(t *testing.T) {
	var v target
	err := strictjson.Unmarshal([]byte(`{"refused":true}`), &v)
	if !errors.Is(err, errRefused) {
		t.Fatalf("Unmarshal = %v, want it to wrap the field type's own error", err)
	}
}
