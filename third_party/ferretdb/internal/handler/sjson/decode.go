// Copyright 2021 FerretDB Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

package sjson

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// The decoder below reads a document in one pass over its bytes, without encoding/json.
// It must accept exactly what upstream's decoder (encoding/json several times per document, kept in
// reference_test.go) accepted, and return the same documents, so it follows encoding/json's rules
// wherever they show:
//
//   - syntax: the whole input is one JSON object with nothing after it, not even whitespace, and at
//     most 10000 levels of nesting; any syntax error anywhere fails, even in a value no key uses;
//   - the schema is decoded as encoding/json decodes it into the schema and elem structs: field names
//     match exactly or case-insensitively, unknown fields fail, a field given twice decodes into what
//     the first one left (objects merge, slices are reused), null clears a pointer, map or slice and
//     leaves a string as it was;
//   - an object's members behave as a Go map: the last of duplicate keys wins, and a value whose key
//     the schema does not name is only checked for syntax; at the top level the last "$s" is the
//     schema, wherever it is;
//   - strings are unescaped as encoding/json does (invalid UTF-8 and lone surrogates become U+FFFD);
//     numbers are parsed by the rules of strconv.ParseInt, ParseUint and ParseFloat.
//
// Errors are of two kinds. A syntax error ends decoding at once. A semantic error (wrong type, missing
// key, …) is returned once the value has been read to its end, because a later duplicate key may
// replace the value that had it.

// maxDepth is encoding/json's limit on nesting.
const maxDepth = 10000

// kind is the type of a schema element, from its "t" field.
type kind uint8

const (
	kindUnknown kind = iota
	kindObject
	kindArray
	kindDouble
	kindString
	kindBinData
	kindObjectID
	kindBool
	kindDate
	kindNull
	kindRegex
	kindInt
	kindTimestamp
	kindLong
)

// kindOf returns the kind for the given "t" value.
func kindOf(t []byte) kind {
	switch string(t) {
	case string(elemTypeObject):
		return kindObject
	case string(elemTypeArray):
		return kindArray
	case string(elemTypeDouble):
		return kindDouble
	case string(elemTypeString):
		return kindString
	case string(elemTypeBinData):
		return kindBinData
	case string(elemTypeObjectID):
		return kindObjectID
	case string(elemTypeBool):
		return kindBool
	case string(elemTypeDate):
		return kindDate
	case string(elemTypeNull):
		return kindNull
	case string(elemTypeRegex):
		return kindRegex
	case string(elemTypeInt):
		return kindInt
	case string(elemTypeTimestamp):
		return kindTimestamp
	case string(elemTypeLong):
		return kindLong
	default:
		return kindUnknown
	}
}

// span is a string held in decoder's arena.
type span struct {
	off, n int
}

// dSchema is what encoding/json would have decoded into schema.
type dSchema struct {
	props []dProp // "p", a map: the last property of a name wins
	keys  []span  // "$k"

	prepared   bool
	keysUnique bool // no key is in keys twice
	aligned    bool // props[i] is the property of keys[i], and the only one of its name
}

// dProp is a property of a schema.
type dProp struct {
	name span
	el   dElem
	null bool // the property is null (a nil *elem)
}

// dElem is what encoding/json would have decoded into elem.
type dElem struct {
	sch     *dSchema // "$s"
	items   []dItem  // "i"; nil and empty differ
	opts    string   // "o"
	kind    kind     // "t"
	hasOpts bool
	hasSub  bool
	sub     types.BinarySubtype // "s"
}

// dItem is an element of "i".
type dItem struct {
	el   dElem
	null bool // the item is null (a nil *elem)
}

// emptyItems is a non-nil empty "i".
var emptyItems = []dItem{}

// syntaxError is an error in the JSON syntax of the input.
type syntaxError struct {
	msg string
	off int
}

// Error implements error interface.
func (e *syntaxError) Error() string {
	return fmt.Sprintf("sjson: invalid JSON: %s at offset %d", e.msg, e.off)
}

// errSlowPath makes Unmarshal decode the document again the general way.
var errSlowPath = errors.New("sjson: decode again")

// docView lets types.ConvertDocument read keys and values from the decoder's stacks.
type docView struct {
	keys []string
	vals []any
}

// Keys implements types' document interface.
func (v *docView) Keys() []string { return v.keys }

// Values implements types' document interface.
func (v *docView) Values() []any { return v.vals }

// decoder reads one document.
type decoder struct {
	data  []byte
	pos   int
	depth int

	arena    []byte // unescaped keys and property names of the schema
	arenaStr string // arena, once the schema is read

	scratch []byte // the last unescaped string

	// members of the objects being decoded (keys, vals, errs in step) and items of arrays (vals)
	keys []string
	vals []any
	errs []error

	// stacks where lists of the schema are built, and slabs where they are kept
	spanStack []span
	propStack []dProp
	itemStack []dItem
	spanSlab  []span
	propSlab  []dProp
	itemSlab  []dItem

	top  dSchema
	view docView
}

var decoderPool = sync.Pool{
	New: func() any { return new(decoder) },
}

// Unmarshal decodes the top-level document.
// It decodes document's schema from the `$s` field and uses it to decode the data of the document.
func Unmarshal(data []byte) (*types.Document, error) {
	d := decoderPool.Get().(*decoder)

	d.reset(data)
	doc, err := d.unmarshalFast()

	if err == errSlowPath {
		d.reset(data)
		doc, err = d.unmarshalSlow()
	}

	d.release()
	decoderPool.Put(d)

	if err != nil {
		return nil, lazyerrors.Error(err)
	}

	return doc, nil
}

// reset prepares the decoder for data.
func (d *decoder) reset(data []byte) {
	d.release()
	d.data = data
}

