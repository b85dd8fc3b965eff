package openapi

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Operation describes one route. Method and Path are exactly what the service registers on its
// ServeMux, so a router can describe and register a route from the same value.
type Operation struct {
	Method      string // "GET", "POST", …
	Path        string // ServeMux pattern path, e.g. "/api/v1/users/{id}"; wildcards become path parameters
	ID          string // operationId, unique in the document; client generators name functions after it
	Summary     string
	Description string
	Tags        []string
	Auth        bool    // needs the mint_session cookie or a Bearer JWT; implies a 401 problem response
	PathParams  []Param // optional descriptions of the path's wildcards; undescribed ones are plain strings
	Query       []Param
	Headers     []Param    // request headers, e.g. Idempotency-Key
	Request     any        // a value of the JSON body's type (SignupRequest{}), a Schema, or nil for no body
	Responses   []Response // the successful (or otherwise non-problem) answers
	Errors      []int      // statuses answered with an RFC 9457 problem, e.g. {400, 404, 409}
}

// Param is a path, query or header parameter, or a response header.
type Param struct {
	Name        string
	Description string
	Required    bool
	// Type is a Go value of the parameter's type (0, "", true, []string{}) or a Schema; nil means string.
	Type any
	// Constraints use the struct-tag vocabulary of body fields, e.g. `minimum:"1" maximum:"100" default:"20"`.
	Constraints string
}

