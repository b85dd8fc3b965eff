package httpx

import (
	"maps"
	"net/url"
	"reflect"
	"slices"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/freetext"
	"github.com/mint-wallet/mint/internal/platform/openapi"
)

// querySpec is the query an operation declares: each parameter name, and whether it may repeat
// (an array parameter).
type querySpec map[string]bool

func newQuerySpec(params []openapi.Param) querySpec {
	spec := querySpec{}
	for _, p := range params {
		spec[p.Name] = isArrayType(p.Type)
	}
	return spec
}

func isArrayType(t any) bool {
	if s, ok := t.(openapi.Schema); ok {
		return s["type"] == "array"
	}
	if t == nil {
		return false
	}
	k := reflect.TypeOf(t).Kind()
	return k == reflect.Slice || k == reflect.Array
}

// check validates a raw query against the spec, so no handler (nor the database behind it) ever sees
// a parameter it does not expect, bytes that are not text, or a second value it would silently drop.
func (spec querySpec) check(raw string) error {
	if raw == "" {
		return nil
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return failure.InvalidFields(failure.FieldError{Field: "query",
			Message: "must be a valid URL query: parameters separated by &, other bytes percent-encoded"})
	}
	var errs failure.Fields
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if name == "" {
			errs.Add("query", "has a parameter without a name")
			continue
		}
		if !cleanText(name) {
			// Not echoed: the name is not text a client could read back.
			errs.Add("query", "has a parameter name that is not valid UTF-8 text without control or invisible formatting characters")
			continue
		}
		field := "query." + name
		repeatable, known := spec[name]
		if !known {
			errs.Add(field, "is not a known parameter")
			continue
		}
		vs := values[name]
		if len(vs) > 1 && !repeatable {
			errs.Add(field, "must be given once")
		}
		if slices.ContainsFunc(vs, notCleanText) {
			errs.Add(field, "must be valid UTF-8 text without control or invisible formatting characters")
		}
	}
	return errs.Err()
}

// cleanText reports whether s is free text (freetext): valid UTF-8 without control characters or the
// invisible formatting characters used to make text read differently from what it is.
func cleanText(s string) bool { return freetext.Problem(s) == "" }

func notCleanText(s string) bool { return !cleanText(s) }