// release drops every reference to decoded data and to the input.
func (d *decoder) release() {
	const maxKept = 1 << 16

	d.data = nil
	d.pos = 0
	d.depth = 0
	d.arenaStr = ""
	d.top = dSchema{}
	d.view = docView{}

	d.arena = d.arena[:0]
	d.scratch = d.scratch[:0]

	if cap(d.arena) > maxKept || cap(d.scratch) > maxKept {
		d.arena, d.scratch = nil, nil
	}

	// every pop clears what it pops, so what is left to clear is below the lengths
	clear(d.keys)
	clear(d.vals)
	clear(d.errs)
	clear(d.propStack)
	clear(d.itemStack)
	clear(d.propSlab)
	clear(d.itemSlab)

	d.keys, d.vals, d.errs = d.keys[:0], d.vals[:0], d.errs[:0]
	d.spanStack, d.propStack, d.itemStack = d.spanStack[:0], d.propStack[:0], d.itemStack[:0]
	d.spanSlab, d.propSlab, d.itemSlab = d.spanSlab[:0], d.propSlab[:0], d.itemSlab[:0]

	if cap(d.vals) > maxKept/16 || cap(d.propSlab) > maxKept/64 || cap(d.itemSlab) > maxKept/64 {
		d.keys, d.vals, d.errs = nil, nil, nil
		d.spanStack, d.propStack, d.itemStack = nil, nil, nil
		d.spanSlab, d.propSlab, d.itemSlab = nil, nil, nil
	}
}

// unmarshalFast decodes a document whose first key is "$s", reading its values as it goes.
// It returns errSlowPath if the document may need the general way.
func (d *decoder) unmarshalFast() (*types.Document, error) {
	d.skipWS()

	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		// not an object: encoding/json fails, or (for null) decodes a nil map without "$s"
		return nil, errSlowPath
	}

	if err := d.open(); err != nil {
		return nil, err
	}

	d.skipWS()

	k, err := d.readString()
	if err != nil || string(k) != "$s" {
		return nil, errSlowPath
	}

	if err = d.colon(); err != nil {
		return nil, err
	}

	switch d.peek() {
	case 'n':
		if err = d.readLiteral("null"); err != nil {
			return nil, err
		}
	case '{':
		if err = d.readSchema(&d.top); err != nil {
			if isSyntax(err) {
				return nil, err
			}

			// a later "$s" may replace this one
			return nil, errSlowPath
		}
	default:
		return nil, errSlowPath
	}

	d.arenaStr = string(d.arena)

	kb, vb := len(d.keys), len(d.vals)
	inOrder := len(d.top.keys) == 0

	done, err := d.next('}')
	if err != nil {
		return nil, err
	}

	if !done {
		if inOrder, err = d.members(&d.top, kb, true); err != nil {
			return nil, err
		}
	}

	if d.pos != len(d.data) {
		return nil, d.syntax("data after the document")
	}

	return d.finish(&d.top, kb, vb, inOrder, true)
}

// member is a top-level member found by unmarshalSlow.
type member struct {
	key   string
	start int
}

// unmarshalSlow decodes any document: it finds the members, then the last "$s", then decodes the values.
func (d *decoder) unmarshalSlow() (*types.Document, error) {
	d.skipWS()

	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		if err := d.skipValue(); err != nil {
			return nil, err
		}

		return nil, lazyerrors.New("sjson: the document is not an object")
	}

	if err := d.open(); err != nil {
		return nil, err
	}

	var members []member

	d.skipWS()

	if d.peek() == '}' {
		d.pos++
		d.depth--
	} else {
		for {
			k, err := d.readString()
			if err != nil {
				return nil, err
			}

			m := member{key: string(k)}

			if err = d.colon(); err != nil {
				return nil, err
			}

			m.start = d.pos

			if err = d.skipValue(); err != nil {
				return nil, err
			}

			members = append(members, m)

			done, err := d.next('}')
			if err != nil {
				return nil, err
			}

			if done {
				break
			}
		}
	}

	if d.pos != len(d.data) {
		return nil, d.syntax("data after the document")
	}

	s := -1

	for i, m := range members {
		if m.key == "$s" {
			s = i
		}
	}

	if s < 0 {
		return nil, lazyerrors.New("schema is not set")
	}

	d.pos, d.depth = members[s].start, 1

	switch d.peek() {
	case 'n':
		// decoding null into a struct leaves it as it is
	case '{':
		if err := d.readSchema(&d.top); err != nil {
			return nil, err
		}
	default:
		return nil, lazyerrors.New("sjson: $s is not an object")
	}

	d.arenaStr = string(d.arena)

	kb, vb := len(d.keys), len(d.vals)

	for _, m := range members {
		if m.key == "$s" {
			continue
		}

		i := d.top.keyIndex(d, m.key)
		if i < 0 {
			d.push(m.key, nil, nil)
			continue
		}

		key := d.key(d.top.keys[i])
		d.pos = m.start

		v, err := d.value(d.top.prop(d, key))
		if isSyntax(err) {
			return nil, err
		}

		d.push(key, v, err)
	}

	return d.finish(&d.top, kb, vb, false, true)
}

// members reads an object's members from its first key to its closing brace and pushes them on the
// stacks. It reports whether they were the schema's keys in order, each once, without errors.
func (d *decoder) members(s *dSchema, kb int, top bool) (bool, error) {
	s.prepare(d)

	inOrder := s.keysUnique
	nerr := 0

	for {
		k, err := d.readString()
		if err != nil {
			return false, err
		}

		if top && string(k) == "$s" {
			// a second schema replaces the first one
			return false, errSlowPath
		}

		i := len(d.keys) - kb

		var key string
		var el *dElem
		use := true

		if inOrder && i < len(s.keys) && string(k) == d.key(s.keys[i]) {
			key = d.key(s.keys[i])

			if s.aligned {
				if p := &s.props[i]; !p.null {
					el = &p.el
				}
			} else {
				el = s.prop(d, key)
			}
		} else {
			inOrder = false

			if j := s.keyIndexBytes(d, k); j >= 0 {
				key = d.key(s.keys[j])
				el = s.prop(d, key)
			} else {
				key = string(k)
				use = false
			}
		}

		if err = d.colon(); err != nil {
			return false, err
		}

		if use {
			v, err := d.value(el)
			if err != nil {
				if isSyntax(err) {
					return false, err
				}

				nerr++
			}

			d.push(key, v, err)
		} else {
			if err = d.skipValue(); err != nil {
				return false, err
			}

			d.push(key, nil, nil)
		}

		done, err := d.next('}')
		if err != nil {
			return false, err
		}

		if done {
			break
		}
	}

	return inOrder && nerr == 0 && len(d.keys)-kb == len(s.keys), nil
}

