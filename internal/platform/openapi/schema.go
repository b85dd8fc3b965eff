package openapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Schema is a JSON Schema (2020-12) written by hand. Wherever the package accepts a Go value to
// reflect (a request or response body, a parameter type), a Schema is used as it is instead.
type Schema map[string]any

// Schemer is implemented by types whose JSON form reflection cannot see, such as a money amount that
// marshals to a JSON number with two decimals. The method is called on the zero value.
type Schemer interface {
	JSONSchema() map[string]any
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	schemerType       = reflect.TypeFor[Schemer]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// valueSchema returns the schema of v: a Schema as given, nil as a plain string (the natural type of a
// parameter), anything else by reflection.
func (d *Document) valueSchema(v any) map[string]any {
	switch v := v.(type) {
	case nil:
		return map[string]any{"type": "string"}
	case Schema:
		return normalize(map[string]any(v)).(map[string]any)
	default:
		return d.schemaOf(reflect.TypeOf(v))
	}
}

// schemaOf returns the JSON Schema of the values encoding/json writes for t. Named struct types are
// registered once in components.schemas and referenced; that is also what ends the recursion of
// self-referencing types. Pointers are looked through here: whether a pointer field is optional or
// nullable is decided by fieldSchema, where the json tag is known.
func (d *Document) schemaOf(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if implements(t, schemerType) {
		return normalize(reflect.New(t).Interface().(Schemer).JSONSchema()).(map[string]any)
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawMessageType:
		return map[string]any{} // any JSON value
	case implements(t, textMarshalerType):
		// Checked before json.Marshaler: types with both (ObjectIDs, IPs) marshal to their quoted text.
		return map[string]any{"type": "string"}
	case implements(t, jsonMarshalerType):
		return map[string]any{} // the shape is the type's secret; implement Schemer to tell it
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return map[string]any{"type": "integer", "format": "int32"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Uint8, reflect.Uint16:
		return map[string]any{"type": "integer", "format": "int32", "minimum": 0}
	case reflect.Uint, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return map[string]any{"type": "integer", "format": "int64", "minimum": 0}
	case reflect.Float32:
		return map[string]any{"type": "number", "format": "float"}
	case reflect.Float64:
		return map[string]any{"type": "number", "format": "double"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !implements(t.Elem(), jsonMarshalerType, textMarshalerType) {
			return map[string]any{"type": "string", "contentEncoding": "base64"} // encoding/json's []byte
		}
		return map[string]any{"type": "array", "items": d.schemaOf(t.Elem())}
	case reflect.Array:
		return map[string]any{"type": "array", "items": d.schemaOf(t.Elem()), "minItems": t.Len(), "maxItems": t.Len()}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": d.schemaOf(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return d.structSchema(t)
		}
		return map[string]any{"$ref": schemaRef(d.register(t))}
	}
	panic(fmt.Sprintf("openapi: %s cannot be encoded as JSON", t))
}

func implements(t reflect.Type, ifaces ...reflect.Type) bool {
	for _, i := range ifaces {
		if t.Implements(i) || reflect.PointerTo(t).Implements(i) {
			return true
		}
	}
	return false
}

func schemaRef(name string) string { return "#/components/schemas/" + name }

// register names the struct type t in components.schemas, building its schema the first time.
func (d *Document) register(t reflect.Type) string {
	if name, ok := d.types[t]; ok {
		return name
	}
	schemas := d.components["schemas"]
	name := d.freeName(t)
	d.types[t] = name
	schemas[name] = nil // reserved while the fields are built: a self-reference now finds the name
	schemas[name] = d.structSchema(t)
	return name
}

// reservedSchemas are the names the package itself writes; a Go type of the same name gets another.
var reservedSchemas = map[string]bool{problemSchemaName: true}

// freeName picks t's component name: its Go name, then qualified by its package, then numbered, so
// two types called User in two packages both keep their description.
func (d *Document) freeName(t reflect.Type) string {
	base := cleanName(t.Name())
	taken := func(n string) bool { _, ok := d.components["schemas"][n]; return ok || reservedSchemas[n] }
	if !taken(base) {
		return base
	}
	pkg := []rune(path.Base(t.PkgPath()))
	pkg[0] = unicode.ToUpper(pkg[0])
	qualified := cleanName(string(pkg)) + base
	if !taken(qualified) {
		return qualified
	}
	for i := 2; ; i++ {
		if n := fmt.Sprintf("%s_%d", qualified, i); !taken(n) {
			return n
		}
	}
}

var (
	pkgQualifier = regexp.MustCompile(`[\w./-]*\.`)
	nonNameChars = regexp.MustCompile(`[^A-Za-z0-9_]`)
)

// cleanName turns a Go type name into a component name (which must match ^[a-zA-Z0-9._-]+$):
// instantiated generics lose their package paths and brackets, so Page[auth.User] becomes PageUser.
func cleanName(name string) string {
	return nonNameChars.ReplaceAllString(pkgQualifier.ReplaceAllString(name, ""), "")
}

// structSchema describes a struct as encoding/json writes it. Objects are closed
// (additionalProperties: false) because the services decode bodies with DisallowUnknownFields and
// encode exactly the declared fields, so the document says what really crosses the wire.
func (d *Document) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	required := []string{}
	for _, f := range jsonFields(t) {
		s, req := d.fieldSchema(t, f)
		props[f.name] = s
		if req {
			required = append(required, f.name)
		}
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// fieldSchema returns the schema of one field and whether it is required (isRequired). A pointer
// without omitempty is written as null when nil.
func (d *Document) fieldSchema(owner reflect.Type, f jsonField) (map[string]any, bool) {
	ft := f.Type
	isPtr := ft.Kind() == reflect.Pointer
	s := d.schemaOf(ft)
	if f.quoted {
		switch schemaType(s) {
		case "integer", "number", "boolean":
			s = map[string]any{"type": "string"} // the ",string" option quotes scalars
		}
	}
	applyTags(s, f.Tag, owner.String()+"."+f.Name)
	if isPtr && !f.omitEmpty {
		s = nullable(s)
	}
	return s, isRequired(owner, f)
}

// isRequired reports whether member f of owner must be present: unless it is omitted when empty or is
// a pointer (nil decodes from an absent member), or `required:"true"` or `required:"false"` says
// otherwise.
func isRequired(owner reflect.Type, f jsonField) bool {
	switch v := f.Tag.Get("required"); v {
	case "":
		return !f.omitEmpty && f.Type.Kind() != reflect.Pointer
	case "true", "false":
		return v == "true"
	default:
		panic(fmt.Sprintf("openapi: %s.%s: required:%q is neither true nor false", owner, f.Name, v))
	}
}

// nullable lets s also be null, as JSON Schema 2020-12 says it: a type list, or anyOf for a $ref.
func nullable(s map[string]any) map[string]any {
	if t, ok := s["type"].(string); ok {
		s["type"] = []any{t, "null"}
		if enum, ok := s["enum"].([]any); ok {
			s["enum"] = append(enum, nil)
		}
		return s
	}
	out := map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
	if desc, ok := s["description"]; ok {
		out["description"] = desc
		delete(s, "description")
	}
	return out
}

// schemaType is the non-null type of s, or "" when s has none (a $ref, an any).
func schemaType(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []any:
		for _, v := range t {
			if v != "null" {
				s, _ := v.(string)
				return s
			}
		}
	}
	return ""
}

// jsonField is one member of a struct's JSON object.
type jsonField struct {
	reflect.StructField
	name      string
	depth     int
	tagged    bool
	omitEmpty bool
	quoted    bool
}

// jsonFields lists the members encoding/json writes for struct t, in declaration order, with the
// fields of embedded structs promoted. When names collide the shallowest field wins, then the one
// named by a json tag; a tie hides both — encoding/json's rules.
func jsonFields(t reflect.Type) []jsonField {
	var all []jsonField
	collectFields(t, nil, map[reflect.Type]bool{}, &all)
	byName := map[string][]jsonField{}
	for _, f := range all {
		byName[f.name] = append(byName[f.name], f)
	}
	var out []jsonField
	for _, f := range all {
		if dominant(f, byName[f.name]) {
			out = append(out, f)
		}
	}
	return out
}

// collectFields appends the fields of t, reached from the outer struct through index, with their Index
// the whole path from there (for reflect.Value.FieldByIndex).
func collectFields(t reflect.Type, index []int, visiting map[reflect.Type]bool, out *[]jsonField) {
	if visiting[t] {
		return // an embedding cycle through pointers; encoding/json stops here too
	}
	visiting[t] = true
	defer delete(visiting, t)
	for i := range t.NumField() {
		sf := t.Field(i)
		sf.Index = append(slices.Clone(index), i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if sf.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			collectFields(ft, sf.Index, visiting, out)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		f := jsonField{StructField: sf, name: name, depth: len(index), tagged: name != ""}
		if name == "" {
			f.name = sf.Name
		}
		for opt := range strings.SplitSeq(opts, ",") {
			switch opt {
			case "omitempty", "omitzero":
				f.omitEmpty = true
			case "string":
				f.quoted = true
			}
		}
		*out = append(*out, f)
	}
}

// dominant reports whether f is the field that wins among all the fields of its name.
func dominant(f jsonField, rivals []jsonField) bool {
	minDepth := f.depth
	for _, r := range rivals {
		minDepth = min(minDepth, r.depth)
	}
	if f.depth > minDepth {
		return false
	}
	var same, tagged int
	for _, r := range rivals {
		if r.depth == minDepth {
			same++
			if r.tagged {
				tagged++
			}
		}
	}
	return same == 1 || (f.tagged && tagged == 1)
}
