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

package common

// Mint patch: sorting by the backend. A backend that got a SortHint may return the documents in that
// order, except that the documents whose sort keys it cannot order come first (see
// backends/sqlite/pushdown.go). The first document that passes the filter tells which case this is:
// if one of its sort keys is of such a type, the documents are sorted here as upstream does;
// otherwise they stream in order, and a skip and a limit read only the documents they return.

import (
	"errors"
	"strings"

	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/iterator"
	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
)

// SortHint returns the sort a backend may apply for the handler's sort: the sort itself when every
// key is a top-level field, nil otherwise.
func SortHint(sort *types.Document) *types.Document {
	if sort.Len() == 0 {
		return nil
	}

	for _, k := range sort.Keys() {
		if strings.ContainsRune(k, '.') || strings.HasPrefix(k, "$") {
			return nil
		}
	}

	return sort
}

// PresortedIterator returns the documents of iter, which come in the order of sort as described
// above, sorted by sort. It has SortIterator's signature.
func PresortedIterator(iter types.DocumentsIterator, closer *iterator.MultiCloser, sort *types.Document) (types.DocumentsIterator, error) { //nolint:lll // for readability
	if sort.Len() == 0 {
		return iter, nil
	}

	_, first, err := iter.Next()
	if errors.Is(err, iterator.ErrIteratorDone) {
		return iter, nil
	}

	if err != nil {
		return nil, lazyerrors.Error(err)
	}

	if unordered(first, sort) {
		rest, err := iterator.ConsumeValues(iter)
		if err != nil {
			return nil, lazyerrors.Error(err)
		}

		docs := append([]*types.Document{first}, rest...)
		if err = SortDocuments(docs, sort); err != nil {
			return nil, lazyerrors.Error(err)
		}

		res := iterator.Values(iterator.ForSlice(docs))
		closer.Add(res)

		return res, nil
	}

	sorts, err := sortFuncsOf(sort)
	if err != nil {
		return nil, lazyerrors.Error(err)
	}

	res := &presortedIterator{iter: iter, next: first, sort: sort, sorts: sorts}
	closer.Add(res)

	return res, nil
}

// unordered reports whether one of doc's sort keys has a type a backend does not order.
func unordered(doc *types.Document, sort *types.Document) bool {
	for _, k := range sort.Keys() {
		v, err := doc.Get(k)
		if err != nil {
			continue
		}

		switch v.(type) {
		case *types.Document, *types.Array, types.Binary, types.Regex, types.Timestamp:
			return true
		}
	}

	return false
}

// presortedIterator streams documents that come in sort order, and fails rather than return them out
// of order should the backend's order ever differ from MongoDB's.
type presortedIterator struct {
	iter  types.DocumentsIterator
	next  *types.Document
	prev  *types.Document
	sort  *types.Document
	sorts []sortFunc
}

// Next implements iterator.Interface.
func (it *presortedIterator) Next() (struct{}, *types.Document, error) {
	var unused struct{}

	doc := it.next
	if doc == nil {
		var err error
		if _, doc, err = it.iter.Next(); err != nil {
			return unused, nil, err
		}
	}

	it.next = nil

	if it.prev != nil {
		if unordered(doc, it.sort) || less(it.sorts, doc, it.prev) {
			return unused, nil, lazyerrors.Errorf("backend returned documents out of sort order %v", types.FormatAnyValue(it.sort))
		}
	}

	it.prev = doc

	return unused, doc, nil
}

// Close implements iterator.Interface.
func (it *presortedIterator) Close() {
	it.iter.Close()
}

// check interfaces
var (
	_ types.DocumentsIterator = (*presortedIterator)(nil)
)