// push pushes an object's member.
func (d *decoder) push(key string, v any, err error) {
	d.keys = append(d.keys, key)
	d.vals = append(d.vals, v)
	d.errs = append(d.errs, err)
}

// pop pops the members pushed from kb and vb.
func (d *decoder) pop(kb, vb int) {
	clear(d.keys[kb:])
	clear(d.vals[vb:])
	clear(d.errs[kb:])
	d.keys, d.vals, d.errs = d.keys[:kb], d.vals[:vb], d.errs[:kb]
}

// finish makes the document of the members pushed from kb and vb, and pops them.
func (d *decoder) finish(s *dSchema, kb, vb int, inOrder, top bool) (*types.Document, error) {
	defer d.pop(kb, vb)

	if inOrder {
		d.view = docView{keys: d.keys[kb:], vals: d.vals[vb:]}
		doc := must.NotFail(types.ConvertDocument(&d.view))
		d.view = docView{}

		return doc, nil
	}

	keys, vals, errs := d.keys[kb:], d.vals[vb:], d.errs[kb:]

	// as in a map: the last member of a key wins
	last := make(map[string]int, len(keys))
	for i, k := range keys {
		last[k] = i
	}

	if len(s.keys) != len(last) {
		if top {
			return nil, lazyerrors.Errorf(
				"sjson.Unmarshal: the data must have the same number of schema keys and document fields (keys: %d, fields: %d)",
				len(s.keys), len(last),
			)
		}

		return nil, lazyerrors.Errorf("sjson: %d elements in $k in the schema, %d in the document", len(s.keys), len(last))
	}

	// as types.Document.Set: a key given twice in $k keeps its first place
	outKeys := make([]string, 0, len(s.keys))
	outVals := make([]any, 0, len(s.keys))
	place := make(map[string]int, len(s.keys))

	for _, sp := range s.keys {
		k := d.key(sp)

		i, ok := last[k]
		if !ok {
			return nil, lazyerrors.Errorf("sjson: missing key %q", k)
		}

		if errs[i] != nil {
			return nil, errs[i]
		}

		if j, ok := place[k]; ok {
			outVals[j] = vals[i]
			continue
		}

		place[k] = len(outKeys)
		outKeys = append(outKeys, k)
		outVals = append(outVals, vals[i])
	}

	return must.NotFail(types.ConvertDocument(&docView{keys: outKeys, vals: outVals})), nil
}

// value reads a value by the schema element el (nil for a nil *elem).
func (d *decoder) value(el *dElem) (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.syntax("unexpected end of data")
	}

	c := d.data[d.pos]

	if c == 'n' {
		if err := d.readLiteral("null"); err != nil {
			return nil, err
		}

		return types.Null, nil
	}

	if el == nil {
		return nil, d.skipWith("schema is not set")
	}

	switch el.kind {
	case kindObject:
		if el.sch == nil {
			return nil, d.skipWith("sjson: schema is not set")
		}

		if c != '{' {
			return nil, d.skipWith("sjson: expected an object")
		}

		return d.object(el.sch)

	case kindArray:
		if el.items == nil {
			return nil, d.skipWith("sjson: schema's items are not set")
		}

		if c != '[' {
			return nil, d.skipWith("sjson: expected an array")
		}

		return d.array(el.items)

	case kindDouble:
		if !isNumberStart(c) {
			return nil, d.skipWith("sjson: expected a double")
		}

		num, isInt, err := d.readNumber()
		if err != nil {
			return nil, err
		}

		f, ok := parseDouble(num, isInt)
		if !ok {
			return nil, lazyerrors.Errorf("sjson: invalid double %s", num)
		}

		return f, nil

	case kindString:
		if c != '"' {
			return nil, d.skipWith("sjson: expected a string")
		}

		s, err := d.readString()
		if err != nil {
			return nil, err
		}

		return string(s), nil

	case kindBinData:
		var b []byte

		switch c {
		case '"':
			s, err := d.readString()
			if err != nil {
				return nil, err
			}

			// as encoding/json decodes a string into []byte
			b = make([]byte, base64.StdEncoding.DecodedLen(len(s)))

			n, err := base64.StdEncoding.Decode(b, s)
			if err != nil {
				return nil, lazyerrors.Error(err)
			}

			b = b[:n]

		case '[':
			// encoding/json also decodes an array of numbers into []byte
			var err error
			if b, err = d.byteArray(); err != nil {
				return nil, err
			}

		default:
			return nil, d.skipWith("sjson: expected binary data")
		}

		if !el.hasSub {
			return nil, lazyerrors.New("binary subtype in the schema is nil")
		}

		return types.Binary{B: b, Subtype: el.sub}, nil

	case kindObjectID:
		if c != '"' {
			return nil, d.skipWith("sjson: expected an ObjectID")
		}

		s, err := d.readString()
		if err != nil {
			return nil, err
		}

		var id types.ObjectID

		if len(s) != 2*len(id) {
			return nil, lazyerrors.Errorf("sjson: invalid ObjectID %q", s)
		}

		for i := range id {
			h, ok1 := unhex(s[2*i])
			l, ok2 := unhex(s[2*i+1])

			if !ok1 || !ok2 {
				return nil, lazyerrors.Errorf("sjson: invalid ObjectID %q", s)
			}

			id[i] = h<<4 | l
		}

		return id, nil

	case kindBool:
		switch c {
		case 't':
			return true, d.readLiteral("true")
		case 'f':
			return false, d.readLiteral("false")
		default:
			return nil, d.skipWith("sjson: expected a bool")
		}

	case kindDate:
		if !isNumberStart(c) {
			return nil, d.skipWith("sjson: expected a date")
		}

		num, isInt, err := d.readNumber()
		if err != nil {
			return nil, err
		}

		ms, ok := parseInt64(num, isInt)
		if !ok {
			return nil, lazyerrors.Errorf("sjson: invalid date %s", num)
		}

		return time.UnixMilli(ms), nil

	case kindNull:
		return nil, d.skipWith("sjson: expected null")

	case kindRegex:
		if c != '"' {
			return nil, d.skipWith("sjson: expected a regex")
		}

		s, err := d.readString()
		if err != nil {
			return nil, err
		}

		if !el.hasOpts {
			return nil, lazyerrors.New("regex options is nil")
		}

		return types.Regex{Pattern: string(s), Options: el.opts}, nil

	case kindInt:
		if !isNumberStart(c) {
			return nil, d.skipWith("sjson: expected an int")
		}

		num, isInt, err := d.readNumber()
		if err != nil {
			return nil, err
		}

		i, ok := parseInt64(num, isInt)
		if !ok || int64(int32(i)) != i {
			return nil, lazyerrors.Errorf("sjson: invalid int %s", num)
		}

		return int32(i), nil

	case kindTimestamp:
		if !isNumberStart(c) {
			return nil, d.skipWith("sjson: expected a timestamp")
		}

		num, isInt, err := d.readNumber()
		if err != nil {
			return nil, err
		}

		u, ok := parseUint64(num, isInt)
		if !ok {
			return nil, lazyerrors.Errorf("sjson: invalid timestamp %s", num)
		}

		return types.Timestamp(u), nil

	case kindLong:
		if !isNumberStart(c) {
			return nil, d.skipWith("sjson: expected a long")
		}

		num, isInt, err := d.readNumber()
		if err != nil {
			return nil, err
		}

		i, ok := parseInt64(num, isInt)
		if !ok {
			return nil, lazyerrors.Errorf("sjson: invalid long %s", num)
		}

		return i, nil

	default:
		return nil, d.skipWith("sjson: unhandled type in the schema")
	}
}

