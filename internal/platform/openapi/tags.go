package openapi

import (
	"fmt"
	"reflect"
	"strconv"
)

// applyTags adds what tag says of a field or parameter to s: its description, constraints (rules.go),
// enum, example and default, in one vocabulary wherever it is declared:
// `doc:"Page size" minimum:"1" maximum:"100" default:"20"`. where names the field or parameter in a
// panic: a malformed tag is a programming error, found by the first test that builds the document.
func applyTags(s map[string]any, tag reflect.StructTag, where string) {
	bad := func(key, value string, err error) {
		panic(fmt.Sprintf("openapi: %s: tag %s:%q: %v", where, key, value, err))
	}
	if doc, ok := tag.Lookup("doc"); ok {
		s["description"] = doc
	}
	r, err := parseRules(tag)
	if err != nil {
		panic(fmt.Sprintf("openapi: %s: %v", where, err))
	}
	r.describe(s, schemaType(s) == "array")
	if len(r.enum) > 0 {
		values := make([]any, len(r.enum))
		for i, item := range r.enum {
			if values[i], err = parseValue(s, item); err != nil {
				bad("enum", tag.Get("enum"), err)
			}
		}
		s["enum"] = values
	}
	if v, ok := tag.Lookup("example"); ok {
		x, err := parseValue(s, v)
		if err != nil {
			bad("example", v, err)
		}
		s["examples"] = []any{x}
	}
	if v, ok := tag.Lookup("default"); ok {
		x, err := parseValue(s, v)
		if err != nil {
			bad("default", v, err)
		}
		s["default"] = x
	}
}

// parseValue reads a tag's text as a value of s's type, so `example:"20"` on an int is the number 20.
func parseValue(s map[string]any, text string) (any, error) {
	switch schemaType(s) {
	case "integer":
		return strconv.ParseInt(text, 10, 64)
	case "number":
		return strconv.ParseFloat(text, 64)
	case "boolean":
		return strconv.ParseBool(text)
	}
	return text, nil
}
