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

package sqlite

// Mint patch: filters and sorts on top-level fields are pushed down to SQL, in the expressions the
// indexes are built on, so that SQLite answers them through an index.
//
// The WHERE clause is a superset of the filter: it may select documents the filter rejects, never
// the other way round, because every caller filters the rows again with the whole filter
// (FilterIterator, FilterDocument, the $match stage). That is why each condition also admits the
// documents whose field is an array (MongoDB matches {f: x} against an array holding x), and why
// keys it cannot express (dotted paths, $ne, $regex, …) are simply left out.
//
// The ORDER BY clause puts first the rows whose sort keys SQL cannot order the way MongoDB does
// (arrays, documents, binary data, regular expressions, timestamps) and orders the rest by MongoDB's
// type order, then by value; the handler checks the first row it keeps and sorts in Go when it is one
// of those (common.PresortedIterator).

import (
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// plainName matches the field names pushed down: top-level names that need no quoting in SQL or in
// an SQLite JSON path.
var plainName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// plainField reports whether key is pushed down: a plain name that cannot be taken for one of the
// table's columns (a double-quoted name in SQL is a column when one has that name).
func plainField(key string) bool {
	return plainName.MatchString(key) && !strings.HasPrefix(key, backends.ReservedPrefix)
}

// arrayText is the condition that admits a field holding an array (its JSON text starts with "[";
// in the value form it may also admit strings that start with "[", which the filter rejects again).
const arrayText = ` OR (%[1]s >= '[' AND %[1]s < '\')`

// pushdown builds SQL for one query on one collection.
type pushdown struct {
	meta *metadata.Collection
}

// where returns the WHERE clause (with its leading space) and its arguments for filter.
func (p pushdown) where(filter *types.Document) (string, []any, bool) {
	conds := p.conditions(filter)
	if len(conds) == 0 {
		return "", nil, false
	}

	sql, args := and(conds)

	return " WHERE " + sql, args, true
}

// and joins conds with AND, their arguments in the same order.
func and(conds []condition) (string, []any) {
	sqls := make([]string, len(conds))
	var args []any

	for i, c := range conds {
		sqls[i], args = c.sql, append(args, c.args...)
	}

	return strings.Join(sqls, " AND "), args
}

// condition is one SQL condition, with its arguments and the field it tests ("" for an $or).
type condition struct {
	key  string
	sql  string
	args []any
}

// conditions returns the SQL conditions, to be joined with AND, implied by filter.
func (p pushdown) conditions(filter *types.Document) []condition {
	var conds []condition

	for _, key := range filter.Keys() {
		v := must.NotFail(filter.Get(key))

		switch key {
		case "$and":
			arr, ok := v.(*types.Array)
			if !ok {
				continue
			}

			for i := 0; i < arr.Len(); i++ {
				if d, ok := must.NotFail(arr.Get(i)).(*types.Document); ok {
					conds = append(conds, p.conditions(d)...)
				}
			}

		case "$or":
			if c, ok := p.or(v); ok {
				conds = append(conds, c)
			}

		default:
			if !plainField(key) {
				continue
			}

			conds = append(conds, p.field(key, v)...)
		}
	}

	return conds
}

// or returns one condition for an $or whose every branch can be pushed down. A branch of several
// conditions keeps only one on a field that leads an index, when it has one: SQLite answers an OR
// through its indexes (one search per branch, then the union) only when each branch is a condition one
// index can serve, and an AND of conditions that each admit arrays (orArray) is none — the whole table
// would be scanned. The clause stays a superset of the filter, which is all a WHERE here must be.
func (p pushdown) or(v any) (condition, bool) {
	arr, ok := v.(*types.Array)
	if !ok || arr.Len() == 0 {
		return condition{}, false
	}

	branches := make([]string, 0, arr.Len())
	var args []any

	for i := 0; i < arr.Len(); i++ {
		d, ok := must.NotFail(arr.Get(i)).(*types.Document)
		if !ok {
			return condition{}, false
		}

		conds := p.conditions(d)
		if len(conds) == 0 {
			return condition{}, false
		}

		if j := slices.IndexFunc(conds, func(c condition) bool { return p.leadsIndex(c.key) }); j >= 0 && len(conds) > 1 {
			conds = conds[j : j+1]
		}

		sql, a := and(conds)
		branches, args = append(branches, "("+sql+")"), append(args, a...)
	}

	return condition{sql: "(" + strings.Join(branches, " OR ") + ")", args: args}, true
}

// leadsIndex reports whether key is the first field of one of the collection's indexes (_id's
// included): a condition on it alone can be answered by an index search.
func (p pushdown) leadsIndex(key string) bool {
	if key == "_id" {
		return true
	}

	for _, idx := range p.meta.Settings.Indexes {
		if len(idx.Key) > 0 && idx.Key[0].Field == key {
			return true
		}
	}

	return false
}

// field returns the conditions for one top-level field's filter value v.
func (p pushdown) field(key string, v any) []condition {
	ops, ok := v.(*types.Document)
	if !ok {
		if c, a, ok := p.eq(key, v); ok {
			return []condition{{key: key, sql: c, args: []any{a}}}
		}

		return nil
	}

	var conds []condition

	for _, op := range ops.Keys() {
		arg := must.NotFail(ops.Get(op))

		switch op {
		case "$eq":
			if c, a, ok := p.eq(key, arg); ok {
				conds = append(conds, condition{key: key, sql: c, args: []any{a}})
			}
		case "$in":
			if c, a, ok := p.in(key, arg); ok {
				conds = append(conds, condition{key: key, sql: c, args: a})
			}
		case "$lt", "$lte", "$gt", "$gte":
			if c, a, ok := p.compare(key, op, arg); ok {
				conds = append(conds, condition{key: key, sql: c, args: []any{a}})
			}
		}
	}

	return conds
}

// eq returns the condition for {key: v}.
func (p pushdown) eq(key string, v any) (string, any, bool) {
	if p.jsonForm(key) {
		arg, ok := jsonArg(v)
		if !ok {
			return "", nil, false
		}

		return orArray(key, metadata.FieldJSON(key), ` = ?`), arg, true
	}

	arg, ok := valueArg(v)
	if !ok {
		return "", nil, false
	}

	return orArray(key, metadata.FieldValue(key), ` = ?`), arg, true
}

// orArray returns the condition expr+test, admitting also the documents whose field is an array.
func orArray(key, expr, test string) string {
	if key == "_id" { // never an array
		return expr + test
	}

	return "(" + expr + test + fmt.Sprintf(arrayText, expr) + ")"
}

// in returns the condition for {key: {$in: v}}.
func (p pushdown) in(key string, v any) (string, []any, bool) {
	arr, ok := v.(*types.Array)
	if !ok || arr.Len() == 0 {
		return "", nil, false
	}

	conv, expr := valueArg, metadata.FieldValue(key)
	if p.jsonForm(key) {
		conv, expr = jsonArg, metadata.FieldJSON(key)
	}

	args := make([]any, arr.Len())
	for i := range args {
		if args[i], ok = conv(must.NotFail(arr.Get(i))); !ok {
			return "", nil, false
		}
	}

	placeholders := strings.Repeat(", ?", len(args))[2:]

	return orArray(key, expr, ` IN (`+placeholders+`)`), args, true
}

// compare returns the condition for {key: {op: v}}. Ranges are pushed down in the value form only
// (SQL values compare as MongoDB compares numbers, dates and strings); the JSON text of unique
// indexes does not order numbers.
func (p pushdown) compare(key, op string, v any) (string, any, bool) {
	if p.jsonForm(key) {
		return "", nil, false
	}

	if _, ok := v.(bool); ok {
		return "", nil, false
	}

	arg, ok := valueArg(v)
	if !ok {
		return "", nil, false
	}

	sqlOp := map[string]string{"$lt": " < ?", "$lte": " <= ?", "$gt": " > ?", "$gte": " >= ?"}[op]

	return orArray(key, metadata.FieldValue(key), sqlOp), arg, true
}

// jsonForm reports whether key is indexed by its JSON text: a key of a unique index (see
// metadata.FieldJSON), including _id.
func (p pushdown) jsonForm(key string) bool {
	if key == "_id" {
		return true
	}

	for _, idx := range p.meta.Settings.Indexes {
		if !idx.Unique {
			continue
		}

		for _, k := range idx.Key {
			if k.Field == key {
				return true
			}
		}
	}

	return false
}

// jsonArg returns v as the JSON text a unique index holds, for the values whose text is unique:
// strings and ObjectIDs.
func jsonArg(v any) (any, bool) {
	switch v.(type) {
	case string, types.ObjectID:
		return string(must.NotFail(sjson.MarshalSingleValue(v))), true
	default:
		return nil, false
	}
}

// valueArg returns v as the SQL value metadata.FieldValue yields for it.
func valueArg(v any) (any, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case types.ObjectID:
		return hex.EncodeToString(v[:]), true
	case bool:
		if v {
			return int64(1), true
		}

		return int64(0), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, false
		}

		return v, true
	case time.Time:
		return v.UnixMilli(), true
	default:
		return nil, false
	}
}

