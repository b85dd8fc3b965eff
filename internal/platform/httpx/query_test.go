package httpx_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/openapi"
)

// newSearchRouter serves GET /search declaring q, limit and a repeatable tag.
func newSearchRouter(t *testing.T) (http.Handler, *bool) {
	t.Helper()
	mux := http.NewServeMux()
	rt := httpx.NewRouter(mux, openapi.New("T", "1", ""), nil, discardLogger())
	ran := new(bool)
	rt.Handle(openapi.Operation{
		Method: http.MethodGet, Path: "/search", ID: "search",
		Query:     []openapi.Param{{Name: "q"}, {Name: "limit", Type: 0}, {Name: "tag", Type: []string{}}},
		Responses: []openapi.Response{{Status: http.StatusOK}},
	}, func(w http.ResponseWriter, r *http.Request) error {
		*ran = true
		httpx.WriteJSON(w, http.StatusOK, r.URL.Query())
		return nil
	})
	return mux, ran
}

func TestRouterValidatesTheQuery(t *testing.T) {
	const textMsg = "must be valid UTF-8 text without control or invisible formatting characters"
	tests := []struct {
		name  string
		query string
		want  []failure.FieldError // nil = served
	}{
		{name: "no query", query: ""},
		{name: "empty query", query: "?"},
		{name: "declared parameters", query: "?q=ada&limit=5"},
		{name: "non-ASCII text", query: "?q=" + "Ren%C3%A9e%20%E6%9D%8E"},
		{name: "plus is a space", query: "?q=ada+lovelace"},
		{name: "empty value", query: "?q="},
		{name: "a repeatable parameter", query: "?tag=a&tag=b"},
		{name: "invalid UTF-8", query: "?q=%ff%fe", want: []failure.FieldError{{Field: "query.q", Message: textMsg}}},
		{name: "NUL", query: "?q=%00", want: []failure.FieldError{{Field: "query.q", Message: textMsg}}},
		{name: "newline", query: "?q=a%0Ab", want: []failure.FieldError{{Field: "query.q", Message: textMsg}}},
		{name: "tab", query: "?q=a%09b", want: []failure.FieldError{{Field: "query.q", Message: textMsg}}},
		{name: "DEL", query: "?q=a%7Fb", want: []failure.FieldError{{Field: "query.q", Message: textMsg}}},
		{name: "C1 control", query: "?q=a%C2%85b", want: []failure.FieldError{{Field: "query.q", Message: textMsg}}},
		{name: "right-to-left override", query: "?q=a%E2%80%AEb", want: []failure.FieldError{{Field: "query.q", Message: textMsg}}},
		{name: "left-to-right embedding", query: "?q=a%E2%80%AAb", want: []failure.FieldError{{Field: "query.q", Message: textMsg}}},
		{name: "bidi isolate", query: "?q=a%E2%81%A6b", want: []failure.FieldError{{Field: "query.q", Message: textMsg}}},
		{name: "right-to-left mark", query: "?q=a%E2%80%8Fb", want: []failure.FieldError{{Field: "query.q", Message: textMsg}}},
		{name: "Arabic letter mark", query: "?q=a%D8%9Cb", want: []failure.FieldError{{Field: "query.q", Message: textMsg}}},
		{name: "zero-width space", query: "?q=a%E2%80%8Bb", want: []failure.FieldError{{Field: "query.q", Message: textMsg}}},
		{name: "word joiner", query: "?q=a%E2%81%A0b", want: []failure.FieldError{{Field: "query.q", Message: textMsg}}},
		{name: "byte order mark", query: "?q=%EF%BB%BFab", want: []failure.FieldError{{Field: "query.q", Message: textMsg}}},
		{name: "a bad value among repeats", query: "?tag=a&tag=%00", want: []failure.FieldError{{Field: "query.tag", Message: textMsg}}},
		{name: "bad percent-encoding", query: "?q=%zz", want: []failure.FieldError{{Field: "query",
			Message: "must be a valid URL query: parameters separated by &, other bytes percent-encoded"}}},
		{name: "semicolon separator", query: "?q=a;limit=5", want: []failure.FieldError{{Field: "query",
			Message: "must be a valid URL query: parameters separated by &, other bytes percent-encoded"}}},
		{name: "given twice", query: "?q=a&q=b", want: []failure.FieldError{{Field: "query.q", Message: "must be given once"}}},
		{name: "given twice, once empty", query: "?q=&q=b", want: []failure.FieldError{{Field: "query.q", Message: "must be given once"}}},
		{name: "a typo", query: "?qq=ada", want: []failure.FieldError{{Field: "query.qq", Message: "is not a known parameter"}}},
		{name: "names are case-sensitive", query: "?Q=ada", want: []failure.FieldError{{Field: "query.Q", Message: "is not a known parameter"}}},
		{name: "no name", query: "?=ada", want: []failure.FieldError{{Field: "query", Message: "has a parameter without a name"}}},
		{name: "a name that is not text", query: "?%ff=1", want: []failure.FieldError{{Field: "query",
			Message: "has a parameter name that is not valid UTF-8 text without control or invisible formatting characters"}}},
		{name: "every problem, in name order", query: "?z=1&q=%00&limit=1&limit=2", want: []failure.FieldError{
			{Field: "query.limit", Message: "must be given once"}, {Field: "query.q", Message: textMsg},
			{Field: "query.z", Message: "is not a known parameter"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ran := newSearchRouter(t)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/search"+tt.query, nil))
			if tt.want == nil {
				if w.Code != http.StatusOK || !*ran {
					t.Errorf("status %d, handler ran %v; want it served (body %s)", w.Code, *ran, w.Body)
				}
				return
			}
			p := wantProblem(t, w.Code, w.Header(), w.Body.Bytes(), http.StatusBadRequest, "validation_failed")
			if fmt.Sprint(p.Errors) != fmt.Sprint(tt.want) {
				t.Errorf("errors = %v, want %v", p.Errors, tt.want)
			}
			if *ran {
				t.Error("the handler ran on an invalid query")
			}
		})
	}
}

func TestRouterAnswersNoStoreByDefault(t *testing.T) {
	mux := http.NewServeMux()
	rt := httpx.NewRouter(mux, openapi.New("T", "1", ""), (&testAuth{}).authenticate, discardLogger())
	ok := func(w http.ResponseWriter, _ *http.Request) error {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"token": "secret"})
		return nil
	}
	rt.Handle(openapi.Operation{Method: "POST", Path: "/login", ID: "login", Responses: []openapi.Response{{Status: 200}}}, ok)
	rt.Handle(openapi.Operation{Method: "GET", Path: "/me", ID: "me", Auth: true, Responses: []openapi.Response{{Status: 200}}}, ok)
	rt.Handle(openapi.Operation{Method: "GET", Path: "/keys", ID: "keys", Responses: []openapi.Response{{Status: 200}}},
		func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Cache-Control", "public, max-age=300")
			return ok(w, r)
		})
	rt.HandleRaw("GET /health", okHandler)

	tests := []struct {
		name, method, path, auth, want string
	}{
		{"a token response", "POST", "/login", "", "no-store"},
		{"an authenticated read", "GET", "/me", "Bearer good", "no-store"},
		{"an authentication failure", "GET", "/me", "", "no-store"},
		{"a handler allowing caching", "GET", "/keys", "", "public, max-age=300"},
		{"a raw route is left alone", "GET", "/health", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if got := w.Header().Values("Cache-Control"); len(got) > 1 || w.Header().Get("Cache-Control") != tt.want {
				t.Errorf("Cache-Control = %q, want %q", got, tt.want)
			}
		})
	}
}
