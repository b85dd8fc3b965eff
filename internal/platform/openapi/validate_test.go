package openapi

import (
	"fmt"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/failure"
)

type validated struct {
	Name     string     `json:"name" minLength:"1" maxLength:"5"`
	Middle   *string    `json:"middle,omitempty" maxLength:"3"`
	Email    string     `json:"email,omitempty" format:"email"`
	ID       string     `json:"id,omitempty" pattern:"^[0-9a-f]{4}$"`
	Kind     string     `json:"kind,omitempty" enum:"a,b"`
	Count    int        `json:"count" minimum:"1" maximum:"10"`
	Step     int64      `json:"step,omitempty" multipleOf:"5"`
	Tags     []string   `json:"tags,omitempty" maxItems:"2"`
	Items    []item     `json:"items,omitempty"`
	Next     *item      `json:"next,omitempty"`
	Secret   string     `json:"secret,omitempty" format:"password"`
	Ignored  bool       `json:"ignored" doc:"a description is not a constraint"`
	embedded            // promoted members are checked as the document shows them
	Self     *validated `json:"self,omitempty"`
	Amount   money      `json:"amount"` // reads its own JSON: checked only for being there
}

type item struct {
	Code string `json:"code" minLength:"2"`
}

type embedded struct {
	Note string `json:"note,omitempty" maxLength:"2"`
}

func ptr[T any](v T) *T { return &v }

func TestValidate(t *testing.T) {
	ok := func() validated { return validated{Name: "Ada", Count: 1, Amount: money{1}} }
	with := func(f func(*validated)) validated { v := ok(); f(&v); return v }
	tests := []struct {
		name string
		v    validated
		want []failure.FieldError
	}{
		{"valid", ok(), nil},
		{"every optional member valid", with(func(v *validated) {
			v.Middle, v.Email, v.ID, v.Kind, v.Step, v.Tags = ptr("Kin"), "ada@example.com", "0a1b", "b", 15, []string{"x", "y"}
			v.Items, v.Next, v.Self, v.Note = []item{{"ab"}}, &item{"cd"}, &validated{Name: "B", Count: 2, Amount: money{2}}, "hi"
		}), nil},
		{"missing required text", with(func(v *validated) { v.Name = "" }), []failure.FieldError{{Field: "body.name", Message: "is required"}}},
		{"too long", with(func(v *validated) { v.Name = "Adelaide" }), []failure.FieldError{{Field: "body.name", Message: "must be 1 to 5 characters"}}},
		{"characters, not bytes", with(func(v *validated) { v.Name = "ééééé" }), nil},
		{"an optional pointer", with(func(v *validated) { v.Middle = ptr("King") }), []failure.FieldError{{Field: "body.middle", Message: "must be at most 3 characters"}}},
		{"an empty optional pointer is a value", with(func(v *validated) { v.Middle = ptr("") }), nil},
		{"format", with(func(v *validated) { v.Email = "not-an-email" }), []failure.FieldError{{Field: "body.email", Message: "must be a valid email"}}},
		{"pattern", with(func(v *validated) { v.ID = "0A1B" }), []failure.FieldError{{Field: "body.id", Message: "must match the pattern ^[0-9a-f]{4}$"}}},
		{"enum", with(func(v *validated) { v.Kind = "c" }), []failure.FieldError{{Field: "body.kind", Message: "must be one of a, b"}}},
		{"below the minimum", with(func(v *validated) { v.Count = 0 }), []failure.FieldError{{Field: "body.count", Message: "must be an integer from 1 to 10"}}},
		{"above the maximum", with(func(v *validated) { v.Count = 11 }), []failure.FieldError{{Field: "body.count", Message: "must be an integer from 1 to 10"}}},
		{"multipleOf", with(func(v *validated) { v.Step = 7 }), []failure.FieldError{{Field: "body.step", Message: "must be a multiple of 5"}}},
		{"items", with(func(v *validated) { v.Tags = []string{"a", "b", "c"} }), []failure.FieldError{{Field: "body.tags", Message: "must be at most 2 items"}}},
		{"inside a list", with(func(v *validated) { v.Items = []item{{"ab"}, {"c"}} }), []failure.FieldError{{Field: "body.items[1].code", Message: "must be at least 2 characters"}}},
		{"inside a pointer", with(func(v *validated) { v.Next = &item{"c"} }), []failure.FieldError{{Field: "body.next.code", Message: "must be at least 2 characters"}}},
		{"promoted", with(func(v *validated) { v.Note = "abc" }), []failure.FieldError{{Field: "body.note", Message: "must be at most 2 characters"}}},
		{"recursive", with(func(v *validated) { v.Self = &validated{Count: 1, Amount: money{1}} }), []failure.FieldError{{Field: "body.self.name", Message: "is required"}}},
		{"a required member that reads its own JSON", with(func(v *validated) { v.Amount = money{} }), []failure.FieldError{{Field: "body.amount", Message: "is required"}}},
		{"a hint format checks nothing", with(func(v *validated) { v.Secret = "\x00" }), nil},
		{"every violation, in member order", with(func(v *validated) { v.Name, v.Count = "", 0 }), []failure.FieldError{
			{Field: "body.name", Message: "is required"}, {Field: "body.count", Message: "must be an integer from 1 to 10"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Validate(&tt.v, "body")
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Validate = %v, want %v", got, tt.want)
			}
		})
	}
	if got := Validate((*validated)(nil), "body"); got != nil {
		t.Errorf("Validate(nil) = %v", got)
	}
}

