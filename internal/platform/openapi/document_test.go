package openapi

import (
	"bytes"
	"strings"
	"testing"
)

func TestDocumentValidates(t *testing.T) {
	validate(t, decode(t, authDoc()))
}

func TestDocumentShape(t *testing.T) {
	doc := decode(t, authDoc())

	signup := resolvePointer(doc, "#/paths/~1api~1v1~1auth~1signup/post").(map[string]any)
	assertJSON(t, signup["requestBody"], `{"required": true, "content": {"application/json": {
		"schema": {"$ref": "#/components/schemas/signupRequest"}}}}`)
	if len(signup["security"].([]any)) != 0 {
		t.Error("signup needs no auth")
	}
	assertJSON(t, resolvePointer(doc, "#/components/schemas/signupRequest/additionalProperties"), `false`)
	assertJSON(t, resolvePointer(doc, "#/paths/~1api~1v1~1auth~1signup/post/responses/409/content"),
		`{"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}`)
	assertJSON(t, resolvePointer(doc, "#/paths/~1api~1v1~1auth~1signup/post/responses/201/headers"), `{
		"Set-Cookie": {"description": "mint_session", "schema": {"type": "string"}},
		"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}`)

	list := resolvePointer(doc, "#/paths/~1api~1v1~1users/get").(map[string]any)
	assertJSON(t, list["security"], `[{"cookieAuth": []}, {"bearerAuth": []}]`)
	assertJSON(t, list["parameters"], `[
		{"name": "limit", "in": "query", "description": "Page size.",
		 "schema": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 100, "default": 20}},
		{"name": "offset", "in": "query", "description": "Items to skip.",
		 "schema": {"type": "integer", "format": "int64", "minimum": 0, "default": 0}}]`)
	if resolvePointer(doc, "#/paths/~1api~1v1~1users/get/responses/401") == nil {
		t.Error("an authenticated operation documents 401")
	}
	assertJSON(t, resolvePointer(doc, "#/components/securitySchemes/cookieAuth/name"), `"mint_session"`)

	codes := resolvePointer(doc, "#/components/schemas/Problem/properties/code/enum").([]any)
	for _, want := range []string{"validation_failed", "not_found", "rate_limited", "internal"} { // the services add theirs
		if !strings.Contains(strings.Join(toStrings(codes), " "), want) {
			t.Errorf("problem codes lack %s", want)
		}
	}
	assertJSON(t, doc["tags"], `[{"name": "auth", "description": "Sign up, sign in, sign out."}, {"name": "users"}]`)
}

func toStrings(vs []any) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i], _ = v.(string)
	}
	return out
}

func TestDocumentIsDeterministic(t *testing.T) {
	a, _ := authDoc().JSON()
	b, _ := authDoc().JSON()
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same document differ")
	}
}

func TestOpenAPIPath(t *testing.T) {
	tests := []struct{ pattern, path, params string }{
		{"/api/v1/users", "/api/v1/users", ""},
		{"/api/v1/users/{id}", "/api/v1/users/{id}", "id"},
		{"/files/{dir}/{rest...}", "/files/{dir}/{rest}", "dir,rest"},
		{"/docs/{$}", "/docs/", ""},
	}
	for _, tt := range tests {
		path, params := openAPIPath(tt.pattern)
		if path != tt.path || strings.Join(params, ",") != tt.params {
			t.Errorf("%s: got %s %v, want %s %s", tt.pattern, path, params, tt.path, tt.params)
		}
	}
}

func TestResponseOverridesProblem(t *testing.T) {
	d := New("t", "1", "")
	d.Add(Operation{Method: "GET", Path: "/x", Auth: true,
		Responses: []Response{{Status: 401, Description: "custom"}}})
	assertJSON(t, resolvePointer(decode(t, d), "#/paths/~1x/get/responses/401/description"), `"custom"`)
}

func TestAddPanicsOnMistakes(t *testing.T) {
	ok := Operation{Method: "GET", Path: "/x", ID: "x", Responses: []Response{{Status: 200}}}
	tests := []struct {
		name string
		op   Operation
		want string
	}{
		{"duplicate route", Operation{Method: "GET", Path: "/x", Responses: ok.Responses}, "described twice"},
		{"duplicate id", Operation{Method: "POST", Path: "/y", ID: "x", Responses: ok.Responses}, "already used"},
		{"bad method", Operation{Method: "FETCH", Path: "/y", Responses: ok.Responses}, "unknown method"},
		{"no responses", Operation{Method: "GET", Path: "/y"}, "no responses"},
		{"bad status", Operation{Method: "GET", Path: "/y", Errors: []int{42}}, "status 42"},
		{"unknown path param", Operation{Method: "GET", Path: "/y", PathParams: []Param{{Name: "id"}},
			Responses: ok.Responses}, `"id" is not in the path`},
		{"bad constraint", Operation{Method: "GET", Path: "/y", Query: []Param{{Name: "n", Type: 0, Constraints: `maximum:"lots"`}},
			Responses: ok.Responses}, "GET /y n: tag maximum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New("t", "1", "")
			d.Add(ok)
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, tt.want) {
					t.Errorf("panic %q, want it to mention %q", msg, tt.want)
				}
			}()
			d.Add(tt.op)
		})
	}
}

func TestJSONReportsUnencodableValues(t *testing.T) {
	d := New("t", "1", "")
	d.Add(Operation{Method: "GET", Path: "/x", Responses: []Response{{Status: 200}}})
	d.paths["/x"]["get"].(map[string]any)["x-bad"] = func() {}
	if _, err := d.JSON(); err == nil {
		t.Fatal("want an error")
	}
}