// object reads an object (d.pos at '{') by the schema s.
func (d *decoder) object(s *dSchema) (any, error) {
	if err := d.open(); err != nil {
		return nil, err
	}

	d.skipWS()

	if d.peek() == '}' {
		// an empty object is an empty document, whatever the schema says
		d.pos++
		d.depth--

		return new(types.Document), nil
	}

	kb, vb := len(d.keys), len(d.vals)

	inOrder, err := d.members(s, kb, false)
	if err != nil {
		d.pop(kb, vb)
		return nil, err
	}

	doc, err := d.finish(s, kb, vb, inOrder, false)
	if err != nil {
		return nil, err
	}

	return doc, nil
}

// array reads an array (d.pos at '[') by the schema items.
func (d *decoder) array(items []dItem) (any, error) {
	if err := d.open(); err != nil {
		return nil, err
	}

	d.skipWS()

	if d.peek() == ']' {
		d.pos++
		d.depth--

		if len(items) != 0 {
			return nil, lazyerrors.Errorf("sjson: %d elements in schema, 0 in total", len(items))
		}

		return types.MakeArray(0), nil
	}

	vb := len(d.vals)
	n := 0

	var semErr error

	for {
		if n < len(items) {
			var el *dElem
			if it := &items[n]; !it.null {
				el = &it.el
			}

			v, err := d.value(el)
			if err != nil {
				if isSyntax(err) {
					clear(d.vals[vb:])
					d.vals = d.vals[:vb]

					return nil, err
				}

				if semErr == nil {
					semErr = err
				}
			}

			d.vals = append(d.vals, v)
		} else if err := d.skipValue(); err != nil {
			clear(d.vals[vb:])
			d.vals = d.vals[:vb]

			return nil, err
		}

		n++

		done, err := d.next(']')
		if err != nil {
			clear(d.vals[vb:])
			d.vals = d.vals[:vb]

			return nil, err
		}

		if done {
			break
		}
	}

	if n != len(items) && semErr == nil {
		semErr = lazyerrors.Errorf("sjson: %d elements in schema, %d in total", len(items), n)
	}

	var vals []any
	if semErr == nil {
		vals = make([]any, n)
		copy(vals, d.vals[vb:])
	}

	clear(d.vals[vb:])
	d.vals = d.vals[:vb]

	if semErr != nil {
		return nil, semErr
	}

	return must.NotFail(types.NewArray(vals...)), nil
}

// byteArray reads an array of numbers (d.pos at '[') as encoding/json decodes it into []byte.
func (d *decoder) byteArray() ([]byte, error) {
	if err := d.open(); err != nil {
		return nil, err
	}

	b := []byte{}

	d.skipWS()

	if d.peek() == ']' {
		d.pos++
		d.depth--

		return b, nil
	}

	var semErr error

	for {
		switch c := d.peek(); {
		case c == 'n':
			// null leaves the byte as it is: zero
			if err := d.readLiteral("null"); err != nil {
				return nil, err
			}

			b = append(b, 0)

		case isNumberStart(c):
			num, isInt, err := d.readNumber()
			if err != nil {
				return nil, err
			}

			u, ok := parseUint64(num, isInt)
			if !ok || u > 255 {
				if semErr == nil {
					semErr = lazyerrors.Errorf("sjson: invalid byte %s", num)
				}
			}

			b = append(b, byte(u))

		default:
			if err := d.skipValue(); err != nil {
				return nil, err
			}

			if semErr == nil {
				semErr = lazyerrors.New("sjson: expected a byte")
			}
		}

		done, err := d.next(']')
		if err != nil {
			return nil, err
		}

		if done {
			break
		}
	}

	if semErr != nil {
		return nil, semErr
	}

	return b, nil
}

