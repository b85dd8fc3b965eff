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
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// marshalResult is what an encoder did: its bytes, or its error, or its panic.
type marshalResult struct {
	b        []byte
	err      error
	panicked bool
}

// run calls f and catches its panic.
func run(f func() ([]byte, error)) (res marshalResult) {
	defer func() {
		if recover() != nil {
			res = marshalResult{panicked: true}
		}
	}()

	b, err := f()

	return marshalResult{b: b, err: err}
}

// sameResults reports how two encoders' results differ, or "".
func sameResults(want, got marshalResult) string {
	switch {
	case want.panicked || got.panicked:
		if want.panicked != got.panicked {
			return fmt.Sprintf("panicked: reference %v, new %v", want.panicked, got.panicked)
		}
	case want.err != nil || got.err != nil:
		if (want.err != nil) != (got.err != nil) {
			return fmt.Sprintf("errors: reference %v, new %v (%q)", want.err, got.err, got.b)
		}
	case !bytes.Equal(want.b, got.b):
		return fmt.Sprintf("bytes differ:\nreference: %q\nnew:       %q", want.b, got.b)
	}

	return ""
}

// checkMarshal fails unless Marshal and MarshalSingleValue do exactly what upstream's did with doc.
func checkMarshal(t *testing.T, doc *types.Document) {
	t.Helper()

	want := run(func() ([]byte, error) { return marshalReference(doc) })
	got := run(func() ([]byte, error) { return Marshal(doc) })

	if d := sameResults(want, got); d != "" {
		t.Fatalf("Marshal(%v): %s", doc, d)
	}

	want = run(func() ([]byte, error) { return marshalSingleValueReference(doc) })
	got = run(func() ([]byte, error) { return MarshalSingleValue(doc) })

	if d := sameResults(want, got); d != "" {
		t.Fatalf("MarshalSingleValue(%v): %s", doc, d)
	}
}

// trickyStrings are strings json.Marshal escapes in its own ways.
func trickyStrings() []string {
	s := []string{
		"", "plain", "\"", "\\", "/", "<tag attr=\"&\">", "\u2028\u2029", "\u2027\u202a", "\ufffd", "\xff", "\xed\xa0\x80",
		"\xe2\x82", "a\xc3", "\xf4\x90\x80\x80", "é世🎉", "\x7f", string([]byte{0xc0, 0xaf}),
	}

	for c := range 0x20 {
		s = append(s, string(rune(c)))
	}

	return s
}

func TestMarshalTricky(t *testing.T) {
	t.Parallel()

	mk := func(pairs ...any) *types.Document { return must.NotFail(types.NewDocument(pairs...)) }
	arr := func(vals ...any) *types.Array { return must.NotFail(types.NewArray(vals...)) }

	floats := []float64{
		0, math.Copysign(0, -1), 1, -1, 0.1, 1.0 / 3, 1e20, 1e21, -1e21, 123456789e13, 1e-6, 1e-7, -1e-7, 1.5e-7, 5e-324,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 9007199254740993, 1e100, 1.2345678901234567e-100,
	}

	var docs []*types.Document

	for _, f := range floats {
		docs = append(docs, mk("f", f), mk("a", arr(f)))
	}

	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		docs = append(docs, mk("f", f), mk("d", mk("x", 1.0, "f", f)), mk("a", arr(int32(1), f)))
	}

	for _, s := range trickyStrings() {
		docs = append(docs,
			mk(s, s),
			mk("s", s, "r", types.Regex{Pattern: s, Options: s}, "d", mk(s, s), "a", arr(s, mk(s, s))),
		)
	}

	docs = append(docs,
		mk("nilBinary", types.Binary{}, "emptyBinary", types.Binary{B: []byte{}, Subtype: 0x80}),
		mk("dup", 1.0, "dup", 2.0),
		mk("d", mk("dup", 1.0, "x", true, "dup", 2.0)),
		mk("a", arr(mk("dup", 1.0, "dup", 2.0))),
		mk("nan", math.NaN(), "d", mk("dup", 1.0, "dup", 2.0)),
		mk("d", mk("nan", math.NaN(), "dup", 1.0, "dup", 2.0)),
		mk("time", time.Unix(1, 999_999_999).In(time.UTC), "old", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)),
		mk("ts", types.Timestamp(math.MaxUint64), "long", int64(math.MinInt64), "int", int32(math.MinInt32)),
	)

	docs = append(docs, sampleDocuments(false)...)

	r := rand.New(rand.NewPCG(5, 6))
	for range 500 {
		docs = append(docs, randomDocument(r, 0))
	}

	for _, doc := range docs {
		checkMarshal(t, doc)
	}

	// MarshalSingleValue of every value alone
	for _, doc := range docs {
		for _, v := range doc.Values() {
			want := run(func() ([]byte, error) { return marshalSingleValueReference(v) })
			got := run(func() ([]byte, error) { return MarshalSingleValue(v) })

			if d := sameResults(want, got); d != "" {
				t.Fatalf("MarshalSingleValue(%#v): %s", v, d)
			}
		}
	}
}

