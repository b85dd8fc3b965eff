// Package openapi describes Mint's HTTP API as an OpenAPI 3.1 document generated from the Go types the
// handlers really decode and encode, so the description cannot drift from the code, and serves it with
// a small browsable UI whose assets are embedded (no CDN: it works offline and under a strict CSP).
// The constraints a document states are also what the server checks: the tag vocabulary is read once
// (rules.go) into both the schema keywords and the checks that Validate runs on a decoded body and
// Param.Check on a parameter (validate.go). Operations are described in operation.go, Go types
// reflected in schema.go and tags.go, documents merged in merge.go, problems in problem.go and served
// by handler.go.
//
// A document is built once at startup, one Add per route. A mistake in a description — a duplicate
// route, a Go type JSON cannot encode, a malformed constraint tag — is a programming error and panics,
// as http.ServeMux does for conflicting patterns, so the first test that builds the document finds it.
package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
)

// Document is an OpenAPI 3.1 document under construction. It is not safe for concurrent use: build it
// while registering routes, then hand it to Handler.
type Document struct {
	info       map[string]any
	tags       []map[string]any
	paths      map[string]map[string]any // OpenAPI path → lower-case method → operation object
	components map[string]map[string]any // "schemas", "securitySchemes", "headers" → name → object
	types      map[reflect.Type]string   // named struct type → its name in components.schemas
	opIDs      map[string]bool
}

// New returns an empty document.
func New(title, version, description string) *Document {
	info := map[string]any{"title": title, "version": version}
	if description != "" {
		info["description"] = description
	}
	return &Document{
		info:       info,
		paths:      map[string]map[string]any{},
		components: map[string]map[string]any{"schemas": {}},
		types:      map[reflect.Type]string{},
		opIDs:      map[string]bool{},
	}
}

// Tag describes a tag; the UI shows the description above the tag's operations. Tags used by an
// operation but never described are listed too, in the order they first appear.
func (d *Document) Tag(name, description string) {
	t := d.tag(name)
	if description != "" {
		t["description"] = description
	}
}

func (d *Document) tag(name string) map[string]any {
	for _, t := range d.tags {
		if t["name"] == name {
			return t
		}
	}
	t := map[string]any{"name": name}
	d.tags = append(d.tags, t)
	return t
}

// component adds a named object to a components section unless it is there already; build runs only
// then, so shared objects (the Problem schema, the security schemes) are written once.
func (d *Document) component(section, name string, build func() map[string]any) {
	objs := d.components[section]
	if objs == nil {
		objs = map[string]any{}
		d.components[section] = objs
	}
	if _, ok := objs[name]; !ok {
		objs[name] = build()
	}
}

// object is the document as a JSON value.
func (d *Document) object() map[string]any {
	o := map[string]any{
		"openapi":    "3.1.0",
		"info":       d.info,
		"servers":    []any{map[string]any{"url": "/"}}, // the page's own origin, where the gateway is
		"paths":      d.paths,
		"components": d.components,
	}
	if len(d.tags) > 0 {
		o["tags"] = d.tags
	}
	return o
}

// JSON returns the document, indented. Object keys are sorted, so the same document always gives the
// same bytes (diffable in review, cacheable by ETag).
func (d *Document) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // descriptions say "<" and "&"; the document is never inlined in HTML
	enc.SetIndent("", "  ")
	if err := enc.Encode(d.object()); err != nil {
		return nil, fmt.Errorf("openapi: encode document: %w", err)
	}
	return buf.Bytes(), nil
}

// normalize deep-copies a JSON value through encoding/json, leaving only map[string]any, []any and
// scalars (numbers kept exact). Schemas from Schemer and Schema values are copied this way so that no
// caller's map is shared with, or changed by, the document; Merge copies whole documents the same way.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("openapi: %v", err))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		panic(fmt.Sprintf("openapi: %v", err))
	}
	return out
}
