package openapi

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// The constraint vocabulary shared by struct fields and parameters, so a rule reads the same wherever it
// is declared: `doc:"Page size" minimum:"1" maximum:"100" default:"20"`.
var (
	textKeywords   = []string{"format", "pattern"}
	numberKeywords = []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
	// countKeywords bound a string's length or an array's items, whichever the schema is, so
	// minLength on a slice means minItems.
	countKeywords = [][3]string{ // tag, string keyword, array keyword
		{"minLength", "minLength", "minItems"}, {"maxLength", "maxLength", "maxItems"},
		{"minItems", "minLength", "minItems"}, {"maxItems", "maxLength", "maxItems"},
	}
)

// applyTags adds the constraints of tag to s. where names the field or parameter in a panic: a
// malformed tag is a programming error, found by the first test that builds the document.
func applyTags(s map[string]any, tag reflect.StructTag, where string) {
	bad := func(key, value string, err error) {
		panic(fmt.Sprintf("openapi: %s: tag %s:%q: %v", where, key, value, err))
	}
	if doc, ok := tag.Lookup("doc"); ok {
		s["description"] = doc
	}
	for _, key := range textKeywords {
		if v, ok := tag.Lookup(key); ok {
			s[key] = v
		}
	}
	for _, key := range numberKeywords {
		if v, ok := tag.Lookup(key); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				bad(key, v, err)
			}
			s[key] = n
		}
	}
	for _, k := range countKeywords {
		if v, ok := tag.Lookup(k[0]); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				bad(k[0], v, fmt.Errorf("not a count"))
			}
			if schemaType(s) == "array" {
				s[k[2]] = n
			} else {
				s[k[1]] = n
			}
		}
	}
	if v, ok := tag.Lookup("enum"); ok {
		var values []any
		for item := range strings.SplitSeq(v, ",") {
			x, err := parseValue(s, strings.TrimSpace(item))
			if err != nil {
				bad("enum", v, err)
			}
			values = append(values, x)
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