// orderBy returns the ORDER BY clause for sort (see the file comment), when every key is a top-level
// field.
func orderBy(sort *types.Document) (string, bool) {
	if sort.Len() == 0 {
		return "", false
	}

	unordered := make([]string, 0, sort.Len())
	keys := make([]string, 0, 2*sort.Len())

	for _, key := range sort.Keys() {
		if !plainField(key) {
			return "", false
		}

		dir := ""

		switch must.NotFail(sort.Get(key)) {
		case int64(1):
		case int64(-1):
			dir = " DESC"
		default:
			return "", false
		}

		rank := typeRank(key)
		unordered = append(unordered, rank+" = 0")
		keys = append(keys, rank+dir, metadata.FieldValue(key)+dir)
	}

	return " ORDER BY (" + strings.Join(unordered, " OR ") + ") DESC, " + strings.Join(keys, ", "), true
}

// typeRank returns the SQL expression of the rank of a field's type in MongoDB's sort order, read
// from the document's SJSON schema; 0 for the types SQL cannot order like MongoDB.
func typeRank(key string) string {
	return fmt.Sprintf(`CASE IFNULL(%s->>'$."$s".p.%s.t', 'null') `+
		`WHEN 'null' THEN 1 WHEN 'int' THEN 2 WHEN 'long' THEN 2 WHEN 'double' THEN 2 WHEN 'string' THEN 3 `+
		`WHEN 'objectId' THEN 4 WHEN 'bool' THEN 5 WHEN 'date' THEN 6 ELSE 0 END`,
		metadata.DefaultColumn, key)
}
