package openapi

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// money stands for a type whose JSON form reflection cannot see.
type money struct{ cents int64 } // its schema is its own; Validate checks only that it is there

func (money) JSONSchema() map[string]any {
	return map[string]any{"type": "number", "multipleOf": 0.01, "exclusiveMinimum": 0}
}

type address struct {
	City string `json:"city"`
}

type node struct {
	Name     string  `json:"name"`
	Children []node  `json:"children,omitempty"`
	Parent   *node   `json:"parent,omitempty"`
	Next     *node   `json:"next"`
	Peers    []*node `json:"peers,omitempty"`
}

type page[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

type base struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"createdAt"`
	Shadowed  string    `json:"shadowed"`
}

type audit struct {
	By string `json:"by"`
}

type withEmbedded struct {
	base
	*audit
	Shadowed int    `json:"shadowed"`
	Own      string `json:"own"`
}

// assertJSON compares got with want, a JSON text, as JSON values.
func assertJSON(t *testing.T, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	g := normalize(got)
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("got  %s\nwant %s", gb, wb)
	}
}

func TestSchemaOfKinds(t *testing.T) {
	tests := []struct {
		name  string
		value any
		want  string
	}{
		{"bool", true, `{"type":"boolean"}`},
		{"int", 0, `{"type":"integer","format":"int64"}`},
		{"int8", int8(0), `{"type":"integer","format":"int32"}`},
		{"int32", int32(0), `{"type":"integer","format":"int32"}`},
		{"uint8", uint8(0), `{"type":"integer","format":"int32","minimum":0}`},
		{"uint64", uint64(0), `{"type":"integer","format":"int64","minimum":0}`},
		{"float32", float32(0), `{"type":"number","format":"float"}`},
		{"float64", 0.0, `{"type":"number","format":"double"}`},
		{"string", "", `{"type":"string"}`},
		{"pointer is looked through", new(string), `{"type":"string"}`},
		{"time", time.Time{}, `{"type":"string","format":"date-time"}`},
		{"bytes", []byte{}, `{"type":"string","contentEncoding":"base64"}`},
		{"slice", []string{}, `{"type":"array","items":{"type":"string"}}`},
		{"array", [3]int{}, `{"type":"array","items":{"type":"integer","format":"int64"},"minItems":3,"maxItems":3}`},
		{"map", map[string]bool{}, `{"type":"object","additionalProperties":{"type":"boolean"}}`},
		{"any", []any{}, `{"type":"array","items":{}}`},
		{"raw JSON", json.RawMessage{}, `{}`},
		{"text marshaler", netip.Addr{}, `{"type":"string"}`},
		{"schemer", money{}, `{"type":"number","multipleOf":0.01,"exclusiveMinimum":0}`},
		{"named struct", address{}, `{"$ref":"#/components/schemas/address"}`},
		{"anonymous struct inline", struct {
			Total int `json:"total"`
		}{}, `{"type":"object","properties":{"total":{"type":"integer","format":"int64"}},"required":["total"],"additionalProperties":false}`},
		{"schema verbatim", Schema{"type": "string", "format": "uuid"}, `{"type":"string","format":"uuid"}`},
		{"nil is a string", nil, `{"type":"string"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertJSON(t, New("t", "1", "").valueSchema(tt.value), tt.want)
		})
	}
}

func TestStructTags(t *testing.T) {
	type request struct {
		Email    string   `json:"email" format:"email" doc:"Lower-cased." example:"ada@example.com"`
		Name     string   `json:"name" minLength:"1" maxLength:"50" pattern:"^\\S"`
		Middle   string   `json:"middle,omitempty"`
		Forced   string   `json:"forced,omitempty" required:"true"`
		Optional string   `json:"optional" required:"false"`
		Kind     string   `json:"kind" enum:"topup,transfer"`
		Limit    int      `json:"limit" minimum:"1" maximum:"100" default:"20" example:"20"`
		Amount   money    `json:"amount"`
		Tags     []string `json:"tags,omitempty" minLength:"1"`
		Quoted   int64    `json:"quoted,string"`
		Note     *string  `json:"note,omitempty"`
		Maybe    *string  `json:"maybe" enum:"a,b"`
		Home     *address `json:"home" doc:"Where they live."`
		Skipped  string   `json:"-"`
		Dash     string   `json:"-,"` //nolint:staticcheck // the field named "-" is the case under test
		Untagged bool
		hidden   string //nolint:unused // unexported: not in JSON, the case under test
	}
	d := New("t", "1", "")
	d.valueSchema(request{})
	assertJSON(t, d.components["schemas"]["request"], `{
		"type": "object", "additionalProperties": false,
		"required": ["email", "name", "forced", "kind", "limit", "amount", "quoted", "-", "Untagged"],
		"properties": {
			"email":    {"type": "string", "format": "email", "description": "Lower-cased.", "examples": ["ada@example.com"]},
			"name":     {"type": "string", "minLength": 1, "maxLength": 50, "pattern": "^\\S"},
			"middle":   {"type": "string"},
			"forced":   {"type": "string"},
			"optional": {"type": "string"},
			"kind":     {"type": "string", "enum": ["topup", "transfer"]},
			"limit":    {"type": "integer", "format": "int64", "minimum": 1, "maximum": 100, "default": 20, "examples": [20]},
			"amount":   {"type": "number", "multipleOf": 0.01, "exclusiveMinimum": 0},
			"tags":     {"type": "array", "items": {"type": "string"}, "minItems": 1},
			"quoted":   {"type": "string"},
			"note":     {"type": "string"},
			"maybe":    {"type": ["string", "null"], "enum": ["a", "b", null]},
			"home":     {"anyOf": [{"$ref": "#/components/schemas/address"}, {"type": "null"}], "description": "Where they live."},
			"-":        {"type": "string"},
			"Untagged": {"type": "boolean"}
		}
	}`)
}

