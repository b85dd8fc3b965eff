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
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// The encoder below writes, in one walk over the document, exactly the bytes upstream's encoder
// (json.Marshal per key and per value, kept in reference_test.go) wrote: SQLite's indexes are on
// expressions over the stored text. So it escapes strings as json.Marshal does (with HTML escaping),
// formats doubles as json.Marshal does and fails on NaN and infinities as it does, writes a nil
// binary as null, and writes the top-level keys unescaped. It panics where upstream panicked: on a
// document with a duplicate key (types.Document.Get does) and on a value of an unknown type.

// encoder holds the buffers of one Marshal or MarshalSingleValue.
type encoder struct {
	sch []byte // the schema
	val []byte // the values
	err error  // the first error

	// single is set for MarshalSingleValue: values only, and the first error ends the walk
	single bool
}

var encoderPool = sync.Pool{
	New: func() any { return new(encoder) },
}

// getEncoder returns an encoder with empty buffers.
func getEncoder(single bool) *encoder {
	e := encoderPool.Get().(*encoder)
	e.sch, e.val, e.err, e.single = e.sch[:0], e.val[:0], nil, single

	return e
}

// putEncoder puts the encoder back, unless its buffers grew too big to keep.
func putEncoder(e *encoder) {
	const maxKept = 1 << 16

	if cap(e.sch) > maxKept || cap(e.val) > maxKept {
		return
	}

	e.err = nil
	encoderPool.Put(e)
}

// Marshal encodes given document fields and set its schema in the field $s.
// Use it when you need to encode a document with schema, for example, when you want to store it in a database.
func Marshal(d *types.Document) ([]byte, error) {
	if d == nil {
		panic("v is nil")
	}

	e := getEncoder(false)
	defer putEncoder(e)

	e.sch = append(e.sch, `{"$s":`...)
	e.document(d, true)

	if e.err != nil {
		return nil, lazyerrors.Error(e.err)
	}

	res := make([]byte, 0, len(e.sch)+len(e.val)+1)
	res = append(res, e.sch...)
	res = append(res, e.val...)
	res = append(res, '}')

	return res, nil
}

// MarshalSingleValue encodes given built-in or types' package value into sjson.
// Use it when you need to encode a single value, for example in a where clause.
func MarshalSingleValue(v any) ([]byte, error) {
	if v == nil {
		panic("v is nil")
	}

	e := getEncoder(true)
	defer putEncoder(e)

	e.value(v)

	if e.err != nil {
		return nil, lazyerrors.Error(e.err)
	}

	return append([]byte(nil), e.val...), nil
}

// stop reports whether the walk ends: MarshalSingleValue stops at the first error, while Marshal
// goes on, as upstream wrote the whole schema (where it may panic) before any value (where it may fail).
func (e *encoder) stop() bool {
	return e.single && e.err != nil
}

// document writes d's schema (unless single) and values; top-level values are written as
// `,"key":value` after the schema, with keys unescaped.
func (e *encoder) document(d *types.Document, top bool) {
	keys, vals := d.Keys(), d.Values()
	dup := hasDuplicate(keys)

	if !e.single {
		if len(keys) == 0 {
			e.sch = append(e.sch, `{}`...)
		} else {
			e.sch = append(e.sch, `{"p":{`...)
		}
	}

	if !top {
		e.val = append(e.val, '{')
	}

	for i, k := range keys {
		if dup && isDuplicate(keys, i) {
			// panics as upstream did, with its message
			_, _ = d.Get(k)
		}

		if !e.single {
			if i > 0 {
				e.sch = append(e.sch, ',')
			}

			e.sch = appendString(e.sch, k)
			e.sch = append(e.sch, ':')
		}

		if top {
			e.val = append(e.val, ',', '"')
			e.val = append(e.val, k...)
			e.val = append(e.val, '"', ':')
		} else {
			if i > 0 {
				e.val = append(e.val, ',')
			}

			e.val = appendString(e.val, k)
			e.val = append(e.val, ':')
		}

		e.value(vals[i])

		if e.stop() {
			return
		}
	}

	if !top {
		e.val = append(e.val, '}')
	}

	if !e.single && len(keys) > 0 {
		e.sch = append(e.sch, `},"$k":[`...)

		for i, k := range keys {
			if i > 0 {
				e.sch = append(e.sch, ',')
			}

			e.sch = appendString(e.sch, k)
		}

		e.sch = append(e.sch, `]}`...)
	}
}

