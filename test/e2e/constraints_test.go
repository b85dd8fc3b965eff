package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestEveryDocumentedConstraintIsEnforced walks the API document mint dev serves and, for every
// constraint it states on a request body member, a query parameter or a header — required, length,
// format, enum, range, pattern — sends a request that breaks just that one, and expects 400 with a
// field error naming it. A constraint the document promises and the server does not check fails here.
func TestEveryDocumentedConstraintIsEnforced(t *testing.T) {
	p := startDev(t, tempDir(t))
	me := newUser(t, p.base, "constraints")
	var doc map[string]any
	if err := json.Unmarshal(call(t, "GET", p.base+"/api-docs/openapi.json", nil, "").body, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	resolve := func(s map[string]any) map[string]any {
		if ref, ok := s["$ref"].(string); ok {
			return schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
		}
		return s
	}

	checked := 0
	expect := func(what, method, path string, body any, headers []string, field string) {
		t.Helper()
		res, err := tryCall(method, p.base+path, body, me.token, headers...)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		checked++
		if res.status != 400 {
			t.Errorf("%s: %d %s, want 400 naming %s", what, res.status, res.body, field)
			return
		}
		var prob struct {
			Errors []struct{ Field string } `json:"errors"`
		}
		_ = json.Unmarshal(res.body, &prob)
		for _, e := range prob.Errors {
			if e.Field == field {
				return
			}
		}
		t.Errorf("%s: 400 %s does not name %s", what, res.body, field)
	}

	paths := doc["paths"].(map[string]any)
	names := make([]string, 0, len(paths))
	for name := range paths {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, path := range names {
		if strings.Contains(path, "{") {
			continue // path parameters: a malformed id is a 404 (CONTRACT.md), not a constraint
		}
		for method, raw := range paths[path].(map[string]any) {
			op, ok := raw.(map[string]any)
			if !ok {
				continue
			}
			method = strings.ToUpper(method)
			for _, rawParam := range asList(op["parameters"]) {
				param := rawParam.(map[string]any)
				if _, ref := param["$ref"]; ref {
					continue
				}
				name, in := param["name"].(string), param["in"].(string)
				schema, _ := param["schema"].(map[string]any)
				for _, v := range violations(schema) {
					what := fmt.Sprintf("%s %s %s %s=%v (%s)", method, path, in, name, v.value, v.breaks)
					switch in {
					case "query":
						expect(what, method, path+"?"+url.Values{name: {fmt.Sprint(v.value)}}.Encode(), bodyFor(op), nil, "query."+name)
					case "header":
						expect(what, method, path, bodyFor(op), []string{name, fmt.Sprint(v.value)}, "header."+name)
					}
				}
			}
			content, _ := op["requestBody"].(map[string]any)
			if content == nil {
				continue
			}
			schema := resolve(content["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any))
			props, _ := schema["properties"].(map[string]any)
			for _, req := range asList(schema["required"]) {
				expect(fmt.Sprintf("%s %s without %s", method, path, req), method, path, map[string]any{}, nil, "body."+req.(string))
			}
			for name, rawProp := range props {
				for _, v := range violations(rawProp.(map[string]any)) {
					expect(fmt.Sprintf("%s %s %s=%v (%s)", method, path, name, v.value, v.breaks), method, path,
						map[string]any{name: v.value}, nil, "body."+name)
				}
			}
		}
	}
	if checked < 40 {
		t.Errorf("only %d constraints checked: the document lost its constraints, or this test its reading of them", checked)
	}
	t.Logf("%d documented constraints sent a violating value, each answered 400 naming its field", checked)
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// bodyFor is a body for an operation that takes one (so that a parameter's check is not preempted by
// a missing body), else nil.
func bodyFor(op map[string]any) any {
	if op["requestBody"] != nil {
		return map[string]any{}
	}
	return nil
}

type violation struct {
	value  any
	breaks string
}

// violations returns values that break each constraint schema states, one constraint each.
func violations(schema map[string]any) []violation {
	var out []violation
	num := func(k string) (float64, bool) { f, ok := schema[k].(float64); return f, ok }
	switch schema["type"] {
	case "string":
		if n, ok := num("minLength"); ok && n > 0 {
			out = append(out, violation{strings.Repeat("a", int(n)-1), "minLength"})
		}
		if n, ok := num("maxLength"); ok {
			out = append(out, violation{strings.Repeat("a", int(n)+1), "maxLength"})
		}
		if f, ok := schema["format"].(string); ok && f != "password" { // "password" is a hint for forms
			out = append(out, violation{"not a valid " + f, "format " + f})
		}
		if p, ok := schema["pattern"].(string); ok {
			v := "!?"
			if regexp.MustCompile(p).MatchString(v) {
				v = "é" // a pattern "!?" meets is one of printable ASCII
			}
			out = append(out, violation{v, "pattern"})
		}
		if _, ok := schema["enum"]; ok {
			out = append(out, violation{"not_one_of_them", "enum"})
		}
	case "integer", "number":
		if n, ok := num("minimum"); ok {
			out = append(out, violation{n - 1, "minimum"})
		}
		if n, ok := num("maximum"); ok {
			out = append(out, violation{n + 1, "maximum"})
		}
		if n, ok := num("exclusiveMinimum"); ok {
			out = append(out, violation{n, "exclusiveMinimum"})
		}
		if n, ok := num("multipleOf"); ok {
			out = append(out, violation{n / 10, "multipleOf"})
		}
	}
	for _, branch := range asList(schema["oneOf"]) {
		out = append(out, violations(branch.(map[string]any))...)
	}
	return out
}
