package httpx

import (
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/freetext"
	"github.com/mint-wallet/mint/internal/platform/openapi"
)

// paramSpec holds the checks of the parameters an operation declares in one place (query or headers).
type paramSpec struct {
	names  []string
	checks map[string]openapi.ParamCheck
}

func newParamSpec(params []openapi.Param) paramSpec {
	spec := paramSpec{checks: map[string]openapi.ParamCheck{}}
	for _, p := range params {
		spec.names = append(spec.names, p.Name)
		spec.checks[p.Name] = p.Check()
	}
	return spec
}

// checkHeaders checks the declared headers of h; others are not the operation's business.
func (spec paramSpec) checkHeaders(h http.Header) error {
	var errs failure.Fields
	for _, name := range spec.names {
		if msg := spec.checks[name](h.Values(name)); msg != "" {
			errs.Add("header."+name, msg)
		}
	}
	return errs.Err()
}

// checkQuery validates a raw query against the spec, so no handler (nor the database behind it) ever
// sees a parameter it does not expect, bytes that are not text, a second value it would silently drop
// or a value outside its declaration.
func (spec paramSpec) checkQuery(raw string) error {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return failure.InvalidFields(failure.FieldError{Field: "query",
			Message: "must be a valid URL query: parameters separated by &, other bytes percent-encoded"})
	}
	var errs failure.Fields
	for _, name := range slices.Sorted(maps.Keys(values)) {
		field := "query." + name
		check, known := spec.checks[name]
		switch {
		case name == "":
			errs.Add("query", "has a parameter without a name")
		case !cleanText(name):
			// Not echoed: the name is not text a client could read back.
			errs.Add("query", "has a parameter name that is not valid UTF-8 text without control or invisible formatting characters")
		case !known:
			errs.Add(field, "is not a known parameter")
		case slices.ContainsFunc(values[name], notCleanText):
			errs.Add(field, "must be valid UTF-8 text without control or invisible formatting characters")
		case len(values[name]) == 1 && values[name][0] == "":
			// checked as absent below
		default:
			if msg := check(values[name]); msg != "" {
				errs.Add(field, msg)
			}
		}
	}
	for _, name := range spec.names {
		if vs := values[name]; len(vs) == 0 || len(vs) == 1 && vs[0] == "" { // an empty field of a form is absent
			if msg := spec.checks[name](nil); msg != "" { // a required one
				errs.Add("query."+name, msg)
			}
		}
	}
	return errs.Err()
}

// cleanText reports whether s is free text (freetext): valid UTF-8 without control characters or the
// invisible formatting characters used to make text read differently from what it is.
func cleanText(s string) bool { return freetext.Problem(s) == "" }

func notCleanText(s string) bool { return !cleanText(s) }
