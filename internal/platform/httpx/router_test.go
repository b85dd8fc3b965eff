package httpx_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/openapi"
)

type callerKey struct{}

// testAuth accepts "Authorization: Bearer good" and puts the caller "user-1" in the context.
type testAuth struct{ calls atomic.Int32 }

func (a *testAuth) authenticate(r *http.Request) (context.Context, error) {
	a.calls.Add(1)
	switch r.Header.Get("Authorization") {
	case "Bearer good":
		return context.WithValue(r.Context(), callerKey{}, "user-1"), nil
	case "Bearer broken":
		return nil, failure.Wrap("auth.keys", errors.New("jwks endpoint down: secret-internal-detail"))
	default:
		return nil, failure.New(failure.Unauthenticated, "missing or invalid credentials")
	}
}

type item struct {
	ID string `json:"id"`
}

// newTestRouter registers a handful of routes and returns the mux, the document and the authenticator.
func newTestRouter(t *testing.T) (*http.ServeMux, *openapi.Document, *testAuth) {
	t.Helper()
	mux := http.NewServeMux()
	doc := openapi.New("Test", "1.0.0", "")
	auth := &testAuth{}
	rt := httpx.NewRouter(mux, doc, auth.authenticate, discardLogger())

	rt.Handle(openapi.Operation{
		Method: http.MethodGet, Path: "/items/{id}", ID: "getItem", Summary: "Get an item",
		Responses: []openapi.Response{{Status: http.StatusOK, Body: item{}}}, Errors: []int{http.StatusNotFound},
	}, func(w http.ResponseWriter, r *http.Request) error {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, item{ID: id})
		return nil
	})
	rt.Handle(openapi.Operation{
		Method: http.MethodGet, Path: "/me", ID: "getMe", Auth: true,
		Responses: []openapi.Response{{Status: http.StatusOK}},
	}, func(w http.ResponseWriter, r *http.Request) error {
		caller, _ := r.Context().Value(callerKey{}).(string)
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"caller": caller})
		return nil
	})
	rt.Handle(openapi.Operation{
		Method: http.MethodPost, Path: "/items", ID: "createItem", Auth: true, Request: item{},
		Responses: []openapi.Response{{Status: http.StatusCreated}},
	}, func(w http.ResponseWriter, r *http.Request) error {
		var in item
		if err := httpx.Decode(r, &in); err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusCreated, in)
		return nil
	})
	rt.Handle(openapi.Operation{
		Method: http.MethodDelete, Path: "/items/{id}", ID: "deleteItem",
		Responses: []openapi.Response{{Status: http.StatusNoContent}},
	}, func(http.ResponseWriter, *http.Request) error {
		return errors.New("database exploded: secret-internal-detail")
	})
	rt.HandleRaw("GET /health", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok")
	}))
	return mux, doc, auth
}