// key returns a key of the schema.
func (d *decoder) key(sp span) string {
	return d.arenaStr[sp.off : sp.off+sp.n]
}

// addName copies b into the arena.
func (d *decoder) addName(b []byte) span {
	sp := span{off: len(d.arena), n: len(b)}
	d.arena = append(d.arena, b...)

	return sp
}

// prepare finds whether the schema's keys are unique and its properties in their order.
func (s *dSchema) prepare(d *decoder) {
	if s.prepared {
		return
	}

	s.prepared = true
	s.keysUnique = true

	n := len(s.keys)

	if n > 32 {
		seen := make(map[string]struct{}, n)

		for _, sp := range s.keys {
			k := d.key(sp)
			if _, ok := seen[k]; ok {
				s.keysUnique = false
				break
			}

			seen[k] = struct{}{}
		}
	} else {
		// compare keys only when their lengths and first and last bytes match
		var prints [32]uint32

		for i, sp := range s.keys {
			p := uint32(sp.n)
			if sp.n > 0 {
				p |= uint32(d.arena[sp.off])<<16 | uint32(d.arena[sp.off+sp.n-1])<<24
			}

			prints[i] = p
		}

	outer:
		for i := 1; i < n; i++ {
			for j := range i {
				if prints[j] == prints[i] && d.key(s.keys[j]) == d.key(s.keys[i]) {
					s.keysUnique = false
					break outer
				}
			}
		}
	}

	// unique keys and property names in the same order make every property the only one of its name
	s.aligned = s.keysUnique && len(s.props) == n

	for i := 0; s.aligned && i < n; i++ {
		s.aligned = d.key(s.props[i].name) == d.key(s.keys[i])
	}
}

// keyIndex returns the index of key in the schema's keys, or -1.
func (s *dSchema) keyIndex(d *decoder, key string) int {
	for i, sp := range s.keys {
		if d.key(sp) == key {
			return i
		}
	}

	return -1
}

// keyIndexBytes is keyIndex for a key as bytes.
func (s *dSchema) keyIndexBytes(d *decoder, key []byte) int {
	for i, sp := range s.keys {
		if d.key(sp) == string(key) {
			return i
		}
	}

	return -1
}

// prop returns the element of the property named key, or nil (no such property, or null).
func (s *dSchema) prop(d *decoder, key string) *dElem {
	for i := len(s.props) - 1; i >= 0; i-- {
		if p := &s.props[i]; d.key(p.name) == key {
			if p.null {
				return nil
			}

			return &p.el
		}
	}

	return nil
}

// Field names of the schema and elem structs, and what encoding/json matches case-insensitively.
const (
	fieldNone = iota
	fieldProps
	fieldKeys
	fieldType
	fieldSchema
	fieldOptions
	fieldItems
	fieldSubtype
)

// schemaField returns the field of schema that name decodes into.
func schemaField(name []byte) int {
	switch string(name) {
	case "p":
		return fieldProps
	case "$k":
		return fieldKeys
	}

	switch {
	case foldedEqual(name, "P"):
		return fieldProps
	case foldedEqual(name, "$K"):
		return fieldKeys
	}

	return fieldNone
}

// elemField returns the field of elem that name decodes into.
func elemField(name []byte) int {
	switch string(name) {
	case "t":
		return fieldType
	case "$s":
		return fieldSchema
	case "o":
		return fieldOptions
	case "i":
		return fieldItems
	case "s":
		return fieldSubtype
	}

	switch {
	case foldedEqual(name, "T"):
		return fieldType
	case foldedEqual(name, "$S"):
		return fieldSchema
	case foldedEqual(name, "O"):
		return fieldOptions
	case foldedEqual(name, "I"):
		return fieldItems
	case foldedEqual(name, "S"):
		return fieldSubtype
	}

	return fieldNone
}

// foldedEqual reports whether name folds to folded as encoding/json folds field names
// (ASCII letters to upper case, other runes to the smallest rune of their case folding orbit),
// so that, for example, "ſ" (U+017F) matches the field "s" and "$\u212a" (Kelvin sign) the field "$k".
func foldedEqual(name []byte, folded string) bool {
	var buf [16]byte
	out := buf[:0]

	for i := 0; i < len(name); {
		if len(out) > len(folded) {
			return false
		}

		if c := name[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}

			out = append(out, c)
			i++

			continue
		}

		r, n := utf8.DecodeRune(name[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}

	return string(out) == folded
}

// foldRune returns the smallest rune of r's case folding orbit.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}

		r = r2
	}
}

// readSchema reads a JSON object (d.pos at '{') into s as encoding/json decodes it into schema.
// It stops at the first error.
func (d *decoder) readSchema(s *dSchema) error {
	if err := d.open(); err != nil {
		return err
	}

	d.skipWS()

	if d.peek() == '}' {
		d.pos++
		d.depth--

		return nil
	}

	for {
		name, err := d.readString()
		if err != nil {
			return err
		}

		f := schemaField(name)

		if err = d.colon(); err != nil {
			return err
		}

		switch f {
		case fieldProps:
			err = d.readProps(s)
		case fieldKeys:
			err = d.readKeys(s)
		default:
			err = lazyerrors.Errorf("json: unknown field %q", name)
		}

		if err != nil {
			return err
		}

		done, err := d.next('}')
		if err != nil {
			return err
		}

		if done {
			return nil
		}
	}
}

