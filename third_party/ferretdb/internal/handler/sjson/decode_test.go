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
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// diffValues returns where a and b differ, or "" if they are the same: same Go types, documents with
// the same keys in the same order, floats with the same bits (NaN equals NaN, -0 differs from 0),
// times Equal and in the same location, binaries equally nil or not.
func diffValues(path string, a, b any) string {
	if ta, tb := fmt.Sprintf("%T", a), fmt.Sprintf("%T", b); ta != tb {
		return fmt.Sprintf("%s: type %s != %s", path, ta, tb)
	}

	switch a := a.(type) {
	case *types.Document:
		b := b.(*types.Document)

		if (a == nil) != (b == nil) {
			return fmt.Sprintf("%s: nil document", path)
		}

		ak, bk := a.Keys(), b.Keys()
		if len(ak) != len(bk) {
			return fmt.Sprintf("%s: keys %q != %q", path, ak, bk)
		}

		av, bv := a.Values(), b.Values()

		for i := range ak {
			if ak[i] != bk[i] {
				return fmt.Sprintf("%s: keys %q != %q", path, ak, bk)
			}

			if !a.Has(ak[i]) || !b.Has(bk[i]) {
				return fmt.Sprintf("%s: key %q not indexed", path, ak[i])
			}

			if d := diffValues(path+"."+ak[i], av[i], bv[i]); d != "" {
				return d
			}
		}

		if _, dup := a.FindDuplicateKey(); dup {
			return fmt.Sprintf("%s: duplicate keys", path)
		}

		if _, dup := b.FindDuplicateKey(); dup {
			return fmt.Sprintf("%s: duplicate keys", path)
		}

		return ""

	case *types.Array:
		b := b.(*types.Array)

		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: %d elements != %d", path, a.Len(), b.Len())
		}

		for i := range a.Len() {
			if d := diffValues(fmt.Sprintf("%s[%d]", path, i), must.NotFail(a.Get(i)), must.NotFail(b.Get(i))); d != "" {
				return d
			}
		}

		return ""

	case float64:
		b := b.(float64)

		if math.Float64bits(a) != math.Float64bits(b) && !(math.IsNaN(a) && math.IsNaN(b)) {
			return fmt.Sprintf("%s: %v != %v", path, a, b)
		}

		return ""

	case time.Time:
		b := b.(time.Time)

		if !a.Equal(b) || a.Location() != b.Location() {
			return fmt.Sprintf("%s: %v != %v", path, a, b)
		}

		return ""

	case types.Binary:
		b := b.(types.Binary)

		if a.Subtype != b.Subtype || !bytes.Equal(a.B, b.B) || (a.B == nil) != (b.B == nil) {
			return fmt.Sprintf("%s: %#v != %#v", path, a, b)
		}

		return ""

	default:
		if a != b {
			return fmt.Sprintf("%s: %#v != %#v", path, a, b)
		}

		return ""
	}
}

// checkSame decodes data with both decoders and fails unless both fail or both give the same document.
func checkSame(t *testing.T, data []byte) (*types.Document, error) {
	t.Helper()

	want, wantErr := unmarshalReference(data)
	got, gotErr := Unmarshal(data)

	switch {
	case wantErr != nil && gotErr != nil:
		return nil, gotErr
	case wantErr != nil:
		t.Fatalf("%q: the reference fails (%v), Unmarshal gives %v", data, wantErr, got)
	case gotErr != nil:
		t.Fatalf("%q: the reference gives %v, Unmarshal fails: %v", data, want, gotErr)
	}

	if d := diffValues("$", want, got); d != "" {
		t.Fatalf("%q: documents differ at %s\nreference: %v\nUnmarshal: %v", data, d, want, got)
	}

	return got, nil
}

// unmarshalCase is an input of TestUnmarshalTricky.
type unmarshalCase struct {
	name string
	in   string
	ok   bool
	keys string // the keys the document has, joined by commas, when ok
}