// value writes v's schema element (unless single) and value.
func (e *encoder) value(v any) {
	switch v := v.(type) {
	case *types.Document:
		e.schema(`{"t":"object","$s":`)
		e.document(v, false)
		e.schema(`}`)

	case *types.Array:
		e.schema(`{"t":"array","i":[`)
		e.val = append(e.val, '[')

		for i := range v.Len() {
			if i > 0 {
				e.schema(`,`)
				e.val = append(e.val, ',')
			}

			e.value(must.NotFail(v.Get(i)))

			if e.stop() {
				return
			}
		}

		e.val = append(e.val, ']')
		e.schema(`]}`)

	case float64:
		e.schema(`{"t":"double"}`)

		if math.IsNaN(v) || math.IsInf(v, 0) {
			if e.err == nil {
				e.err = fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(v, 'g', -1, 64))
			}

			return
		}

		e.val = appendFloat(e.val, v)

	case string:
		e.schema(`{"t":"string"}`)
		e.val = appendString(e.val, v)

	case types.Binary:
		if !e.single {
			e.sch = append(e.sch, `{"t":"binData","s":`...)
			e.sch = strconv.AppendUint(e.sch, uint64(v.Subtype), 10)
			e.sch = append(e.sch, '}')
		}

		// as json.Marshal writes a []byte
		if v.B == nil {
			e.val = append(e.val, "null"...)
			return
		}

		e.val = append(e.val, '"')
		e.val = base64.StdEncoding.AppendEncode(e.val, v.B)
		e.val = append(e.val, '"')

	case types.ObjectID:
		e.schema(`{"t":"objectId"}`)
		e.val = append(e.val, '"')
		e.val = hex.AppendEncode(e.val, v[:])
		e.val = append(e.val, '"')

	case bool:
		e.schema(`{"t":"bool"}`)
		e.val = strconv.AppendBool(e.val, v)

	case time.Time:
		e.schema(`{"t":"date"}`)
		e.val = strconv.AppendInt(e.val, v.UnixMilli(), 10)

	case types.NullType:
		e.schema(`{"t":"null"}`)
		e.val = append(e.val, "null"...)

	case types.Regex:
		if !e.single {
			e.sch = append(e.sch, `{"t":"regex","o":`...)
			e.sch = appendString(e.sch, v.Options)
			e.sch = append(e.sch, '}')
		}

		e.val = appendString(e.val, v.Pattern)

	case int32:
		e.schema(`{"t":"int"}`)
		e.val = strconv.AppendInt(e.val, int64(v), 10)

	case types.Timestamp:
		e.schema(`{"t":"timestamp"}`)
		e.val = strconv.AppendUint(e.val, uint64(v), 10)

	case int64:
		e.schema(`{"t":"long"}`)
		e.val = strconv.AppendInt(e.val, v, 10)

	default:
		panic(fmt.Sprintf("sjson: unknown type %[1]T (value %[1]q)", v))
	}
}

// schema writes s to the schema, unless single.
func (e *encoder) schema(s string) {
	if !e.single {
		e.sch = append(e.sch, s...)
	}
}

// hasDuplicate reports whether a key is in keys twice.
func hasDuplicate(keys []string) bool {
	if len(keys) > 32 {
		seen := make(map[string]struct{}, len(keys))

		for _, k := range keys {
			if _, ok := seen[k]; ok {
				return true
			}

			seen[k] = struct{}{}
		}

		return false
	}

	for i := 1; i < len(keys); i++ {
		for j := range i {
			if len(keys[i]) == len(keys[j]) && keys[i] == keys[j] {
				return true
			}
		}
	}

	return false
}

// isDuplicate reports whether keys[i] is also elsewhere in keys.
func isDuplicate(keys []string, i int) bool {
	for j, k := range keys {
		if j != i && k == keys[i] {
			return true
		}
	}

	return false
}

// appendFloat appends f as json.Marshal writes a float64: like %g, but with the exponent only below
// 1e-6 and from 1e21 on, and without a leading zero in a negative exponent.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')

	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}

	b = strconv.AppendFloat(b, f, format, -1, 64)

	if format == 'e' {
		// e-07 to e-7
		if n := len(b); b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}

	return b
}

// safeByte tells the ASCII bytes json.Marshal writes as they are: all but control characters,
// quote, backslash and (as it escapes HTML) <, > and &.
var safeByte = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}

	return
}()

// appendString appends s quoted as json.Marshal quotes a string: short escapes for quote, backslash,
// \b, \f, \n, \r and \t, \u00XX for other control characters and <, > and &, \ufffd for each byte of
// invalid UTF-8, \u2028 and \u2029 for those separators.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"

	b = append(b, '"')
	start := 0

	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if safeByte[c] {
				i++
				continue
			}

			b = append(b, s[start:i]...)

			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}

			i++
			start = i

			continue
		}

		r, n := utf8.DecodeRuneInString(s[i:])

		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += n
			continue
		}

		i += n
		start = i
	}

	b = append(b, s[start:]...)

	return append(b, '"')
}
