// Package strictjson decodes JSON that comes from outside the process — request bodies and consumed
// events — so that two parsers can never read one document two ways: exactly one value, member names
// matched case-sensitively, no name twice in an object, no member the Go type does not declare,
// valid UTF-8 only, and every value of its field's JSON type.
//
// It stands on github.com/go-json-experiment/json, the module that mirrors the standard library's
// encoding/json/v2 (an experiment in Go 1.26), whose defaults already reject duplicate names and
// invalid UTF-8 and match names exactly; encoding/json (v1) accepts `{"amount":1,"amount":9}` (last
// wins) and `{"AMOUNT":1}` (case-insensitive), which is how a body could mean one thing to a proxy
// and another to Mint.
package strictjson

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Error says where a document is wrong and how.
type Error struct {
	// Field is the path of the offending member, e.g. "amount", "address.city" or "tags[1]"; empty
	// for the document as a whole.
	Field string
	// Problem reads after the field name: "must be a string", "appears more than once".
	Problem string
	// Syntax is set when the text is not JSON at all; Field is then empty.
	Syntax bool
	// Err is the error a field type's own UnmarshalJSON returned, if that is what failed.
	Err error
}

func (e *Error) Error() string {
	if e.Field == "" {
		return "json: document " + e.Problem
	}
	return "json: " + e.Field + " " + e.Problem
}

func (e *Error) Unwrap() error { return e.Err }

// Unmarshal decodes data into v (a pointer) strictly, or returns an *Error.
func Unmarshal(data []byte, v any) error {
	err := json.Unmarshal(data, v, json.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	return describe(err)
}

func describe(err error) *Error {
	var (
		syn *jsontext.SyntacticError
		sem *json.SemanticError
	)
	switch {
	case errors.As(err, &syn):
		field := fieldPath(syn.JSONPointer)
		switch {
		case errors.Is(err, jsontext.ErrDuplicateName):
			return &Error{Field: field, Problem: "appears more than once"}
		case strings.Contains(syn.Err.Error(), "invalid UTF-8"):
			return &Error{Field: field, Problem: "must be valid UTF-8"}
		}
		return &Error{Problem: "is not valid JSON", Syntax: true}
	case errors.As(err, &sem):
		field := fieldPath(sem.JSONPointer)
		switch {
		case errors.Is(err, json.ErrUnknownName):
			return &Error{Field: field, Problem: unknownProblem(sem)}
		case sem.Err != nil && !isKindError(sem):
			// A field type's UnmarshalJSON refused the value; it says why.
			return &Error{Field: field, Problem: "is invalid: " + sem.Err.Error(), Err: sem.Err}
		default:
			return &Error{Field: field, Problem: "must be " + expected(sem.GoType)}
		}
	default:
		return &Error{Problem: "is not valid JSON", Syntax: true}
	}
}

// isKindError reports whether sem is a JSON value of the wrong kind or range for its Go type (a
// string for a number, 1.5 or 1e99 for an int) rather than a field type's own refusal.
func isKindError(sem *json.SemanticError) bool {
	var numErr *strconv.NumError
	return errors.As(sem.Err, &numErr) || errors.Is(sem.Err, strconv.ErrSyntax) || errors.Is(sem.Err, strconv.ErrRange)
}

// fieldPath turns a JSON Pointer (/address/city, /tags/1) into the dotted path Mint's errors use
// (address.city, tags[1]).
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// unknownProblem says a member is not declared, naming the member it was probably meant to be when
// the two differ only in case.
func unknownProblem(sem *json.SemanticError) string {
	name := sem.JSONPointer.LastToken()
	for _, known := range memberNames(sem.GoType) {
		if strings.EqualFold(known, name) {
			return fmt.Sprintf("is not a known field (names are case-sensitive: %q)", known)
		}
	}
	return "is not a known field"
}

// memberNames lists the JSON member names of struct type t (through pointers and untagged embedded
// structs).
func memberNames(t reflect.Type) []string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for f := range t.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case tag == "-" || !f.IsExported() && !f.Anonymous:
		case f.Anonymous && tag == "":
			names = append(names, memberNames(f.Type)...)
		case tag != "":
			names = append(names, tag)
		default:
			names = append(names, f.Name)
		}
	}
	return names
}

// expected names the JSON kind a Go type takes.
func expected(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "of another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "a JSON object"
	default:
		return "of another type"
	}
}