func TestEmbeddedStructsArePromoted(t *testing.T) {
	d := New("t", "1", "")
	d.valueSchema(withEmbedded{})
	// The outer Shadowed wins by depth; base and audit's fields are promoted; embedded types get no
	// component of their own.
	assertJSON(t, d.components["schemas"], `{"withEmbedded": {
		"type": "object", "additionalProperties": false,
		"required": ["id", "createdAt", "by", "shadowed", "own"],
		"properties": {
			"id": {"type": "string"}, "createdAt": {"type": "string", "format": "date-time"},
			"by": {"type": "string"}, "shadowed": {"type": "integer", "format": "int64"}, "own": {"type": "string"}
		}
	}}`)
}

func TestEmbeddedTieHidesBoth(t *testing.T) {
	type a struct{ X string }
	type b struct{ X string }
	type both struct {
		a
		b
		Y string `json:"y"`
	}
	got, _ := json.Marshal(both{})
	if string(got) != `{"y":""}` {
		t.Fatalf("encoding/json changed its rules: %s", got)
	}
	assertJSON(t, New("t", "1", "").schemaOf(reflect.TypeFor[both]())["$ref"], `"#/components/schemas/both"`)
	d := New("t", "1", "")
	d.schemaOf(reflect.TypeFor[both]())
	assertJSON(t, d.components["schemas"]["both"].(map[string]any)["properties"], `{"y": {"type": "string"}}`)
}

func TestSelfReferenceTerminates(t *testing.T) {
	d := New("t", "1", "")
	assertJSON(t, d.valueSchema(node{}), `{"$ref": "#/components/schemas/node"}`)
	ref := `{"$ref": "#/components/schemas/node"}`
	assertJSON(t, d.components["schemas"], `{"node": {
		"type": "object", "additionalProperties": false, "required": ["name"],
		"properties": {
			"name": {"type": "string"},
			"children": {"type": "array", "items": `+ref+`},
			"parent": `+ref+`,
			"next": {"anyOf": [`+ref+`, {"type": "null"}]},
			"peers": {"type": "array", "items": `+ref+`}
		}
	}}`)
}

func TestComponentNames(t *testing.T) {
	d := New("t", "1", "")
	if got := d.valueSchema(page[address]{})["$ref"]; got != "#/components/schemas/pageaddress" {
		t.Errorf("generic: got %v", got)
	}

	// Two different types with one name both keep their schema.
	first := d.valueSchema(address{})["$ref"]
	type address struct {
		Street string `json:"street"`
	}
	second := d.valueSchema(address{})["$ref"]
	if first == second {
		t.Fatalf("two types share %v", first)
	}
	if second != "#/components/schemas/Openapiaddress" {
		t.Errorf("second address: got %v", second)
	}

	// The problem schema's name is never taken by a Go type.
	type Problem struct{}
	if got := d.valueSchema(Problem{})["$ref"]; got == schemaRef(problemSchemaName) {
		t.Errorf("a Go type took the reserved name %s", got)
	}
}

func TestPanicsOnProgrammingErrors(t *testing.T) {
	describe := func(v any) { New("t", "1", "").valueSchema(v) }
	validate := func(v any) { Validate(v, "body") }
	tests := []struct {
		name  string
		use   func(any) // describe it in a document, or validate it as a request
		value any
		want  string
	}{
		{"channel", describe, struct {
			C chan int `json:"c"`
		}{}, "cannot be encoded"},
		{"func", describe, func() {}, "cannot be encoded"},
		{"bad number", describe, struct {
			N int `json:"n" minimum:"one"`
		}{}, `minimum:"one"`},
		{"bad example", describe, struct {
			N int `json:"n" example:"x"`
		}{}, `example:"x"`},
		{"bad required", describe, struct {
			N int `json:"n" required:"yes"`
		}{}, `required:"yes"`},
		{"a format the server does not check", describe, struct {
			S string `json:"s" format:"uuid"`
		}{}, `format:"uuid"`},
		{"length on a bool", validate, &struct {
			B bool `json:"b" maxLength:"1"`
		}{}, "are not checked"},
		{"bound on a float", validate, &struct {
			F float64 `json:"f" minimum:"0"`
		}{}, "are not checked"},
		{"bad pattern", validate, &struct {
			S string `json:"s" pattern:"("`
		}{}, "pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, tt.want) {
					t.Errorf("panic %q, want it to mention %q", msg, tt.want)
				}
			}()
			tt.use(tt.value)
		})
	}
}

func TestSchemaIsNotShared(t *testing.T) {
	// Mutating one reflected or verbatim schema must not leak into the next use of the same source.
	d := New("t", "1", "")
	s := Schema{"type": "string"}
	d.valueSchema(s)["format"] = "changed"
	d.valueSchema(money{})["multipleOf"] = 1
	if s["format"] != nil || (money{}).JSONSchema()["multipleOf"] != 0.01 || d.valueSchema(money{})["multipleOf"] == 1 {
		t.Fatal("schemas are shared between uses")
	}
}