// readProps reads "p": a map of property names to elements, added to what an earlier "p" set.
func (d *decoder) readProps(s *dSchema) error {
	switch d.peek() {
	case 'n':
		s.props = nil
		return d.readLiteral("null")
	case '{':
	default:
		return lazyerrors.New("sjson: p is not an object")
	}

	if err := d.open(); err != nil {
		return err
	}

	d.skipWS()

	if d.peek() == '}' {
		d.pos++
		d.depth--

		return nil
	}

	base := len(d.propStack)

	for {
		name, err := d.readString()
		if err != nil {
			return err
		}

		p := dProp{name: d.addName(name)}

		if err = d.colon(); err != nil {
			return err
		}

		switch d.peek() {
		case 'n':
			p.null = true
			err = d.readLiteral("null")
		case '{':
			p.el, err = d.readElem(dElem{})
		default:
			err = lazyerrors.New("sjson: a property is not an object")
		}

		if err != nil {
			return err
		}

		d.propStack = append(d.propStack, p)

		done, err := d.next('}')
		if err != nil {
			return err
		}

		if done {
			break
		}
	}

	if len(s.props) == 0 {
		start := len(d.propSlab)
		d.propSlab = append(d.propSlab, d.propStack[base:]...)
		end := len(d.propSlab)
		s.props = d.propSlab[start:end:end]
	} else {
		s.props = append(s.props, d.propStack[base:]...)
	}

	clear(d.propStack[base:])
	d.propStack = d.propStack[:base]

	return nil
}

// readKeys reads "$k", reusing the slice an earlier "$k" left as encoding/json does:
// a null element keeps the key that was there.
func (d *decoder) readKeys(s *dSchema) error {
	switch d.peek() {
	case 'n':
		s.keys = nil
		return d.readLiteral("null")
	case '[':
	default:
		return lazyerrors.New("sjson: $k is not an array")
	}

	if err := d.open(); err != nil {
		return err
	}

	d.skipWS()

	if d.peek() == ']' {
		d.pos++
		d.depth--
		s.keys = nil

		return nil
	}

	reuse := cap(s.keys) > 0
	base := len(d.spanStack)
	i := 0

	for {
		var sp *span

		if reuse {
			if i >= len(s.keys) {
				if i < cap(s.keys) {
					s.keys = s.keys[:i+1]
				} else {
					s.keys = append(s.keys, span{})
				}
			}

			sp = &s.keys[i]
		} else {
			d.spanStack = append(d.spanStack, span{})
			sp = &d.spanStack[len(d.spanStack)-1]
		}

		switch d.peek() {
		case 'n':
			if err := d.readLiteral("null"); err != nil {
				return err
			}
		case '"':
			k, err := d.readString()
			if err != nil {
				return err
			}

			*sp = d.addName(k)
		default:
			return lazyerrors.New("sjson: a key in $k is not a string")
		}

		i++

		done, err := d.next(']')
		if err != nil {
			return err
		}

		if done {
			break
		}
	}

	if reuse {
		s.keys = s.keys[:i]
		return nil
	}

	start := len(d.spanSlab)
	d.spanSlab = append(d.spanSlab, d.spanStack[base:]...)
	end := len(d.spanSlab)
	s.keys = d.spanSlab[start:end:end]
	d.spanStack = d.spanStack[:base]

	return nil
}

// readElem reads a JSON object (d.pos at '{') into e as encoding/json decodes it into elem, and
// returns e. It stops at the first error. Elements go by value: pointers to locals passed down this
// recursion would be moved to the heap.
func (d *decoder) readElem(e dElem) (dElem, error) {
	if err := d.open(); err != nil {
		return e, err
	}

	d.skipWS()

	if d.peek() == '}' {
		d.pos++
		d.depth--

		return e, nil
	}

	for {
		name, err := d.readString()
		if err != nil {
			return e, err
		}

		f := elemField(name)

		if err = d.colon(); err != nil {
			return e, err
		}

		c := d.peek()

		switch f {
		case fieldType:
			switch c {
			case 'n':
				err = d.readLiteral("null")
			case '"':
				var t []byte
				if t, err = d.readString(); err == nil {
					e.kind = kindOf(t)
				}
			default:
				err = lazyerrors.New("sjson: t is not a string")
			}

		case fieldSchema:
			switch c {
			case 'n':
				e.sch = nil
				err = d.readLiteral("null")
			case '{':
				if e.sch == nil {
					e.sch = new(dSchema)
				}

				err = d.readSchema(e.sch)
			default:
				err = lazyerrors.New("sjson: $s is not an object")
			}

		case fieldOptions:
			switch c {
			case 'n':
				e.hasOpts, e.opts = false, ""
				err = d.readLiteral("null")
			case '"':
				var o []byte
				if o, err = d.readString(); err == nil {
					e.hasOpts, e.opts = true, string(o)
				}
			default:
				err = lazyerrors.New("sjson: o is not a string")
			}

		case fieldItems:
			e.items, err = d.readItems(e.items)

		case fieldSubtype:
			switch {
			case c == 'n':
				e.hasSub, e.sub = false, 0
				err = d.readLiteral("null")
			case isNumberStart(c):
				var num []byte
				var isInt bool

				if num, isInt, err = d.readNumber(); err == nil {
					u, ok := parseUint64(num, isInt)
					if !ok || u > 255 {
						err = lazyerrors.Errorf("sjson: invalid binary subtype %s", num)
					} else {
						e.hasSub, e.sub = true, types.BinarySubtype(u)
					}
				}
			default:
				err = lazyerrors.New("sjson: s is not a number")
			}

		default:
			err = lazyerrors.Errorf("json: unknown field %q", name)
		}

		if err != nil {
			return e, err
		}

		done, err := d.next('}')
		if err != nil {
			return e, err
		}

		if done {
			return e, nil
		}
	}
}