// Response is one documented answer of an operation.
type Response struct {
	Status      int
	Description string // defaults to the status text
	Body        any    // a value of the body's type, a Schema, or nil for no body
	ContentType string // defaults to application/json
	Headers     []Param
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Add describes op. It panics on a duplicate route or operationId, a path parameter described but not
// in the path, a type JSON cannot encode, or a malformed constraint: all are mistakes in the code.
func (d *Document) Add(op Operation) {
	where := op.Method + " " + op.Path
	method := strings.ToLower(op.Method)
	if !slices.Contains(methods, method) {
		panic(fmt.Sprintf("openapi: %s: unknown method %q", where, op.Method))
	}
	path, wildcards := openAPIPath(op.Path)
	if _, dup := d.paths[path][method]; dup {
		panic(fmt.Sprintf("openapi: %s: described twice", where))
	}
	if op.ID != "" {
		if d.opIDs[op.ID] {
			panic(fmt.Sprintf("openapi: %s: operationId %q is already used", where, op.ID))
		}
		d.opIDs[op.ID] = true
	}

	o := map[string]any{"responses": d.responses(where, op)}
	for key, v := range map[string]string{"operationId": op.ID, "summary": op.Summary, "description": op.Description} {
		if v != "" {
			o[key] = v
		}
	}
	if len(op.Tags) > 0 {
		o["tags"] = slices.Clone(op.Tags)
		for _, t := range op.Tags {
			d.tag(t)
		}
	}
	if params := d.parameters(where, wildcards, op); len(params) > 0 {
		o["parameters"] = params
	}
	if op.Request != nil {
		o["requestBody"] = map[string]any{
			"required": true,
			"content":  map[string]any{"application/json": map[string]any{"schema": d.valueSchema(op.Request)}},
		}
	}
	o["security"] = []any{} // public, said explicitly so no reader (or linter) has to assume
	if op.Auth {
		o["security"] = d.authRequirement()
	}
	if d.paths[path] == nil {
		d.paths[path] = map[string]any{}
	}
	d.paths[path][method] = o
}

// openAPIPath turns a ServeMux pattern path into an OpenAPI path and lists its wildcards:
// "/files/{path...}" becomes "/files/{path}", and "/docs/{$}" (exactly that path) becomes "/docs/".
func openAPIPath(pattern string) (string, []string) {
	segments := strings.Split(pattern, "/")
	var wildcards []string
	for i, seg := range segments {
		if !strings.HasPrefix(seg, "{") || !strings.HasSuffix(seg, "}") {
			continue
		}
		name := strings.TrimSuffix(seg[1:len(seg)-1], "...")
		if name == "$" {
			segments[i] = ""
			continue
		}
		wildcards = append(wildcards, name)
		segments[i] = "{" + name + "}"
	}
	return strings.Join(segments, "/"), wildcards
}

func (d *Document) parameters(where string, wildcards []string, op Operation) []any {
	params := make([]any, 0, len(wildcards)+len(op.Query)+len(op.Headers))
	described := map[string]Param{}
	for _, p := range op.PathParams {
		if !slices.Contains(wildcards, p.Name) {
			panic(fmt.Sprintf("openapi: %s: path parameter %q is not in the path", where, p.Name))
		}
		described[p.Name] = p
	}
	for _, name := range wildcards {
		p, ok := described[name]
		if !ok {
			p = Param{Name: name}
		}
		p.Required = true // OpenAPI: path parameters always are
		params = append(params, d.param(where, "path", p))
	}
	for _, p := range op.Query {
		params = append(params, d.param(where, "query", p))
	}
	for _, p := range op.Headers {
		params = append(params, d.param(where, "header", p))
	}
	return params
}

func (d *Document) param(where, in string, p Param) map[string]any {
	o := map[string]any{"name": p.Name, "in": in, "schema": d.paramSchema(where, p)}
	if p.Description != "" {
		o["description"] = p.Description
	}
	if p.Required {
		o["required"] = true
	}
	return o
}

func (d *Document) paramSchema(where string, p Param) map[string]any {
	s := d.valueSchema(p.Type)
	applyTags(s, reflect.StructTag(p.Constraints), where+" "+p.Name)
	return s
}

// responses lists op's answers. Problem responses come from Errors (and 401 when Auth); a status
// also listed in Responses keeps that description instead.
func (d *Document) responses(where string, op Operation) map[string]any {
	out := map[string]any{}
	for _, r := range op.Responses {
		key := statusKey(where, r.Status)
		if _, dup := out[key]; dup {
			panic(fmt.Sprintf("openapi: %s: response %s described twice", where, key))
		}
		out[key] = d.response(where, r)
	}
	errs := op.Errors
	if op.Auth && !slices.Contains(errs, http.StatusUnauthorized) {
		errs = append(slices.Clone(errs), http.StatusUnauthorized)
	}
	for _, status := range errs {
		if key := statusKey(where, status); out[key] == nil {
			out[key] = d.problemResponse(status)
		}
	}
	if len(out) == 0 {
		panic(fmt.Sprintf("openapi: %s: no responses", where))
	}
	return out
}

func statusKey(where string, status int) string {
	if status < 100 || status > 599 {
		panic(fmt.Sprintf("openapi: %s: status %d", where, status))
	}
	return strconv.Itoa(status)
}

func (d *Document) response(where string, r Response) map[string]any {
	desc := r.Description
	if desc == "" {
		desc = http.StatusText(r.Status)
	}
	headers := d.requestIDHeader()
	for _, h := range r.Headers {
		o := map[string]any{"schema": d.paramSchema(where, h)}
		if h.Description != "" {
			o["description"] = h.Description
		}
		if h.Required {
			o["required"] = true
		}
		headers[h.Name] = o
	}
	o := map[string]any{"description": desc, "headers": headers}
	if r.Body != nil {
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		o["content"] = map[string]any{ct: map[string]any{"schema": d.valueSchema(r.Body)}}
	}
	return o
}

// requestIDHeader returns a response's headers with X-Request-Id, which every Mint response carries.
func (d *Document) requestIDHeader() map[string]any {
	const name = "X-Request-Id"
	d.component("headers", name, func() map[string]any {
		return map[string]any{
			"description": "Correlates the request in logs and traces; echoes the client's value when it sent one.",
			"schema":      map[string]any{"type": "string"},
		}
	})
	return map[string]any{name: map[string]any{"$ref": "#/components/headers/" + name}}
}

// authRequirement is the security of an authenticated operation: either the session cookie or a
// Bearer JWT (alternatives, hence two requirement objects).
func (d *Document) authRequirement() []any {
	d.component("securitySchemes", "cookieAuth", func() map[string]any {
		return map[string]any{"type": "apiKey", "in": "cookie", "name": "mint_session",
			"description": "The session cookie set by signup and login."}
	})
	d.component("securitySchemes", "bearerAuth", func() map[string]any {
		return map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
			"description": "The same session token, for clients that are not browsers."}
	})
	return []any{map[string]any{"cookieAuth": []any{}}, map[string]any{"bearerAuth": []any{}}}
}