// unmarshalCases returns inputs on the edges of what Unmarshal accepts.
func unmarshalCases() []unmarshalCase {
	const (
		intA    = `{"$s":{"p":{"a":{"t":"int"}},"$k":["a"]},"a":%s}`
		longA   = `{"$s":{"p":{"a":{"t":"long"}},"$k":["a"]},"a":%s}`
		doubleA = `{"$s":{"p":{"a":{"t":"double"}},"$k":["a"]},"a":%s}`
		tsA     = `{"$s":{"p":{"a":{"t":"timestamp"}},"$k":["a"]},"a":%s}`
		dateA   = `{"$s":{"p":{"a":{"t":"date"}},"$k":["a"]},"a":%s}`
		strA    = `{"$s":{"p":{"a":{"t":"string"}},"$k":["a"]},"a":%s}`
		oidA    = `{"$s":{"p":{"a":{"t":"objectId"}},"$k":["a"]},"a":%s}`
		binA    = `{"$s":{"p":{"a":{"t":"binData","s":4}},"$k":["a"]},"a":%s}`
		boolA   = `{"$s":{"p":{"a":{"t":"bool"}},"$k":["a"]},"a":%s}`
		schemaA = `{"$s":{"p":{"a":%s},"$k":["a"]},"a":%s}`
	)

	deep := func(n int) string {
		return `{"$s":{"p":{"x":{"t":"int"}},"$k":["x"]},"x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `,"x":1}`
	}

	return []unmarshalCase{
		// the shape of the whole document
		{name: "Empty", in: `{"$s":{}}`, ok: true},
		{name: "NullSchema", in: `{"$s":null}`, ok: true},
		{name: "LeadingSpace", in: " \t\r\n" + `{"$s":{}}`, ok: true},
		{name: "TrailingSpace", in: `{"$s":{}} `},
		{name: "TrailingNewline", in: `{"$s":{}}` + "\n"},
		{name: "TrailingData", in: `{"$s":{}}{}`},
		{name: "NoSchema", in: `{}`},
		{name: "NoInput", in: ``},
		{name: "Null", in: `null`},
		{name: "Array", in: `[]`},
		{name: "String", in: `"$s"`},
		{name: "Spaces", in: " { \"$s\" : { \"p\" : { \"a\" :\t{ \"t\" : \"int\" } } ,\r\n\"$k\" : [ \"a\" ] } , \"a\" : 1 }", ok: true, keys: "a"},
		{name: "SchemaNotFirst", in: `{"a":1,"$s":{"p":{"a":{"t":"int"}},"$k":["a"]}}`, ok: true, keys: "a"},
		{name: "SchemaTwiceLastWins", in: `{"$s":{"p":{"a":{"t":"string"}},"$k":["a"]},"a":1,"$s":{"p":{"a":{"t":"int"}},"$k":["a"]}}`, ok: true, keys: "a"},
		{name: "SchemaTwiceFirstBroken", in: `{"$s":{"x":1},"$s":{}}`, ok: true},
		{name: "SchemaTwiceLastBroken", in: `{"$s":{},"$s":{"x":1}}`},
		{name: "SchemaNotObject", in: `{"$s":1}`},
		{name: "SchemaEscapedKey", in: `{"\u0024s":{}}`, ok: true},
		{name: "SchemaKeyInKeys", in: `{"$s":{"p":{"$s":{"t":"int"}},"$k":["$s"]},"$t":1}`},
		{name: "KeyTwiceLastWins", in: `{"$s":{"p":{"a":{"t":"int"}},"$k":["a"]},"a":"x","a":1}`, ok: true, keys: "a"},
		{name: "KeyTwiceLastBad", in: `{"$s":{"p":{"a":{"t":"int"}},"$k":["a"]},"a":1,"a":"x"}`},
		{name: "KeysOutOfOrder", in: `{"$s":{"p":{"a":{"t":"int"},"b":{"t":"int"}},"$k":["a","b"]},"b":2,"a":1}`, ok: true, keys: "a,b"},
		{name: "PropsOutOfOrder", in: `{"$s":{"p":{"b":{"t":"string"},"a":{"t":"int"}},"$k":["a","b"]},"a":1,"b":"x"}`, ok: true, keys: "a,b"},
		{name: "ExtraKey", in: `{"$s":{"p":{"a":{"t":"int"}},"$k":["a"]},"a":1,"b":2}`},
		{name: "MissingKey", in: `{"$s":{"p":{"a":{"t":"int"}},"$k":["a"]},"b":1}`},
		{name: "NoFields", in: `{"$s":{"p":{"a":{"t":"int"}},"$k":["a"]}}`},
		{name: "KeysTwice", in: `{"$s":{"p":{"a":{"t":"int"}},"$k":["a","a"]},"a":1,"b":[{"x":"anything"}]}`, ok: true, keys: "a"},
		{name: "KeysTwiceMissing", in: `{"$s":{"p":{"a":{"t":"int"}},"$k":["a","a"]},"a":1}`},
		{name: "UnusedValueBadSyntax", in: `{"$s":{"p":{"a":{"t":"int"}},"$k":["a","a"]},"a":1,"b":[1,]}`},
		{name: "NoProperty", in: `{"$s":{"$k":["a"]},"a":null}`, ok: true, keys: "a"},
		{name: "NoPropertyNotNull", in: `{"$s":{"$k":["a"]},"a":1}`},
		{name: "NullProperty", in: `{"$s":{"p":{"a":null},"$k":["a"]},"a":null}`, ok: true, keys: "a"},
		{name: "NullValueAnyType", in: fmt.Sprintf(schemaA, `{"t":"object"}`, `null`), ok: true, keys: "a"},
		{name: "EmptyKey", in: `{"$s":{"p":{"":{"t":"int"}},"$k":[""]},"":1}`, ok: true, keys: ""},
		{name: "TrailingComma", in: `{"$s":{"p":{"a":{"t":"int"}},"$k":["a"]},"a":1,}`},
		{name: "MissingColon", in: `{"$s" {}}`},
		{name: "Depth10000", in: deep(9999), ok: true, keys: "x"},
		{name: "Depth10001", in: deep(10000)},

		// the schema, decoded as encoding/json decodes structs
		{name: "UnknownSchemaField", in: `{"$s":{"x":1}}`},
		{name: "UnknownElemField", in: fmt.Sprintf(schemaA, `{"t":"int","x":1}`, `1`)},
		{name: "UpperCaseFields", in: `{"$s":{"P":{"a":{"T":"int"}},"$K":["a"]},"a":1}`, ok: true, keys: "a"},
		{name: "KelvinSignK", in: `{"$s":{"p":{"a":{"t":"int"}},"$\u212a":["a"]},"a":1}`, ok: true, keys: "a"},
		{name: "LongSForS", in: fmt.Sprintf(schemaA, `{"t":"binData","\u017f":5}`, `"AQI="`), ok: true, keys: "a"},
		{name: "DotlessINotI", in: fmt.Sprintf(schemaA, `{"t":"array","\u0131":[]}`, `[]`)},
		{name: "EscapedFieldName", in: `{"$s":{"\u0070":{"a":{"t":"int"}},"$k":["a"]},"a":1}`, ok: true, keys: "a"},
		{name: "TypeCaseSensitive", in: fmt.Sprintf(schemaA, `{"t":"Int"}`, `1`)},
		{name: "UnknownTypeNull", in: fmt.Sprintf(schemaA, `{"t":"foo"}`, `null`), ok: true, keys: "a"},
		{name: "UnknownType", in: fmt.Sprintf(schemaA, `{"t":"foo"}`, `1`)},
		{name: "NoType", in: fmt.Sprintf(schemaA, `{}`, `1`)},
		{name: "TypeNull", in: fmt.Sprintf(schemaA, `{"t":"null"}`, `null`), ok: true, keys: "a"},
		{name: "TypeNullNotNull", in: fmt.Sprintf(schemaA, `{"t":"null"}`, `0`)},
		{name: "TypeTwiceNullKeeps", in: fmt.Sprintf(schemaA, `{"t":"int","t":null}`, `1`), ok: true, keys: "a"},
		{name: "TypeNotString", in: fmt.Sprintf(schemaA, `{"t":1}`, `1`)},
		{name: "PropsTwiceMerge", in: `{"$s":{"p":{"a":{"t":"int"}},"p":{"b":{"t":"string"}},"$k":["a","b"]},"a":1,"b":"x"}`, ok: true, keys: "a,b"},
		{name: "PropsTwiceReplace", in: `{"$s":{"p":{"a":{"t":"int"}},"p":{"a":{"t":"string"}},"$k":["a"]},"a":"x"}`, ok: true, keys: "a"},
		{name: "PropsNullResets", in: `{"$s":{"p":{"a":{"t":"int"}},"p":null,"$k":["a"]},"a":1}`},
		{name: "PropTwiceInMap", in: `{"$s":{"p":{"a":{"t":"int"},"a":{"t":"string"}},"$k":["a"]},"a":"x"}`, ok: true, keys: "a"},
		{name: "PropTwiceNoMerge", in: `{"$s":{"p":{"a":{"t":"regex","o":"i"},"a":{"t":"regex"}},"$k":["a"]},"a":"x"}`},
		{name: "PropNotObject", in: `{"$s":{"p":{"a":1},"$k":["a"]},"a":null}`},
		{name: "KeysTwiceShorterKeepsCap", in: `{"$s":{"p":{"x":{"t":"int"},"b":{"t":"int"}},"$k":["a","b"],"$k":["x"],"$k":[null,null]},"x":1,"b":2}`, ok: true, keys: "x,b"},
		{name: "KeysNullElement", in: `{"$s":{"p":{"":{"t":"int"}},"$k":[null]},"":1}`, ok: true, keys: ""},
		{name: "KeysEmptyResets", in: `{"$s":{"p":{"a":{"t":"int"}},"$k":["a"],"$k":[],"$k":[null]},"":null}`, ok: true, keys: ""},
		{name: "KeysNotStrings", in: `{"$s":{"$k":[1]}}`},
		{name: "KeysNull", in: `{"$s":{"$k":null}}`, ok: true},
		{name: "ItemsMerge", in: fmt.Sprintf(schemaA, `{"t":"array","i":[{"t":"regex"}],"i":[{"o":"m"}]}`, `["x"]`), ok: true, keys: "a"},
		{name: "ItemsNullThenObject", in: fmt.Sprintf(schemaA, `{"t":"array","i":[{"t":"regex","o":"m"}],"i":[null],"i":[{"t":"regex"}]}`, `["x"]`)},
		{name: "ItemsShorterKeepsCap", in: fmt.Sprintf(schemaA, `{"t":"array","i":[{"t":"int"},{"t":"string"}],"i":[{"t":"int"}],"i":[{},{}]}`, `[1,"x"]`), ok: true, keys: "a"},
		{name: "ItemsNull", in: fmt.Sprintf(schemaA, `{"t":"array","i":null}`, `[]`)},
		{name: "ItemsMissing", in: fmt.Sprintf(schemaA, `{"t":"array"}`, `[]`)},
		{name: "ItemsEmpty", in: fmt.Sprintf(schemaA, `{"t":"array","i":[]}`, `[]`), ok: true, keys: "a"},
		{name: "ItemNull", in: fmt.Sprintf(schemaA, `{"t":"array","i":[null]}`, `[null]`), ok: true, keys: "a"},
		{name: "ItemNullNotNull", in: fmt.Sprintf(schemaA, `{"t":"array","i":[null]}`, `[1]`)},
		{name: "ItemsTooMany", in: fmt.Sprintf(schemaA, `{"t":"array","i":[{"t":"int"}]}`, `[1,2]`)},
		{name: "ItemsTooFew", in: fmt.Sprintf(schemaA, `{"t":"array","i":[{"t":"int"},{"t":"int"}]}`, `[1]`)},
		{name: "SchemaTwiceMerge", in: fmt.Sprintf(schemaA, `{"t":"object","$s":{"$k":["x"]},"$s":{"p":{"x":{"t":"int"}}}}`, `{"x":1}`), ok: true, keys: "a"},
		{name: "SchemaNullThenObject", in: fmt.Sprintf(schemaA, `{"t":"object","$s":{"$k":["x"]},"$s":null,"$s":{"p":{"x":{"t":"int"}}}}`, `{"x":1}`)},
		{name: "OptionsNull", in: fmt.Sprintf(schemaA, `{"t":"regex","o":"i","o":null}`, `"x"`)},
		{name: "OptionsEmpty", in: fmt.Sprintf(schemaA, `{"t":"regex","o":""}`, `"x"`), ok: true, keys: "a"},
		{name: "SubtypeMissing", in: fmt.Sprintf(schemaA, `{"t":"binData"}`, `""`)},
		{name: "Subtype255", in: fmt.Sprintf(schemaA, `{"t":"binData","s":255}`, `""`), ok: true, keys: "a"},
		{name: "Subtype256", in: fmt.Sprintf(schemaA, `{"t":"binData","s":256}`, `""`)},
		{name: "SubtypeNegative", in: fmt.Sprintf(schemaA, `{"t":"binData","s":-0}`, `""`)},
		{name: "SubtypeFraction", in: fmt.Sprintf(schemaA, `{"t":"binData","s":1.0}`, `""`)},
		{name: "SubtypeString", in: fmt.Sprintf(schemaA, `{"t":"binData","s":"1"}`, `""`)},

		// sub-documents
		{name: "SubEmptyAnySchema", in: fmt.Sprintf(schemaA, `{"t":"object","$s":{"$k":["x"]}}`, `{}`), ok: true, keys: "a"},
		{name: "SubNoSchema", in: fmt.Sprintf(schemaA, `{"t":"object"}`, `{}`)},
		{name: "SubSchemaKeyIsPlain", in: fmt.Sprintf(schemaA, `{"t":"object","$s":{"p":{"$s":{"t":"int"}},"$k":["$s"]}}`, `{"$s":1}`), ok: true, keys: "a"},
		{name: "SubKeyTwice", in: fmt.Sprintf(schemaA, `{"t":"object","$s":{"p":{"x":{"t":"int"}},"$k":["x"]}}`, `{"x":"bad","x":1}`), ok: true, keys: "a"},
		{name: "SubExtraKey", in: fmt.Sprintf(schemaA, `{"t":"object","$s":{"p":{"x":{"t":"int"}},"$k":["x"]}}`, `{"x":1,"y":1}`)},
		{name: "SubNotObject", in: fmt.Sprintf(schemaA, `{"t":"object","$s":{}}`, `[]`)},

		// numbers
		{name: "IntMin", in: fmt.Sprintf(intA, `-2147483648`), ok: true, keys: "a"},
		{name: "IntOverflow", in: fmt.Sprintf(intA, `2147483648`)},
		{name: "IntUnderflow", in: fmt.Sprintf(intA, `-2147483649`)},
		{name: "IntMinusZero", in: fmt.Sprintf(intA, `-0`), ok: true, keys: "a"},
		{name: "IntFraction", in: fmt.Sprintf(intA, `1.0`)},
		{name: "IntExponent", in: fmt.Sprintf(intA, `1e2`)},
		{name: "IntString", in: fmt.Sprintf(intA, `"1"`)},
		{name: "IntLeadingZero", in: fmt.Sprintf(intA, `01`)},
		{name: "IntPlus", in: fmt.Sprintf(intA, `+1`)},
		{name: "IntMinusAlone", in: fmt.Sprintf(intA, `-`)},
		{name: "LongMax", in: fmt.Sprintf(longA, `9223372036854775807`), ok: true, keys: "a"},
		{name: "LongMin", in: fmt.Sprintf(longA, `-9223372036854775808`), ok: true, keys: "a"},
		{name: "LongOverflow", in: fmt.Sprintf(longA, `9223372036854775808`)},
		{name: "LongUnderflow", in: fmt.Sprintf(longA, `-9223372036854775809`)},
		{name: "LongHuge", in: fmt.Sprintf(longA, `123456789012345678901234567890`)},
		{name: "TimestampMax", in: fmt.Sprintf(tsA, `18446744073709551615`), ok: true, keys: "a"},
		{name: "TimestampOverflow", in: fmt.Sprintf(tsA, `18446744073709551616`)},
		{name: "TimestampMinusZero", in: fmt.Sprintf(tsA, `-0`)},
		{name: "DoubleMinusZero", in: fmt.Sprintf(doubleA, `-0`), ok: true, keys: "a"},
		{name: "DoubleMinusZeroFraction", in: fmt.Sprintf(doubleA, `-0.0e5`), ok: true, keys: "a"},
		{name: "DoubleBig", in: fmt.Sprintf(doubleA, `1e308`), ok: true, keys: "a"},
		{name: "DoubleOverflow", in: fmt.Sprintf(doubleA, `1e309`)},
		{name: "DoubleUnderflow", in: fmt.Sprintf(doubleA, `1e-400`), ok: true, keys: "a"},
		{name: "DoubleLongInteger", in: fmt.Sprintf(doubleA, `123456789012345678901234567890`), ok: true, keys: "a"},
		{name: "Double16Digits", in: fmt.Sprintf(doubleA, `9007199254740993`), ok: true, keys: "a"},
		{name: "DoubleExponent", in: fmt.Sprintf(doubleA, `1E+2`), ok: true, keys: "a"},
		{name: "DoubleNoFractionDigits", in: fmt.Sprintf(doubleA, `1.`)},
		{name: "DoubleNoLeadingDigit", in: fmt.Sprintf(doubleA, `.5`)},
		{name: "DoubleNaN", in: fmt.Sprintf(doubleA, `NaN`)},
		{name: "DoubleInfinity", in: fmt.Sprintf(doubleA, `Infinity`)},
		{name: "DoubleString", in: fmt.Sprintf(doubleA, `"1"`)},
		{name: "DateNegative", in: fmt.Sprintf(dateA, `-1`), ok: true, keys: "a"},
		{name: "DateFraction", in: fmt.Sprintf(dateA, `1.5`)},

		// strings
		{name: "Escapes", in: fmt.Sprintf(strA, `"\"\\\/\b\f\n\r\t\u00e9\u00E9\u0000"`), ok: true, keys: "a"},
		{name: "SurrogatePair", in: fmt.Sprintf(strA, `"\ud83d\ude00"`), ok: true, keys: "a"},
		{name: "LoneHighSurrogate", in: fmt.Sprintf(strA, `"\ud83d"`), ok: true, keys: "a"},
		{name: "LoneHighSurrogateThenChar", in: fmt.Sprintf(strA, `"\ud83dx"`), ok: true, keys: "a"},
		{name: "LoneLowSurrogate", in: fmt.Sprintf(strA, `"\ude00\ude00"`), ok: true, keys: "a"},
		{name: "HighThenBMP", in: fmt.Sprintf(strA, `"\ud83d\u0041"`), ok: true, keys: "a"},
		{name: "HighThenPair", in: fmt.Sprintf(strA, `"\ud83d\ud83d\ude00"`), ok: true, keys: "a"},
		{name: "HighThenEscape", in: fmt.Sprintf(strA, `"\ud83d\n"`), ok: true, keys: "a"},
		{name: "InvalidUTF8", in: fmt.Sprintf(strA, "\"a\xffb\xed\xa0\x80c\xe2\x82\""), ok: true, keys: "a"},
		{name: "EncodedReplacementChar", in: fmt.Sprintf(strA, "\"\xef\xbf\xbd\""), ok: true, keys: "a"},
		{name: "LineSeparator", in: fmt.Sprintf(strA, "\"\u2028\\u2029\""), ok: true, keys: "a"},
		{name: "DelByte", in: fmt.Sprintf(strA, "\"\x7f\""), ok: true, keys: "a"},
		{name: "SingleQuoteEscape", in: fmt.Sprintf(strA, `"\'"`)},
		{name: "BadEscape", in: fmt.Sprintf(strA, `"\x"`)},
		{name: "ShortUnicodeEscape", in: fmt.Sprintf(strA, `"\u12"`)},
		{name: "BadUnicodeEscape", in: fmt.Sprintf(strA, `"\u12g4"`)},
		{name: "HighThenBadEscape", in: fmt.Sprintf(strA, `"\ud83d\u12g4"`)},
		{name: "ControlCharacter", in: fmt.Sprintf(strA, "\"\x01\"")},
		{name: "RawNewline", in: fmt.Sprintf(strA, "\"\n\"")},
		{name: "Unterminated", in: fmt.Sprintf(strA, `"abc`)},
		{name: "EscapedKey", in: `{"$s":{"p":{"é":{"t":"int"}},"$k":["\u00e9"]},"\u00e9":1}`, ok: true, keys: "é"},
		{name: "InvalidUTF8KeysCollide", in: "{\"$s\":{\"p\":{\"\xff\":{\"t\":\"int\"}},\"$k\":[\"\xfe\"]},\"\xfd\":1}", ok: true, keys: "\ufffd"},

		// other scalars
		{name: "ObjectIDUpperCase", in: fmt.Sprintf(oidA, `"0123456789ABCDEFabcdef01"`), ok: true, keys: "a"},
		{name: "ObjectIDEscaped", in: fmt.Sprintf(oidA, `"\u00301234567890abcdefabcdef0"`), ok: true, keys: "a"},
		{name: "ObjectIDShort", in: fmt.Sprintf(oidA, `"0123456789abcdefabcdef0"`)},
		{name: "ObjectIDLong", in: fmt.Sprintf(oidA, `"0123456789abcdefabcdef0123"`)},
		{name: "ObjectIDNotHex", in: fmt.Sprintf(oidA, `"0123456789abcdefabcdef0g"`)},
		{name: "ObjectIDNumber", in: fmt.Sprintf(oidA, `1`)},
		{name: "BinaryBase64", in: fmt.Sprintf(binA, `"AQID"`), ok: true, keys: "a"},
		{name: "BinaryEmpty", in: fmt.Sprintf(binA, `""`), ok: true, keys: "a"},
		{name: "BinaryNewlines", in: fmt.Sprintf(binA, `"AQ\nID\r\n"`), ok: true, keys: "a"},
		{name: "BinaryNoPadding", in: fmt.Sprintf(binA, `"AQ"`)},
		{name: "BinaryBadBase64", in: fmt.Sprintf(binA, `"A!=="`)},
		{name: "BinaryArray", in: fmt.Sprintf(binA, `[1,2,255,null]`), ok: true, keys: "a"},
		{name: "BinaryArrayEmpty", in: fmt.Sprintf(binA, `[]`), ok: true, keys: "a"},
		{name: "BinaryArray256", in: fmt.Sprintf(binA, `[256]`)},
		{name: "BinaryArrayNegative", in: fmt.Sprintf(binA, `[-0]`)},
		{name: "BinaryArrayString", in: fmt.Sprintf(binA, `["1"]`)},
		{name: "BinaryObject", in: fmt.Sprintf(binA, `{}`)},
		{name: "BoolNumber", in: fmt.Sprintf(boolA, `1`)},
		{name: "BoolFalse", in: fmt.Sprintf(boolA, `false`), ok: true, keys: "a"},
		{name: "BoolBadLiteral", in: fmt.Sprintf(boolA, `tru`)},
		{name: "BadNull", in: fmt.Sprintf(boolA, `nul`)},
		{name: "RegexNoOptions", in: fmt.Sprintf(schemaA, `{"t":"regex"}`, `"x"`)},
		{name: "StringWrongTypeObject", in: fmt.Sprintf(strA, `{"x":1}`)},
		{name: "StringWrongTypeBadSyntax", in: fmt.Sprintf(strA, `{"x":}`)},
	}
}