func TestParamCheck(t *testing.T) {
	tests := []struct {
		name   string
		param  Param
		values []string
		want   string
	}{
		{"absent optional", Param{Name: "q"}, nil, ""},
		{"absent required", Param{Name: "q", Required: true}, nil, "is required"},
		{"twice", Param{Name: "q"}, []string{"a", "b"}, "must be given once"},
		{"an array repeats", Param{Name: "tag", Type: []string{}, Constraints: `maxLength:"3"`}, []string{"a", "b"}, ""},
		{"each value of an array", Param{Name: "tag", Type: []string{}, Constraints: `maxLength:"3"`}, []string{"a", "long"}, "must be at most 3 characters"},
		{"text", Param{Name: "q", Constraints: `minLength:"2" maxLength:"100"`}, []string{"a"}, "must be 2 to 100 characters"},
		{"enum", Param{Name: "type", Constraints: `enum:"topup,transfer"`}, []string{"x"}, "must be one of topup, transfer"},
		{"pattern", Param{Name: "k", Constraints: `pattern:"^[ -~]*$"`}, []string{"é"}, "must match the pattern ^[ -~]*$"},
		{"integer", Param{Name: "limit", Type: 0, Constraints: `minimum:"1" maximum:"100"`}, []string{"100"}, ""},
		{"not an integer", Param{Name: "limit", Type: 0, Constraints: `minimum:"1" maximum:"100"`}, []string{"1.5"}, "must be an integer"},
		{"beyond int64", Param{Name: "limit", Type: 0}, []string{"99999999999999999999999"}, "must be an integer"},
		{"out of range", Param{Name: "limit", Type: 0, Constraints: `minimum:"1" maximum:"100"`}, []string{"101"}, "must be an integer from 1 to 100"},
		{"a minimum only", Param{Name: "offset", Type: 0, Constraints: `minimum:"0"`}, []string{"-1"}, "must be an integer of at least 0"},
		{"exclusive bounds", Param{Name: "n", Type: 0, Constraints: `exclusiveMinimum:"0" exclusiveMaximum:"9"`}, []string{"9"}, "must be an integer greater than 0 and less than 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.param.Check()(tt.values); got != tt.want {
				t.Errorf("check(%q) = %q, want %q", tt.values, got, tt.want)
			}
		})
	}
}