// readItems reads "i" and returns the new items, reusing the slice an earlier "i" left as
// encoding/json does: an object element decodes into the element that was there.
func (d *decoder) readItems(items []dItem) ([]dItem, error) {
	switch d.peek() {
	case 'n':
		return nil, d.readLiteral("null")
	case '[':
	default:
		return items, lazyerrors.New("sjson: i is not an array")
	}

	if err := d.open(); err != nil {
		return items, err
	}

	d.skipWS()

	if d.peek() == ']' {
		d.pos++
		d.depth--

		return emptyItems, nil
	}

	reuse := cap(items) > 0
	base := len(d.itemStack)
	i := 0

	for {
		if reuse {
			if i >= len(items) {
				if i < cap(items) {
					items = items[:i+1]
				} else {
					items = append(items, dItem{})
				}
			}

			it, err := d.readItem(items[i])
			if err != nil {
				return items, err
			}

			items[i] = it
		} else {
			it, err := d.readItem(dItem{})
			if err != nil {
				return items, err
			}

			d.itemStack = append(d.itemStack, it)
		}

		i++

		done, err := d.next(']')
		if err != nil {
			return items, err
		}

		if done {
			break
		}
	}

	if reuse {
		return items[:i], nil
	}

	start := len(d.itemSlab)
	d.itemSlab = append(d.itemSlab, d.itemStack[base:]...)
	end := len(d.itemSlab)

	clear(d.itemStack[base:])
	d.itemStack = d.itemStack[:base]

	return d.itemSlab[start:end:end], nil
}

// readItem reads an element of "i" into it and returns it: null clears it, an object decodes into it.
func (d *decoder) readItem(it dItem) (dItem, error) {
	switch d.peek() {
	case 'n':
		return dItem{null: true}, d.readLiteral("null")
	case '{':
		if it.null {
			it = dItem{}
		}

		var err error
		it.el, err = d.readElem(it.el)

		return it, err
	default:
		return it, lazyerrors.New("sjson: an item is not an object")
	}
}

// syntax returns a syntax error at the current position.
func (d *decoder) syntax(msg string) error {
	return &syntaxError{msg: msg, off: d.pos}
}

// isSyntax reports whether err is a syntax error.
func isSyntax(err error) bool {
	_, ok := err.(*syntaxError)
	return ok
}

// skipWith skips the value and returns a semantic error, or the syntax error found while skipping.
func (d *decoder) skipWith(msg string) error {
	if err := d.skipValue(); err != nil {
		return err
	}

	return lazyerrors.New(msg)
}

// peek returns the current byte, or 0 at the end.
func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}

	return 0
}

// skipWS skips JSON whitespace.
func (d *decoder) skipWS() {
	for d.pos < len(d.data) && isSpace(d.data[d.pos]) {
		d.pos++
	}
}

// isSpace reports whether c is JSON whitespace.
func isSpace(c byte) bool {
	return c <= ' ' && (c == ' ' || c == '\t' || c == '\n' || c == '\r')
}

// open consumes '{' or '[' and enters a level of nesting.
func (d *decoder) open() error {
	d.depth++
	if d.depth > maxDepth {
		return d.syntax("exceeded max depth")
	}

	d.pos++

	return nil
}

// colon consumes the colon after a key, and whitespace around it.
func (d *decoder) colon() error {
	d.skipWS()

	if d.peek() != ':' {
		return d.syntax("expected colon after object key")
	}

	d.pos++
	d.skipWS()

	return nil
}

// next consumes the comma before the next member or element (and the whitespace after it),
// or the closing byte, and reports whether it was the closing one.
func (d *decoder) next(closing byte) (bool, error) {
	d.skipWS()

	switch d.peek() {
	case ',':
		d.pos++
		d.skipWS()

		return false, nil
	case closing:
		d.pos++
		d.depth--

		return true, nil
	default:
		return false, d.syntax("expected comma or end of object or array")
	}
}

// readLiteral consumes lit (true, false or null).
func (d *decoder) readLiteral(lit string) error {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return d.syntax("invalid literal")
	}

	d.pos += len(lit)

	return nil
}

// isNumberStart reports whether c starts a JSON number.
func isNumberStart(c byte) bool {
	return c == '-' || ('0' <= c && c <= '9')
}

// isDigit reports whether c is a decimal digit.
func isDigit(c byte) bool {
	return '0' <= c && c <= '9'
}

// readNumber consumes a JSON number and returns its text, and whether it has neither fraction nor exponent.
func (d *decoder) readNumber() ([]byte, bool, error) {
	data := d.data
	start, i := d.pos, d.pos

	if i < len(data) && data[i] == '-' {
		i++
	}

	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		i++
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	default:
		d.pos = i
		return nil, false, d.syntax("invalid number")
	}

	isInt := true

	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			d.pos = i
			return nil, false, d.syntax("invalid number")
		}

		for i < len(data) && isDigit(data[i]) {
			i++
		}

		isInt = false
	}

	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}

		if i >= len(data) || !isDigit(data[i]) {
			d.pos = i
			return nil, false, d.syntax("invalid number")
		}

		for i < len(data) && isDigit(data[i]) {
			i++
		}

		isInt = false
	}

	d.pos = i

	return data[start:i], isInt, nil
}

// parseDigits returns the value of the decimal digits of num, if it fits in uint64.
func parseDigits(digits []byte) (uint64, bool) {
	const cutoff = (1<<64-1)/10 + 1

	var u uint64

	for _, c := range digits {
		if u >= cutoff {
			return 0, false
		}

		u *= 10

		u1 := u + uint64(c-'0')
		if u1 < u {
			return 0, false
		}

		u = u1
	}

	return u, true
}

// parseInt64 parses num as strconv.ParseInt(num, 10, 64) does: no fraction, no exponent.
func parseInt64(num []byte, isInt bool) (int64, bool) {
	if !isInt {
		return 0, false
	}

	neg := num[0] == '-'
	if neg {
		num = num[1:]
	}

	u, ok := parseDigits(num)
	if !ok {
		return 0, false
	}

	if neg {
		if u > 1<<63 {
			return 0, false
		}

		return -int64(u), true
	}

	if u > 1<<63-1 {
		return 0, false
	}

	return int64(u), true
}