func TestUnmarshalTricky(t *testing.T) {
	t.Parallel()

	for _, tc := range unmarshalCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			doc, err := checkSame(t, []byte(tc.in))
			if tc.ok != (err == nil) {
				t.Fatalf("%q: ok = %v, want %v (error: %v)", tc.in, err == nil, tc.ok, err)
			}

			if err == nil {
				if keys := strings.Join(doc.Keys(), ","); keys != tc.keys {
					t.Fatalf("%q: keys %q, want %q", tc.in, keys, tc.keys)
				}
			}
		})
	}
}

// TestUnmarshalValues checks values the tricky cases only compare between the two decoders.
func TestUnmarshalValues(t *testing.T) {
	t.Parallel()

	for in, want := range map[string]any{
		`{"$s":{"p":{"a":{"t":"double"}},"$k":["a"]},"a":-0}`:                       math.Copysign(0, -1),
		`{"$s":{"p":{"a":{"t":"double"}},"$k":["a"]},"a":0.1}`:                      0.1,
		`{"$s":{"p":{"a":{"t":"date"}},"$k":["a"]},"a":-1}`:                         time.UnixMilli(-1),
		`{"$s":{"p":{"a":{"t":"string"}},"$k":["a"]},"a":"\ud83d\ude00"}`:           "😀",
		`{"$s":{"p":{"a":{"t":"string"}},"$k":["a"]},"a":"\ud83d\u0041"}`:           "\ufffdA",
		"{\"$s\":{\"p\":{\"a\":{\"t\":\"string\"}},\"$k\":[\"a\"]},\"a\":\"\xff\"}": "\ufffd",
		`{"$s":{"p":{"a":{"t":"binData","s":128}},"$k":["a"]},"a":[1,null]}`:        types.Binary{B: []byte{1, 0}, Subtype: types.BinaryUser},
		`{"$s":{"p":{"a":{"t":"binData","s":0}},"$k":["a"]},"a":""}`:                types.Binary{B: []byte{}},
		`{"$s":{"p":{"a":{"t":"int"}},"$k":["a"]},"a":-0}`:                          int32(0),
	} {
		doc, err := Unmarshal([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}

		if d := diffValues("a", want, must.NotFail(doc.Get("a"))); d != "" {
			t.Errorf("%s: %s", in, d)
		}
	}
}

// sampleDocuments returns documents of every type, nested, with unicode and escapes, empty ones and
// big numbers. If roundTrip is set, only values that Marshal and Unmarshal give back as they were.
func sampleDocuments(roundTrip bool) []*types.Document {
	mk := func(pairs ...any) *types.Document { return must.NotFail(types.NewDocument(pairs...)) }
	arr := func(vals ...any) *types.Array { return must.NotFail(types.NewArray(vals...)) }

	strs := []string{
		"", "hello", "unicode: привет 世界 🎉 é", "quote \" backslash \\ slash / \b\f\n\r\t \x00\x01\x1f\x7f",
		"html <a href=\"x\">&amp;</a>", "separators \u2028 \u2029", "replacement \ufffd", strings.Repeat("long ", 200),
	}
	if !roundTrip {
		strs = append(strs, "invalid \xff\xfe \xed\xa0\x80 utf-8")
	}

	sub := mk(
		"int", int32(-7),
		"s", "nested",
		"$s", "a key named like the schema",
		"empty", mk(),
		"emptyArray", arr(),
		"keys with \"quotes\" and \\ and é", true,
	)

	docs := []*types.Document{
		mk(),
		mk("_id", types.ObjectID{0x65, 0x1f, 0x2a, 0, 1, 2, 3, 4, 5, 6, 7, 8}),
		mk(
			"_id", "65f1c0ffee0123456789abcd",
			"int32", int32(math.MinInt32), "int32max", int32(math.MaxInt32),
			"int64", int64(math.MinInt64), "int64max", int64(math.MaxInt64), "int64big", int64(1<<53+1),
			"double", 0.1, "negzero", math.Copysign(0, -1), "zero", 0.0, "big", 1e21, "huge", math.MaxFloat64,
			"tiny", math.SmallestNonzeroFloat64, "integral", 1e20, "negative", -2.5e-300, "third", 1.0/3,
			"true", true, "false", false, "null", types.Null,
			"bin", types.Binary{B: []byte{0, 1, 2, 0xff}, Subtype: types.BinaryGeneric},
			"uuid", types.Binary{B: bytes.Repeat([]byte{0xab}, 16), Subtype: types.BinaryUUID},
			"emptyBin", types.Binary{B: []byte{}, Subtype: types.BinaryUser},
			"regex", types.Regex{Pattern: "^a.*\\d+$", Options: "imsx"},
			"regexNoOpts", types.Regex{Pattern: "/", Options: ""},
			"ts", types.Timestamp(0), "tsmax", types.Timestamp(math.MaxUint64),
			"date", time.UnixMilli(1_700_000_000_123), "epoch", time.UnixMilli(0), "past", time.UnixMilli(-62135596800000),
			"sub", sub,
			"array", arr(int32(1), "two", 3.5, types.Null, sub, arr(arr(), arr(int64(1))), mk("x", arr())),
		),
	}

	for i, s := range strs {
		docs = append(docs, mk("s", s, "nested", mk(s, s), "array", arr(s, mk("k", s))))
		docs = append(docs, mk(fmt.Sprintf("k%d", i), s))
	}

	// deep nesting
	d := mk("leaf", int64(1))
	for i := range 50 {
		if i%2 == 0 {
			d = mk("d", d)
		} else {
			d = mk("a", arr(d))
		}
	}

	docs = append(docs, d, benchDocument())

	return docs
}

// benchDocument is a document like those Mint stores: a transfer.
func benchDocument() *types.Document {
	return must.NotFail(types.NewDocument(
		"_id", "6650a1f2c3d4e5f601234567",
		"from_wallet", "6650a1f2c3d4e5f6012345a1",
		"to_wallet", "6650a1f2c3d4e5f6012345b2",
		"amount", int64(125_000),
		"currency", "EUR",
		"status", "settled",
		"idempotency_key", "0b6f9d0e-3c1a-4b7e-9a55-2f3c4d5e6f70",
		"memo", "Rent for June — flat 4B",
		"created_at", time.UnixMilli(1_716_550_000_123),
		"updated_at", time.UnixMilli(1_716_550_002_456),
		"version", int64(3),
		"meta", must.NotFail(types.NewDocument(
			"ip", "203.0.113.7",
			"user_agent", "mint-ios/4.2.1 (iPhone; iOS 17.5)",
			"attempts", int32(1),
			"source", "app",
		)),
	))
}

// randomValue returns a random value of any type that round-trips.
func randomValue(r *rand.Rand, depth int) any {
	n := 13
	if depth > 3 {
		n = 11
	}

	switch r.IntN(n) {
	case 0:
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
	case 1:
		return randomString(r)
	case 2:
		b := make([]byte, r.IntN(20))
		for i := range b {
			b[i] = byte(r.Uint32())
		}

		return types.Binary{B: b, Subtype: types.BinarySubtype(r.IntN(256))}
	case 3:
		var id types.ObjectID
		for i := range id {
			id[i] = byte(r.Uint32())
		}

		return id
	case 4:
		return r.IntN(2) == 0
	case 5:
		return time.UnixMilli(r.Int64N(1<<45) - 1<<44)
	case 6:
		return types.Null
	case 7:
		return types.Regex{Pattern: randomString(r), Options: "im"[:r.IntN(3)]}
	case 8:
		return int32(r.Uint32())
	case 9:
		return types.Timestamp(r.Uint64())
	case 10:
		return int64(r.Uint64())
	case 11:
		return randomDocument(r, depth+1)
	default:
		a := types.MakeArray(0)
		for range r.IntN(5) {
			a.Append(randomValue(r, depth+1))
		}

		return a
	}
}

// randomString returns a random valid UTF-8 string with characters encoding/json escapes.
func randomString(r *rand.Rand) string {
	const alphabet = "ab\"\\/\b\f\n\r\t\x00\x1f<>&\u2028\u2029é世🎉\ufffd"

	runes := []rune(alphabet)
	b := make([]rune, r.IntN(12))

	for i := range b {
		b[i] = runes[r.IntN(len(runes))]
	}

	return string(b)
}

// randomDocument returns a random document; keys are unique.
func randomDocument(r *rand.Rand, depth int) *types.Document {
	d := types.MakeDocument(0)

	for i := range r.IntN(6) {
		key := fmt.Sprintf("k%d", i)
		if depth > 0 {
			key = randomString(r) + key
		}

		d.Set(key, randomValue(r, depth))
	}

	return d
}

func TestUnmarshalRoundTrip(t *testing.T) {
	t.Parallel()

	docs := sampleDocuments(true)

	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		docs = append(docs, randomDocument(r, 0))
	}

	for _, doc := range docs {
		b, err := Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}

		got, err := checkSame(t, b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}

		if d := diffValues("$", doc, got); d != "" {
			t.Fatalf("%s: round trip differs at %s", b, d)
		}
	}
}