func TestRouterDescribesRoutes(t *testing.T) {
	_, doc, _ := newTestRouter(t)
	b, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Paths map[string]map[string]struct {
			OperationID string           `json:"operationId"`
			Security    []map[string]any `json:"security"`
			Responses   map[string]any   `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, method, id string
		auth             bool
	}{
		{"/items/{id}", "get", "getItem", false},
		{"/items/{id}", "delete", "deleteItem", false},
		{"/items", "post", "createItem", true},
		{"/me", "get", "getMe", true},
	}
	for _, tt := range tests {
		op, ok := d.Paths[tt.path][tt.method]
		if !ok {
			t.Errorf("the document lacks %s %s", tt.method, tt.path)
			continue
		}
		if op.OperationID != tt.id {
			t.Errorf("%s %s: operationId = %q, want %q", tt.method, tt.path, op.OperationID, tt.id)
		}
		if got := len(op.Security) > 0; got != tt.auth {
			t.Errorf("%s %s: security = %v, want auth %v", tt.method, tt.path, op.Security, tt.auth)
		}
		if _, has401 := op.Responses["401"]; has401 != tt.auth {
			t.Errorf("%s %s: 401 documented = %v, want %v", tt.method, tt.path, has401, tt.auth)
		}
	}
	if _, ok := d.Paths["/health"]; ok {
		t.Error("HandleRaw's route is in the API document")
	}
	if len(d.Paths) != 3 {
		t.Errorf("paths = %v, want 3", len(d.Paths))
	}
}

func TestRouterServes(t *testing.T) {
	const goodID = "65a1b2c3d4e5f60718293a4b"
	tests := []struct {
		name        string
		method      string
		path        string
		auth        string
		body        string
		wantStatus  int
		wantCode    string // problem code, "" for a success
		wantBody    string // substring of a success body
		wantAuthRun bool
	}{
		{name: "public route", method: "GET", path: "/items/" + goodID, wantStatus: 200, wantBody: `"id":"` + goodID + `"`},
		{name: "public route ignores credentials", method: "GET", path: "/items/" + goodID, auth: "Bearer nonsense", wantStatus: 200},
		{name: "handler failure becomes a problem", method: "GET", path: "/items/nope", wantStatus: 404, wantCode: "not_found"},
		{name: "handler's plain error is a generic 500", method: "DELETE", path: "/items/" + goodID, wantStatus: 500, wantCode: "internal"},
		{name: "auth route without credentials", method: "GET", path: "/me", wantStatus: 401, wantCode: "unauthenticated", wantAuthRun: true},
		{name: "auth route with bad credentials", method: "GET", path: "/me", auth: "Bearer bad", wantStatus: 401, wantCode: "unauthenticated", wantAuthRun: true},
		{name: "authenticator's own failure", method: "GET", path: "/me", auth: "Bearer broken", wantStatus: 500, wantCode: "internal", wantAuthRun: true},
		{name: "auth route with good credentials gets the caller", method: "GET", path: "/me", auth: "Bearer good", wantStatus: 200, wantBody: `"caller":"user-1"`, wantAuthRun: true},
		{name: "auth is checked before the body", method: "POST", path: "/items", body: `not json`, wantStatus: 401, wantCode: "unauthenticated", wantAuthRun: true},
		{name: "authenticated decode failure", method: "POST", path: "/items", auth: "Bearer good", body: `{"id":1}`, wantStatus: 400, wantCode: "validation_failed", wantAuthRun: true},
		{name: "authenticated create", method: "POST", path: "/items", auth: "Bearer good", body: `{"id":"x"}`, wantStatus: 201, wantBody: `"id":"x"`, wantAuthRun: true},
		{name: "raw route", method: "GET", path: "/health", wantStatus: 200, wantBody: "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux, _, auth := newTestRouter(t)
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			r := httptest.NewRequest(tt.method, tt.path, body)
			if tt.body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)

			if tt.wantCode != "" {
				p := wantProblem(t, w.Code, w.Header(), w.Body.Bytes(), tt.wantStatus, tt.wantCode)
				if strings.Contains(w.Body.String(), "secret-internal-detail") {
					t.Errorf("the problem leaks the cause: %s", w.Body)
				}
				if p.Instance != tt.path {
					t.Errorf("instance = %q, want %q", p.Instance, tt.path)
				}
			} else if w.Code != tt.wantStatus || !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Errorf("status %d body %s; want %d with %s", w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
			if ran := auth.calls.Load() > 0; ran != tt.wantAuthRun {
				t.Errorf("authenticator ran = %v, want %v", ran, tt.wantAuthRun)
			}
		})
	}
}

func TestRouterPanicsOnDuplicateRoute(t *testing.T) {
	mux := http.NewServeMux()
	rt := httpx.NewRouter(mux, openapi.New("T", "1", ""), nil, discardLogger())
	op := openapi.Operation{Method: http.MethodGet, Path: "/a", Responses: []openapi.Response{{Status: 200}}}
	rt.Handle(op, func(http.ResponseWriter, *http.Request) error { return nil })
	defer func() {
		if recover() == nil {
			t.Error("registering the same route twice did not panic")
		}
	}()
	rt.Handle(op, func(http.ResponseWriter, *http.Request) error { return nil })
}

// TestHandleRawAnswersPlainErrorsAsProblems: a raw handler's own error in plain text (a file server's
// 404, the metrics handler's 500) reaches the client as a problem; its successes and JSON errors pass.
func TestHandleRawAnswersPlainErrorsAsProblems(t *testing.T) {
	mux := http.NewServeMux()
	rt := httpx.NewRouter(mux, openapi.New("t", "1", ""), nil, discardLogger())
	rt.HandleRaw("GET /files/", http.StripPrefix("/files/", http.FileServer(http.Dir(t.TempDir()))))
	rt.HandleRaw("GET /broken", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "gather failed: secret detail", http.StatusInternalServerError)
	}))
	rt.HandleRaw("GET /ok", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("fine")) }))
	rt.HandleRaw("GET /json-error", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
	}))
	serve := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}
	for path, want := range map[string]struct {
		status int
		code   string
	}{"/files/missing.js": {404, "not_found"}, "/broken": {500, "internal"}} {
		w := serve(path)
		p := wantProblem(t, w.Code, w.Header(), w.Body.Bytes(), want.status, want.code)
		if strings.Contains(w.Body.String(), "secret") || p.Detail == "" {
			t.Errorf("%s: problem %+v", path, p)
		}
	}
	if w := serve("/ok"); w.Code != 200 || w.Body.String() != "fine" {
		t.Errorf("/ok = %d %q", w.Code, w.Body.String())
	}
	if w := serve("/json-error"); w.Code != 503 || !strings.Contains(w.Body.String(), "not ready") {
		t.Errorf("/json-error = %d %q", w.Code, w.Body.String())
	}
}