// parseUint64 parses num as strconv.ParseUint(num, 10, 64) does: no sign (not even "-0"),
// no fraction, no exponent.
func parseUint64(num []byte, isInt bool) (uint64, bool) {
	if !isInt || num[0] == '-' {
		return 0, false
	}

	return parseDigits(num)
}

// parseDouble parses num as strconv.ParseFloat(num, 64) does, failing where it does (out of range).
func parseDouble(num []byte, isInt bool) (float64, bool) {
	if isInt {
		digits := num
		neg := num[0] == '-'

		if neg {
			digits = num[1:]
		}

		// integers below 10^15 are exact in a float64; "-0" is negative zero
		if len(digits) <= 15 {
			u, _ := parseDigits(digits)

			f := float64(u)
			if neg {
				f = -f
			}

			return f, true
		}
	}

	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		return 0, false
	}

	return f, true
}

// unhex returns the value of a hexadecimal digit.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	default:
		return 0, false
	}
}

// readString consumes a JSON string and returns its unescaped bytes: a part of the input when it
// has neither escapes nor invalid UTF-8, else the decoder's scratch buffer (valid until the next string).
func (d *decoder) readString() ([]byte, error) {
	data := d.data
	i := d.pos

	if i >= len(data) || data[i] != '"' {
		return nil, d.syntax("expected string")
	}

	i++
	start := i
	ascii := true

	for {
		for i < len(data) && plainASCII[data[i]] {
			i++
		}

		if i >= len(data) {
			d.pos = i
			return nil, d.syntax("unexpected end of string")
		}

		switch c := data[i]; {
		case c == '"':
			s := data[start:i]

			if !ascii && !utf8.Valid(s) {
				return d.unescape(start)
			}

			d.pos = i + 1

			return s, nil

		case c == '\\':
			return d.unescape(start)

		case c < 0x20:
			d.pos = i
			return nil, d.syntax("invalid character in string literal")

		default:
			ascii = false
			i++
		}
	}
}

// plainASCII tells the bytes a string holds as they are: ASCII but control characters, quote and backslash.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}

	return
}()

// unescape reads the string from start (after the quote) as encoding/json unquotes it.
func (d *decoder) unescape(start int) ([]byte, error) {
	data := d.data
	b := d.scratch[:0]
	i := start

	for {
		if i >= len(data) {
			d.pos = i
			return nil, d.syntax("unexpected end of string")
		}

		switch c := data[i]; {
		case c == '"':
			d.pos = i + 1
			d.scratch = b

			return b, nil

		case c == '\\':
			i++
			if i >= len(data) {
				d.pos = i
				return nil, d.syntax("unexpected end of string")
			}

			switch data[i] {
			case '"', '\\', '/':
				b = append(b, data[i])
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := getu4(data[i-1:])
				if r < 0 {
					d.pos = i
					return nil, d.syntax("invalid \\u escape")
				}

				i += 4

				if utf16.IsSurrogate(r) {
					// a following \u escape completes a valid pair, else this one is U+FFFD
					if dec := utf16.DecodeRune(r, getu4(data[i+1:])); dec != unicode.ReplacementChar {
						b = utf8.AppendRune(b, dec)
						i += 7

						continue
					}

					r = unicode.ReplacementChar
				}

				b = utf8.AppendRune(b, r)
			default:
				d.pos = i
				return nil, d.syntax("invalid escape in string literal")
			}

			i++

		case c < 0x20:
			d.pos = i
			return nil, d.syntax("invalid character in string literal")

		case c < utf8.RuneSelf:
			b = append(b, c)
			i++

		default:
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, data[i:i+n]...)
			}

			i += n
		}
	}
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}

	var r rune

	for _, c := range s[2:6] {
		v, ok := unhex(c)
		if !ok {
			return -1
		}

		r = r<<4 | rune(v)
	}

	return r
}

// skipValue consumes a JSON value, checking its syntax.
func (d *decoder) skipValue() error {
	switch c := d.peek(); {
	case c == '{':
		if err := d.open(); err != nil {
			return err
		}

		d.skipWS()

		if d.peek() == '}' {
			d.pos++
			d.depth--

			return nil
		}

		for {
			if err := d.skipString(); err != nil {
				return err
			}

			if err := d.colon(); err != nil {
				return err
			}

			if err := d.skipValue(); err != nil {
				return err
			}

			done, err := d.next('}')
			if err != nil {
				return err
			}

			if done {
				return nil
			}
		}

	case c == '[':
		if err := d.open(); err != nil {
			return err
		}

		d.skipWS()

		if d.peek() == ']' {
			d.pos++
			d.depth--

			return nil
		}

		for {
			if err := d.skipValue(); err != nil {
				return err
			}

			done, err := d.next(']')
			if err != nil {
				return err
			}

			if done {
				return nil
			}
		}

	case c == '"':
		return d.skipString()

	case c == 't':
		return d.readLiteral("true")

	case c == 'f':
		return d.readLiteral("false")

	case c == 'n':
		return d.readLiteral("null")

	case isNumberStart(c):
		_, _, err := d.readNumber()
		return err

	default:
		return d.syntax("expected a value")
	}
}

// skipString consumes a JSON string, checking its syntax.
func (d *decoder) skipString() error {
	data := d.data
	i := d.pos

	if i >= len(data) || data[i] != '"' {
		return d.syntax("expected string")
	}

	i++

	for i < len(data) {
		switch c := data[i]; {
		case c == '"':
			d.pos = i + 1
			return nil

		case c == '\\':
			i++
			if i >= len(data) {
				d.pos = i
				return d.syntax("unexpected end of string")
			}

			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if getu4(data[i-1:]) < 0 {
					d.pos = i
					return d.syntax("invalid \\u escape")
				}

				i += 5
			default:
				d.pos = i
				return d.syntax("invalid escape in string literal")
			}

		case c < 0x20:
			d.pos = i
			return d.syntax("invalid character in string literal")

		default:
			i++
		}
	}

	d.pos = i

	return d.syntax("unexpected end of string")
}
