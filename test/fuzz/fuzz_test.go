// Package fuzz fuzzes what Mint accepts from outside its processes: every request body type through
// httpx.Decode, and every consumed event through event.Decode. The seed corpus is in
// testdata/fuzz; CI runs each target for a bounded time (make fuzz).
package fuzz

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mint-wallet/mint/internal/auth"
	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/transactions"
)

// requestTypes are the body of every route that takes one.
var requestTypes = []func() any{
	func() any { return new(auth.SignupRequest) },
	func() any { return new(auth.LoginRequest) },
	func() any { return new(auth.UpdateRequest) },
	func() any { return new(transactions.TopupRequest) },
	func() any { return new(transactions.TransferRequest) },
}

// FuzzRequestBody: whatever the body, Decode answers a client error, never a server error, and what
// it accepts is unambiguous — valid UTF-8, one JSON object whose every member is declared by the
// type under exactly that name and appears once — as judged by encoding/json's tokenizer, a parser
// independent of the one Decode uses.
func FuzzRequestBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		v := requestTypes[int(kind)%len(requestTypes)]()
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		err := httpx.Decode(r, v)
		if err != nil {
			if st := httpx.StatusOf(failure.KindOf(err)); st < 400 || st >= 500 {
				t.Fatalf("Decode(%q) = %v: status %d, want a client error", body, err, st)
			}
			return
		}
		if !utf8.Valid(body) {
			t.Fatalf("Decode accepted a body that is not UTF-8: %q", body)
		}
		checkMembers(t, body, reflect.TypeOf(v).Elem())
	})
}

// FuzzEvent: whatever the message body, Decode of every consumed payload either fails permanently
// (the message goes to the dead-letter queue, never back to the queue) or yields an envelope with an
// id, a type and data, read unambiguously.
func FuzzEvent(f *testing.F) {
	payloads := []func() any{
		func() any { return new(contract.UserSignupData) },
		func() any { return new(contract.TransactionData) },
		func() any { return new(contract.TransactionProcessingData) },
		func() any { return new(contract.WalletFinalizedData) },
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		v := payloads[int(kind)%len(payloads)]()
		env, err := event.Decode(bus.Message{Type: "fuzz", Body: body}, v)
		if err != nil {
			if !bus.IsPermanent(err) {
				t.Fatalf("Decode(%q) = %v: not permanent, so it would be retried forever", body, err)
			}
			return
		}
		if env.ID == "" || env.Type == "" || len(env.Data) == 0 {
			t.Fatalf("Decode accepted an envelope without id, type or data: %q", body)
		}
		checkMembers(t, body, reflect.TypeOf(event.Envelope{}))
		checkMembers(t, env.Data, reflect.TypeOf(v).Elem())
	})
}

// checkMembers fails t unless doc is one JSON object whose member names are each a JSON name of
// struct type typ, exactly, and each appear once.
func checkMembers(t *testing.T, doc []byte, typ reflect.Type) {
	t.Helper()
	declared := map[string]bool{}
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		declared[name] = true
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("accepted %q, which is not a JSON object", doc)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("accepted %q: %v", doc, err)
		}
		name := tok.(string)
		if !declared[name] || seen[name] {
			t.Fatalf("accepted %q: member %q is undeclared by %v or repeated", doc, name, typ)
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("accepted %q: %v", doc, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		t.Fatalf("accepted %q: %v", doc, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("accepted %q, which holds more than one value", doc)
	}
}
