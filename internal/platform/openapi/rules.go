package openapi

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mint-wallet/mint/internal/platform/emailaddr"
)

// rules are the constraints of one body member or parameter, read from its struct tag by parseRules:
// the one reading of the vocabulary, from which come both the keywords the document shows (describe)
// and the checks the server makes (text, count, integer). A constraint is therefore written once,
// in the tag, and the document cannot promise a check the server does not make.
type rules struct {
	minLength, maxLength int // -1 when not set; characters (code points) of a string, items of an array
	minimum, maximum     *number
	exclusiveMinimum     *number
	exclusiveMaximum     *number
	multipleOf           *number
	pattern              *regexp.Regexp
	format               string
	enum                 []string
}

// number is a numeric bound as the tag writes it: the document shows the value, the server compares
// integers with it exactly.
type number struct {
	value float64
	text  string
}

// formats are the formats a tag may name, each with the check the server makes and its message. A
// format with no check ("password") is an annotation for user interfaces, as OpenAPI defines it.
var formats = map[string]struct {
	valid   func(string) bool
	message string
}{
	"email":    {emailaddr.Valid, "must be a valid email"},
	"password": {},
}

// parseRules reads tag's constraints. A malformed value is an error: the tag is code, and the first
// test that builds the document or validates a request finds it.
func parseRules(tag reflect.StructTag) (rules, error) {
	r := rules{minLength: -1, maxLength: -1}
	for _, k := range []struct {
		key string
		to  *int
	}{{"minLength", &r.minLength}, {"maxLength", &r.maxLength}, {"minItems", &r.minLength}, {"maxItems", &r.maxLength}} {
		if v, ok := tag.Lookup(k.key); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return r, fmt.Errorf("tag %s:%q: not a count", k.key, v)
			}
			*k.to = n
		}
	}
	for _, k := range []struct {
		key string
		to  **number
	}{{"minimum", &r.minimum}, {"maximum", &r.maximum}, {"exclusiveMinimum", &r.exclusiveMinimum},
		{"exclusiveMaximum", &r.exclusiveMaximum}, {"multipleOf", &r.multipleOf}} {
		if v, ok := tag.Lookup(k.key); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return r, fmt.Errorf("tag %s:%q: %w", k.key, v, err)
			}
			*k.to = &number{value: f, text: v}
		}
	}
	if v, ok := tag.Lookup("pattern"); ok {
		re, err := regexp.Compile(v)
		if err != nil {
			return r, fmt.Errorf("tag pattern:%q: %w", v, err)
		}
		r.pattern = re
	}
	if v, ok := tag.Lookup("format"); ok {
		if _, known := formats[v]; !known {
			return r, fmt.Errorf("tag format:%q: the server has no check for this format", v)
		}
		r.format = v
	}
	if v, ok := tag.Lookup("enum"); ok {
		for item := range strings.SplitSeq(v, ",") {
			r.enum = append(r.enum, strings.TrimSpace(item))
		}
	}
	return r, nil
}

// describe adds the rules to schema s; array says whether s is an array, whose lengths count items.
func (r rules) describe(s map[string]any, array bool) {
	minKey, maxKey := "minLength", "maxLength"
	if array {
		minKey, maxKey = "minItems", "maxItems"
	}
	if r.minLength >= 0 {
		s[minKey] = r.minLength
	}
	if r.maxLength >= 0 {
		s[maxKey] = r.maxLength
	}
	for key, n := range map[string]*number{"minimum": r.minimum, "maximum": r.maximum,
		"exclusiveMinimum": r.exclusiveMinimum, "exclusiveMaximum": r.exclusiveMaximum, "multipleOf": r.multipleOf} {
		if n != nil {
			s[key] = n.value
		}
	}
	if r.pattern != nil {
		s["pattern"] = r.pattern.String()
	}
	if r.format != "" {
		s["format"] = r.format
	}
}

// text checks a string value and returns what is wrong with it, or "".
func (r rules) text(s string) string {
	n := utf8.RuneCountInString(s)
	if (r.minLength >= 0 && n < r.minLength) || (r.maxLength >= 0 && n > r.maxLength) {
		return lengthMessage(r.minLength, r.maxLength, "characters")
	}
	if len(r.enum) > 0 && !slices.Contains(r.enum, s) {
		return "must be one of " + strings.Join(r.enum, ", ")
	}
	if r.pattern != nil && !r.pattern.MatchString(s) {
		return "must match the pattern " + r.pattern.String()
	}
	if f := formats[r.format]; f.valid != nil && !f.valid(s) {
		return f.message
	}
	return ""
}

// count checks the number of items of an array.
func (r rules) count(n int) string {
	if (r.minLength >= 0 && n < r.minLength) || (r.maxLength >= 0 && n > r.maxLength) {
		return lengthMessage(r.minLength, r.maxLength, "items")
	}
	return ""
}

func lengthMessage(lo, hi int, unit string) string {
	switch {
	case lo >= 0 && hi >= 0 && lo == hi:
		return fmt.Sprintf("must be exactly %d %s", lo, unit)
	case lo >= 0 && hi >= 0:
		return fmt.Sprintf("must be %d to %d %s", lo, hi, unit)
	case lo >= 0:
		return fmt.Sprintf("must be at least %d %s", lo, unit)
	default:
		return fmt.Sprintf("must be at most %d %s", hi, unit)
	}
}

// integer checks an integer value. Bounds compare exactly for every integer a float64 holds exactly,
// which covers every bound a tag states.
func (r rules) integer(n int64) string {
	x := float64(n)
	low := r.minimum != nil && x < r.minimum.value || r.exclusiveMinimum != nil && x <= r.exclusiveMinimum.value
	high := r.maximum != nil && x > r.maximum.value || r.exclusiveMaximum != nil && x >= r.exclusiveMaximum.value
	if low || high {
		return r.rangeMessage()
	}
	if r.multipleOf != nil && r.multipleOf.value != 0 && x/r.multipleOf.value != float64(int64(x/r.multipleOf.value)) {
		return "must be a multiple of " + r.multipleOf.text
	}
	if len(r.enum) > 0 && !slices.Contains(r.enum, strconv.FormatInt(n, 10)) {
		return "must be one of " + strings.Join(r.enum, ", ")
	}
	return ""
}

func (r rules) rangeMessage() string {
	if r.minimum != nil && r.maximum != nil {
		return "must be an integer from " + r.minimum.text + " to " + r.maximum.text
	}
	var parts []string
	if r.minimum != nil {
		parts = append(parts, "of at least "+r.minimum.text)
	} else if r.exclusiveMinimum != nil {
		parts = append(parts, "greater than "+r.exclusiveMinimum.text)
	}
	if r.maximum != nil {
		parts = append(parts, "of at most "+r.maximum.text)
	} else if r.exclusiveMaximum != nil {
		parts = append(parts, "less than "+r.exclusiveMaximum.text)
	}
	return "must be an integer " + strings.Join(parts, " and ")
}

// numeric reports whether the rules bound a number.
func (r rules) numeric() bool {
	return r.minimum != nil || r.maximum != nil || r.exclusiveMinimum != nil || r.exclusiveMaximum != nil || r.multipleOf != nil
}

// textual reports whether the rules constrain a string or an array (lengths, enum, pattern, format).
func (r rules) textual() bool {
	return r.minLength >= 0 || r.maxLength >= 0 || r.pattern != nil || r.format != "" || len(r.enum) > 0
}
