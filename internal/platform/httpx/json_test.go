package httpx_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/openapi"
)

// cents is a field type whose UnmarshalJSON rejects bad values with its own field error, as the
// services' amount type does.
type cents int64

func (c *cents) UnmarshalJSON(b []byte) error {
	var n int64
	if err := json.Unmarshal(b, &n); err != nil || n <= 0 {
		return failure.InvalidFields(failure.FieldError{Field: "body.amount", Message: "must be a positive amount"})
	}
	*c = cents(n)
	return nil
}

type decodeTarget struct {
	Name    string   `json:"name"`
	Count   int      `json:"count"`
	Ratio   float64  `json:"ratio"`
	Active  bool     `json:"active"`
	Tags    []string `json:"tags"`
	Amount  cents    `json:"amount"`
	Address struct {
		City string `json:"city"`
	} `json:"address"`
}

// bigJSON returns a valid JSON object of at least n bytes.
func bigJSON(n int) string {
	return `{"name":"` + strings.Repeat("a", n) + `"}`
}

func TestDecode(t *testing.T) {
	const jsonCT = "application/json"
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int    // 0 = decodes
		wantCode    string // problem code when wantStatus != 0
		wantField   string // the one field error expected, if any
		want        func(*decodeTarget) bool
	}{
		// Content type.
		{name: "no content type", body: `{}`, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: `name=x`, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "multipart", contentType: "multipart/form-data; boundary=x", body: `{}`, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "text/plain", contentType: "text/plain", body: `{}`, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "text/plain holding JSON", contentType: "text/plain; charset=utf-8", body: `{"name":"x"}`, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "json prefix is not json", contentType: "application/jsonx", body: `{}`, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "malformed content type", contentType: "application/json; charset", body: `{}`, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "json", contentType: jsonCT, body: `{"name":"x"}`, want: func(d *decodeTarget) bool { return d.Name == "x" }},
		{name: "json with charset", contentType: "application/json; charset=utf-8", body: `{"name":"x"}`, want: func(d *decodeTarget) bool { return d.Name == "x" }},
		{name: "json upper case", contentType: "Application/JSON", body: `{"name":"x"}`, want: func(d *decodeTarget) bool { return d.Name == "x" }},
		{name: "merge-patch+json", contentType: "application/merge-patch+json", body: `{"name":"x"}`, want: func(d *decodeTarget) bool { return d.Name == "x" }},
		{name: "vendor +json", contentType: "application/vnd.mint.v1+json", body: `{"name":"x"}`, want: func(d *decodeTarget) bool { return d.Name == "x" }},

		// Well-formed bodies.
		{name: "every field", contentType: jsonCT, body: `{"name":"n","count":3,"ratio":0.5,"active":true,"tags":["a"],"amount":7,"address":{"city":"Oslo"}}`,
			want: func(d *decodeTarget) bool {
				return d.Name == "n" && d.Count == 3 && d.Ratio == 0.5 && d.Active && reflect.DeepEqual(d.Tags, []string{"a"}) && d.Amount == 7 && d.Address.City == "Oslo"
			}},
		{name: "empty object", contentType: jsonCT, body: `{}`, want: func(d *decodeTarget) bool { return reflect.DeepEqual(*d, decodeTarget{}) }},
		{name: "surrounding whitespace", contentType: jsonCT, body: " \n\t{\"name\":\"x\"}\r\n ", want: func(d *decodeTarget) bool { return d.Name == "x" }},
		{name: "null fields", contentType: jsonCT, body: `{"name":null,"tags":null}`, want: func(d *decodeTarget) bool { return d.Name == "" && d.Tags == nil }},
		{name: "just under the limit", contentType: jsonCT, body: bigJSON(httpx.MaxBodyBytes - len(bigJSON(0))),
			want: func(d *decodeTarget) bool { return len(d.Name) == httpx.MaxBodyBytes-len(bigJSON(0)) }},

		// Malformed JSON.
		{name: "empty body", contentType: jsonCT, body: ``, wantStatus: 400, wantCode: "malformed_json"},
		{name: "whitespace only", contentType: jsonCT, body: " \n ", wantStatus: 400, wantCode: "malformed_json"},
		{name: "syntax error", contentType: jsonCT, body: `{"name":}`, wantStatus: 400, wantCode: "malformed_json"},
		{name: "single quotes", contentType: jsonCT, body: `{'name':'x'}`, wantStatus: 400, wantCode: "malformed_json"},
		{name: "truncated", contentType: jsonCT, body: `{"name":"x"`, wantStatus: 400, wantCode: "malformed_json"},
		{name: "trailing comma", contentType: jsonCT, body: `{"name":"x",}`, wantStatus: 400, wantCode: "malformed_json"},
		{name: "trailing object", contentType: jsonCT, body: `{"name":"x"}{"name":"y"}`, wantStatus: 400, wantCode: "malformed_json"},
		{name: "trailing garbage", contentType: jsonCT, body: `{"name":"x"} nope`, wantStatus: 400, wantCode: "malformed_json"},
		{name: "trailing bracket", contentType: jsonCT, body: `{"name":"x"}]`, wantStatus: 400, wantCode: "malformed_json"},
		{name: "trailing number", contentType: jsonCT, body: `{"name":"x"} 1`, wantStatus: 400, wantCode: "malformed_json"},
		{name: "not json at all", contentType: jsonCT, body: `name=x`, wantStatus: 400, wantCode: "malformed_json"},

		// Wrong JSON types name the field.
		{name: "object where a string belongs", contentType: jsonCT, body: `{"name":{"a":1}}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.name"},
		{name: "number where a string belongs", contentType: jsonCT, body: `{"name":42}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.name"},
		{name: "array where a string belongs", contentType: jsonCT, body: `{"name":["a"]}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.name"},
		{name: "bool where a string belongs", contentType: jsonCT, body: `{"name":true}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.name"},
		{name: "string where a number belongs", contentType: jsonCT, body: `{"count":"3"}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.count"},
		{name: "fraction where an integer belongs", contentType: jsonCT, body: `{"count":1.5}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.count"},
		{name: "string where a bool belongs", contentType: jsonCT, body: `{"active":"yes"}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.active"},
		{name: "string where an array belongs", contentType: jsonCT, body: `{"tags":"a"}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.tags"},
		{name: "number in a string array", contentType: jsonCT, body: `{"tags":["a",1]}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.tags[1]"},
		{name: "nested field", contentType: jsonCT, body: `{"address":{"city":1}}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.address.city"},
		{name: "string where an object belongs", contentType: jsonCT, body: `{"address":"Oslo"}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.address"},
		{name: "top-level array", contentType: jsonCT, body: `[{"name":"x"}]`, wantStatus: 400, wantCode: "validation_failed", wantField: "body"},
		{name: "top-level string", contentType: jsonCT, body: `"x"`, wantStatus: 400, wantCode: "validation_failed", wantField: "body"},
		{name: "top-level number", contentType: jsonCT, body: `1`, wantStatus: 400, wantCode: "validation_failed", wantField: "body"},

		// Unknown, duplicate and case-variant member names: two parsers must never read one body two ways.
		{name: "unknown field", contentType: jsonCT, body: `{"name":"x","isAdmin":true}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.isAdmin"},
		{name: "duplicate field", contentType: jsonCT, body: `{"count":1,"count":1000000}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.count"},
		{name: "duplicate nested field", contentType: jsonCT, body: `{"address":{"city":"a","city":"b"}}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.address.city"},
		{name: "case-variant field", contentType: jsonCT, body: `{"Count":7}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.Count"},
		{name: "upper-case field", contentType: jsonCT, body: `{"NAME":"Al"}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.NAME"},
		{name: "case variant beside the field", contentType: jsonCT, body: `{"name":"a","Name":"b"}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.Name"},
		{name: "invalid UTF-8", contentType: jsonCT, body: "{\"name\":\"\xff\xfe\"}", wantStatus: 400, wantCode: "validation_failed", wantField: "body.name"},

		// A field type's own validation passes through.
		{name: "field type rejects its value", contentType: jsonCT, body: `{"amount":-1}`, wantStatus: 400, wantCode: "validation_failed", wantField: "body.amount"},

		// Size.
		{name: "over 64 KiB", contentType: jsonCT, body: bigJSON(httpx.MaxBodyBytes), wantStatus: 413, wantCode: "payload_too_large"},
		{name: "over 64 KiB of trailing space", contentType: jsonCT, body: `{"name":"x"}` + strings.Repeat(" ", httpx.MaxBodyBytes), wantStatus: 413, wantCode: "payload_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/things", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			var got decodeTarget
			err := httpx.Decode(r, &got)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if !tt.want(&got) {
					t.Errorf("decoded %+v", got)
				}
				return
			}
			if err == nil {
				t.Fatalf("Decode accepted it: %+v", got)
			}
			w := httptest.NewRecorder()
			httpx.WriteError(w, r, discardLogger(), err)
			p := wantProblem(t, w.Code, w.Header(), w.Body.Bytes(), tt.wantStatus, tt.wantCode)
			if tt.wantField != "" {
				if len(p.Errors) != 1 || p.Errors[0].Field != tt.wantField || p.Errors[0].Message == "" {
					t.Errorf("errors = %+v, want one for %s", p.Errors, tt.wantField)
				}
			} else if len(p.Errors) != 0 {
				t.Errorf("errors = %+v, want none", p.Errors)
			}
			if p.Detail == "" {
				t.Error("detail is empty")
			}
		})
	}
}

func TestDecodeTypeMessages(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"name":1}`, "must be a string"},
		{`{"count":"1"}`, "must be an integer"},
		{`{"ratio":"1"}`, "must be a number"},
		{`{"active":1}`, "must be a boolean"},
		{`{"tags":{}}`, "must be an array"},
		{`{"address":[]}`, "must be a JSON object"},
		{`[]`, "must be a JSON object"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
		r.Header.Set("Content-Type", "application/json")
		var v decodeTarget
		err := httpx.Decode(r, &v)
		var fe *failure.Error
		if !errors.As(err, &fe) || len(fe.Fields) != 1 || fe.Fields[0].Message != tt.want {
			t.Errorf("Decode(%s) = %v, want the message %q", tt.body, err, tt.want)
		}
	}
}

// decodeServer serves POST /things through Edge with a handler that decodes the body. It counts the
// handler's calls and remembers the Content-Length the server saw (-1 when chunked).
func decodeServer(t *testing.T) (srv *httptest.Server, calls *atomic.Int32, seenLength *atomic.Int64) {
	t.Helper()
	calls, seenLength = new(atomic.Int32), new(atomic.Int64)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		seenLength.Store(r.ContentLength)
		var v decodeTarget
		if err := httpx.Decode(r, &v); err != nil {
			httpx.WriteError(w, r, discardLogger(), err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]int{"nameLength": len(v.Name)})
	})
	srv = httptest.NewServer(httpx.Edge(h, httpx.EdgeConfig{Logger: discardLogger()}))
	t.Cleanup(srv.Close)
	return srv, calls, seenLength
}

func TestDecodeBodyLimitOverHTTP(t *testing.T) {
	over := bigJSON(httpx.MaxBodyBytes + 1024)
	under := bigJSON(1024)
	tests := []struct {
		name        string
		body        string
		chunked     bool
		wantStatus  int
		wantHandler bool // whether the handler ran
	}{
		{name: "declared length over the limit is rejected up front", body: over, wantStatus: 413, wantHandler: false},
		{name: "chunked body over the limit", body: over, chunked: true, wantStatus: 413, wantHandler: true},
		{name: "declared length under the limit", body: under, wantStatus: 200, wantHandler: true},
		{name: "chunked body under the limit", body: under, chunked: true, wantStatus: 200, wantHandler: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls, seenLength := decodeServer(t)
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = io.MultiReader(body) // hides the length: the client sends it chunked
			}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/things", body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if tt.wantStatus == http.StatusOK {
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), fmt.Sprint(1024)) {
					t.Errorf("status %d, body %s", resp.StatusCode, b)
				}
			} else {
				wantProblem(t, resp.StatusCode, resp.Header, b, tt.wantStatus, "payload_too_large")
			}
			if ran := calls.Load() > 0; ran != tt.wantHandler {
				t.Errorf("handler ran = %v, want %v", ran, tt.wantHandler)
			}
			if ran := calls.Load() > 0; ran && tt.chunked != (seenLength.Load() == -1) {
				t.Errorf("server saw Content-Length %d; chunked = %v", seenLength.Load(), tt.chunked)
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	httpx.WriteJSON(w, http.StatusCreated, map[string]any{"id": "abc", "n": 1})
	if w.Code != http.StatusCreated {
		t.Errorf("status = %d", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if got := strings.TrimSpace(w.Body.String()); got != `{"id":"abc","n":1}` {
		t.Errorf("body = %s", got)
	}
}

// TestWriteEncodedAnswersAsWriteJSON: a body kept from EncodeJSON is written byte for byte as WriteJSON
// writes the value, headers included.
func TestWriteEncodedAnswersAsWriteJSON(t *testing.T) {
	v := map[string]any{"note": "<b>&</b>", "n": 1}
	direct := httptest.NewRecorder()
	httpx.WriteJSON(direct, http.StatusOK, v)
	body, err := httpx.EncodeJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	kept := httptest.NewRecorder()
	httpx.WriteEncoded(kept, http.StatusOK, body)
	if kept.Code != direct.Code || kept.Body.String() != direct.Body.String() ||
		kept.Header().Get("Content-Type") != direct.Header().Get("Content-Type") {
		t.Errorf("WriteEncoded: %d %q %q; WriteJSON: %d %q %q", kept.Code, kept.Header().Get("Content-Type"), kept.Body,
			direct.Code, direct.Header().Get("Content-Type"), direct.Body)
	}

	large, err := httpx.EncodeJSON(map[string]string{"note": strings.Repeat("x", 8<<10)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { httpx.WriteEncoded(w, http.StatusOK, large) }))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.ContentLength != int64(len(large)) || len(res.TransferEncoding) != 0 || !bytes.Equal(got, large) {
		t.Errorf("a large kept body: length %d, transfer encoding %v, %d bytes read; want %d bytes, not chunked",
			res.ContentLength, res.TransferEncoding, len(got), len(large))
	}
}

func TestParsePage(t *testing.T) {
	tests := []struct {
		query      string
		want       httpx.Page
		wantFields []string
	}{
		{query: "", want: httpx.Page{Limit: 20, Offset: 0}},
		{query: "limit=1", want: httpx.Page{Limit: 1}},
		{query: "limit=100&offset=0", want: httpx.Page{Limit: 100}},
		{query: "limit=5&offset=40", want: httpx.Page{Limit: 5, Offset: 40}},
		{query: "offset=7", want: httpx.Page{Limit: 20, Offset: 7}},
		{query: "limit=&offset=", want: httpx.Page{Limit: 20}},
		{query: "other=1", wantFields: []string{"query.other"}},
		{query: "limit=0", wantFields: []string{"query.limit"}},
		{query: "limit=101", wantFields: []string{"query.limit"}},
		{query: "limit=-1", wantFields: []string{"query.limit"}},
		{query: "limit=ten", wantFields: []string{"query.limit"}},
		{query: "limit=1.5", wantFields: []string{"query.limit"}},
		{query: "limit=99999999999999999999999", wantFields: []string{"query.limit"}},
		{query: "offset=-1", wantFields: []string{"query.offset"}},
		{query: "offset=x", wantFields: []string{"query.offset"}},
		{query: "limit=0&offset=-5", wantFields: []string{"query.limit", "query.offset"}},
	}
	mux := http.NewServeMux()
	rt := httpx.NewRouter(mux, openapi.New("T", "1", ""), nil, discardLogger())
	rt.Handle(openapi.Operation{Method: http.MethodGet, Path: "/things", ID: "things", Query: httpx.PageParams,
		Responses: []openapi.Response{{Status: http.StatusOK}}},
		func(w http.ResponseWriter, r *http.Request) error {
			httpx.WriteJSON(w, http.StatusOK, httpx.ParsePage(r))
			return nil
		})
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/things?"+tt.query, nil))
			if tt.wantFields == nil {
				var got httpx.Page
				if err := json.Unmarshal(w.Body.Bytes(), &got); w.Code != http.StatusOK || err != nil || got != tt.want {
					t.Errorf("%d %s; want the page %+v", w.Code, w.Body, tt.want)
				}
				return
			}
			p := wantProblem(t, w.Code, w.Header(), w.Body.Bytes(), http.StatusBadRequest, "validation_failed")
			var fields []string
			for _, f := range p.Errors {
				fields = append(fields, f.Field)
			}
			if !reflect.DeepEqual(fields, tt.wantFields) {
				t.Errorf("fields = %v, want %v", fields, tt.wantFields)
			}
		})
	}
}

func TestPathID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"65a1b2c3d4e5f60718293a4b", true},
		{"000000000000000000000000", true},
		{"ffffffffffffffffffffffff", true},
		{"", false},
		{"65a1b2c3d4e5f60718293a4", false},   // 23
		{"65a1b2c3d4e5f60718293a4b0", false}, // 25
		{"65A1B2C3D4E5F60718293A4B", false},  // upper case is not how ids are written
		{"65a1b2c3d4e5f60718293a4g", false},
		{"65a1b2c3d4e5f60718293a-b", false},
		{"me", false},
		{"../../../../etc/passwd000", false},
		{"65a1b2c3d4e5f6071829\u00e93a", false}, // 24 bytes, not 24 hex
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/things/x", nil)
			r.SetPathValue("id", tt.id)
			got, err := httpx.PathID(r, "id")
			if tt.ok {
				if err != nil || got != tt.id {
					t.Errorf("PathID = %q, %v; want %q", got, err, tt.id)
				}
				return
			}
			if got != "" || !failure.Is(err, failure.NotFound) {
				t.Errorf("PathID = %q, %v; want not_found", got, err)
			}
		})
	}
}

func TestPathIDThroughMux(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			httpx.WriteError(w, r, discardLogger(), err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"id": id})
	})
	for path, want := range map[string]int{
		"/things/65a1b2c3d4e5f60718293a4b": http.StatusOK,
		"/things/123":                      http.StatusNotFound,
		"/things/%20":                      http.StatusNotFound,
	} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != want {
			t.Errorf("GET %s = %d, want %d", path, w.Code, want)
		}
		if want == http.StatusNotFound {
			wantProblem(t, w.Code, w.Header(), w.Body.Bytes(), http.StatusNotFound, "not_found")
		}
	}
}