// fuzzSeeds returns the documents FuzzUnmarshal starts from.
func fuzzSeeds() [][]byte {
	var seeds [][]byte

	for _, doc := range sampleDocuments(false) {
		seeds = append(seeds, must.NotFail(Marshal(doc)))
	}

	r := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		seeds = append(seeds, must.NotFail(Marshal(randomDocument(r, 0))))
	}

	for _, tc := range unmarshalCases() {
		if len(tc.in) < 1000 {
			seeds = append(seeds, []byte(tc.in))
		}
	}

	return seeds
}

func FuzzUnmarshal(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := checkSame(t, data)
		if err != nil {
			return
		}

		// Marshal writes top-level keys unescaped: only those it writes as they are can round-trip
		for _, k := range doc.Keys() {
			if b, _ := json.Marshal(k); string(b) != `"`+k+`"` {
				return
			}
		}

		b, err := Marshal(doc)
		if err != nil {
			t.Fatalf("%q: Marshal of the decoded document: %v", data, err)
		}

		again, err := checkSame(t, b)
		if err != nil {
			t.Fatalf("%q: Marshal gives %s, which does not decode: %v", data, b, err)
		}

		if d := diffValues("$", doc, again); d != "" {
			t.Fatalf("%q: Marshal gives %s, which decodes to another document (at %s)", data, b, d)
		}
	})
}

func BenchmarkUnmarshal(b *testing.B) {
	data := must.NotFail(Marshal(benchDocument()))

	for _, bc := range []struct {
		name string
		f    func([]byte) (*types.Document, error)
	}{
		{name: "Reference", f: unmarshalReference},
		{name: "SinglePass", f: Unmarshal},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))

			for b.Loop() {
				if _, err := bc.f(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