// fuzzReader makes values of every type from fuzz input.
type fuzzReader struct {
	b []byte
}

// byte returns the next byte, or 0 at the end.
func (r *fuzzReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}

	c := r.b[0]
	r.b = r.b[1:]

	return c
}

// take returns the next n bytes, or fewer at the end.
func (r *fuzzReader) take(n int) []byte {
	n = min(n, len(r.b))
	b := r.b[:n]
	r.b = r.b[n:]

	return b
}

// uint64 returns the next 8 bytes as a number.
func (r *fuzzReader) uint64() uint64 {
	var b [8]byte
	copy(b[:], r.take(8))

	return binary.LittleEndian.Uint64(b[:])
}

// string returns a string of any bytes.
func (r *fuzzReader) string() string {
	return string(r.take(int(r.byte() % 24)))
}

// value returns a value of any type.
func (r *fuzzReader) value(depth int) any {
	switch r.byte() % 17 {
	case 0:
		return math.Float64frombits(r.uint64())
	case 1:
		special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 1e21, 1e-7, 5e-324, 1e20}
		return special[int(r.byte())%len(special)]
	case 2:
		return r.string()
	case 3:
		b := types.Binary{Subtype: types.BinarySubtype(r.byte())}
		if n := r.byte(); n%2 == 0 {
			b.B = append([]byte{}, r.take(int(n/2%32))...) // else nil
		}

		return b
	case 4:
		var id types.ObjectID
		copy(id[:], r.take(len(id)))

		return id
	case 5:
		return r.byte()%2 == 0
	case 6:
		return time.Unix(int64(r.uint64())>>20, int64(r.uint64()%1e9))
	case 7:
		return types.Null
	case 8:
		return types.Regex{Pattern: r.string(), Options: r.string()}
	case 9:
		return int32(r.uint64())
	case 10:
		return types.Timestamp(r.uint64())
	case 11:
		return int64(r.uint64())
	case 12, 13:
		if depth < 4 {
			return r.document(depth + 1)
		}

		return types.Null
	default:
		if depth >= 4 {
			return types.Null
		}

		a := types.MakeArray(0)
		for range r.byte() % 5 {
			a.Append(r.value(depth + 1))
		}

		return a
	}
}

// document returns a document, maybe with duplicate keys.
func (r *fuzzReader) document(depth int) *types.Document {
	n := int(r.byte() % 6)
	pairs := make([]any, 0, 2*n)

	for range n {
		pairs = append(pairs, r.string(), r.value(depth))
	}

	return must.NotFail(types.NewDocument(pairs...))
}

func FuzzMarshal(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x05\x01a\x02\x05hello\x01b\x01\x00"))
	f.Add([]byte("\x03\x01k\x0c\x02\x01x\x09abcd\x02y\x0e\x03\x02\x03z\x01\x04"))
	f.Add([]byte("\x02\x03<&>\x02\x04\xe2\x80\xa8\x03\xff\xfe\x02\x01\x00"))
	f.Add([]byte("\x02\x01d\x00\x01d\x00"))

	r := rand.New(rand.NewPCG(7, 8))
	for range 20 {
		b := make([]byte, 64+r.IntN(256))
		for i := range b {
			b[i] = byte(r.Uint32())
		}

		f.Add(b)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		r := &fuzzReader{b: data}
		checkMarshal(t, r.document(0))

		v := r.value(0)
		want := run(func() ([]byte, error) { return marshalSingleValueReference(v) })
		got := run(func() ([]byte, error) { return MarshalSingleValue(v) })

		if d := sameResults(want, got); d != "" {
			t.Fatalf("MarshalSingleValue(%#v): %s", v, d)
		}
	})
}

func BenchmarkMarshal(b *testing.B) {
	doc := benchDocument()

	for _, bc := range []struct {
		name string
		f    func(*types.Document) ([]byte, error)
	}{
		{name: "Reference", f: marshalReference},
		{name: "SinglePass", f: Marshal},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()

			for b.Loop() {
				if _, err := bc.f(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
