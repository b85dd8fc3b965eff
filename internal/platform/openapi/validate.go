package openapi

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"sync"

	"github.com/mint-wallet/mint/internal/platform/failure"
)

// Validate checks v, a decoded request body (a struct or a pointer to one), against the constraints
// its type's tags state — read by the same code that writes them into the document — and returns the
// violations, each naming its member as prefix + its JSON path ("body.firstName", "body.items[2].id").
// An absent optional member (a nil pointer) is not checked.
func Validate(v any, prefix string) []failure.FieldError {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	var errs []failure.FieldError
	checkerOf(rv.Type()).check(rv, prefix, &errs)
	return errs
}

// checker checks values of one Go type. It is built once per type (checkers) and panics on a
// constraint the type cannot carry (maxLength on a bool), as the document does.
type checker struct {
	kind     checkKind
	rules    rules
	presence presence
	fields   []fieldChecker // of a struct
	elem     *checker       // of a slice, an array or a pointer
}

// presence is what an empty (zero) value means for a member.
type presence int

const (
	// optional: an optional member that is not a pointer decodes to its zero value when absent, so
	// the zero value is not checked.
	optional presence = iota
	// required: the member must be there, so a zero value the rules refuse is reported as missing.
	required
	// given: the target of a non-nil pointer was in the body, whatever its value.
	given
)

type fieldChecker struct {
	index []int
	name  string
	*checker
}

type checkKind int

const (
	checkNothing checkKind = iota
	checkText
	checkInteger
	checkStruct
	checkList
	checkPointer
	checkPresent // a type that reads its own JSON: only whether a required one is there
)

var checkers sync.Map // reflect.Type → *checker

func checkerOf(t reflect.Type) *checker {
	if c, ok := checkers.Load(t); ok {
		return c.(*checker)
	}
	c := buildChecker(t, rules{minLength: -1, maxLength: -1}, given, map[reflect.Type]*checker{}, t.String())
	actual, _ := checkers.LoadOrStore(t, c)
	return actual.(*checker)
}

// buildChecker makes the checker of a value of type t carrying r. building holds the struct types
// being built, so a self-referencing type ends.
func buildChecker(t reflect.Type, r rules, p presence, building map[reflect.Type]*checker, where string) *checker {
	c := &checker{rules: r, presence: p}
	opaque := implements(t, schemerType, textMarshalerType, jsonMarshalerType) || t == timeType || t == rawMessageType
	switch {
	case t.Kind() == reflect.Pointer:
		c.kind, c.elem = checkPointer, buildChecker(t.Elem(), r, given, building, where)
		return c
	case opaque:
		// The type reads its own JSON and reports its own errors (money amounts, times); absent, it is
		// its zero value.
		if p == required && !r.numeric() && !r.textual() {
			c.kind = checkPresent
			return c
		}
	case t.Kind() == reflect.String:
		c.kind = checkText
		return c
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		c.kind = checkInteger
		return c
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		c.kind, c.elem = checkList, buildChecker(t.Elem(), rules{minLength: -1, maxLength: -1}, given, building, where+"[]")
		return c
	case t.Kind() == reflect.Struct:
		if r.numeric() || r.textual() {
			break
		}
		if done, ok := building[t]; ok {
			return done
		}
		c.kind = checkStruct
		building[t] = c
		for _, f := range jsonFields(t) {
			fr, err := parseRules(f.Tag)
			if err != nil {
				panic(fmt.Sprintf("openapi: %s.%s: %v", t, f.Name, err))
			}
			p := optional
			if isRequired(t, f) {
				p = required
			}
			fc := buildChecker(f.Type, fr, p, building, t.String()+"."+f.Name)
			if fc.kind != checkNothing {
				c.fields = append(c.fields, fieldChecker{index: f.Index, name: f.name, checker: fc})
			}
		}
		return c
	}
	if r.numeric() || r.textual() {
		panic(fmt.Sprintf("openapi: %s: constraint tags on a %s are not checked", where, t))
	}
	return c
}

func (c *checker) check(v reflect.Value, path string, errs *[]failure.FieldError) {
	add := func(msg string) {
		if msg != "" {
			*errs = append(*errs, failure.FieldError{Field: path, Message: msg})
		}
	}
	if c.presence == optional && v.IsZero() {
		return // absent
	}
	switch c.kind {
	case checkText:
		msg := c.rules.text(v.String())
		if msg != "" && c.presence == required && v.Len() == 0 {
			msg = "is required"
		}
		add(msg)
	case checkInteger:
		if v.CanInt() {
			add(c.rules.integer(v.Int()))
		} else {
			add(c.rules.integer(int64(min(v.Uint(), math.MaxInt64))))
		}
	case checkPresent:
		if v.IsZero() {
			add("is required")
		}
	case checkPointer:
		if !v.IsNil() {
			c.elem.check(v.Elem(), path, errs)
		}
	case checkList:
		add(c.rules.count(v.Len()))
		if c.elem.kind != checkNothing {
			for i := range v.Len() {
				c.elem.check(v.Index(i), path+"["+strconv.Itoa(i)+"]", errs)
			}
		}
	case checkStruct:
		for _, f := range c.fields {
			fv, err := v.FieldByIndexErr(f.index)
			if err != nil {
				continue // inside a nil embedded pointer: the member was absent
			}
			name := f.name
			if path != "" {
				name = path + "." + f.name
			}
			f.check(fv, name, errs)
		}
	}
}

// ParamCheck checks the values a request gave one parameter (none when it is absent) and returns what
// is wrong with them, or "".
type ParamCheck func(values []string) string

// Check returns p's check, from the same declaration the document shows: present when Required, given
// once unless its type is an array, each value of its type (an integer parameter must be one) and
// within its constraints. It panics on a malformed constraint, as Document.Add does.
func (p Param) Check() ParamCheck {
	r, err := parseRules(reflect.StructTag(p.Constraints))
	if err != nil {
		panic(fmt.Sprintf("openapi: parameter %s: %v", p.Name, err))
	}
	repeatable, integer := paramShape(p.Type)
	return func(values []string) string {
		switch {
		case len(values) == 0 && p.Required:
			return "is required"
		case len(values) == 0:
			return ""
		case len(values) > 1 && !repeatable:
			return "must be given once"
		}
		for _, v := range values {
			if msg := checkParamValue(r, v, integer); msg != "" {
				return msg
			}
		}
		return ""
	}
}

func checkParamValue(r rules, v string, integer bool) string {
	if !integer {
		return r.text(v)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return "must be an integer"
	}
	return r.integer(n)
}

// paramShape tells whether a parameter of type t may repeat (an array) and whether its values are
// integers.
func paramShape(t any) (repeatable, integer bool) {
	if s, ok := t.(Schema); ok {
		return s["type"] == "array", s["type"] == "integer"
	}
	if t == nil {
		return false, false
	}
	rt := reflect.TypeOf(t)
	if k := rt.Kind(); k == reflect.Slice || k == reflect.Array {
		repeatable, rt = true, rt.Elem()
	}
	return repeatable, rt.Kind() >= reflect.Int && rt.Kind() <= reflect.Uint64
}
