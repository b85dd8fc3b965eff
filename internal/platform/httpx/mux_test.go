package httpx_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/httpx"
)

func TestEdgeAnswersTheMuxsOwnErrorsWithProblems(t *testing.T) {
	const goodID = "65a1b2c3d4e5f60718293a4b"
	tests := []struct {
		name       string
		method     string
		target     string
		wantStatus int
		wantCode   string // problem code; "" = not a problem
		wantAllow  string
		wantHeader map[string]string
	}{
		{name: "unknown route", method: "GET", target: "/no/such/route", wantStatus: 404, wantCode: "not_found"},
		{name: "unknown route, HEAD", method: "HEAD", target: "/no/such/route", wantStatus: 404, wantCode: "not_found"},
		{name: "unknown route under an API prefix", method: "POST", target: "/items/" + goodID + "/extra", wantStatus: 404, wantCode: "not_found"},
		{name: "method not allowed", method: "PUT", target: "/health", wantStatus: 405, wantCode: "method_not_allowed", wantAllow: "GET, HEAD"},
		{name: "method not allowed on an API route", method: "POST", target: "/items/" + goodID, wantStatus: 405, wantCode: "method_not_allowed", wantAllow: "DELETE, GET, HEAD"},
		{name: "lower-case method", method: "get", target: "/me", wantStatus: 405, wantCode: "method_not_allowed", wantAllow: "GET, HEAD"},
		{name: "unclean path to nowhere", method: "GET", target: "/no//where", wantStatus: 404, wantCode: "not_found"},
		{name: "dot segments to nowhere", method: "GET", target: "/a/../nowhere", wantStatus: 404, wantCode: "not_found"},
		{name: "server-wide OPTIONS", method: "OPTIONS", target: "*", wantStatus: 400, wantCode: "malformed_request"},
		// A redirect to a route is no error: the client is sent where the route is.
		{name: "unclean path to a route", method: "GET", target: "/items//" + goodID, wantStatus: 307,
			wantHeader: map[string]string{"Location": "/items/" + goodID}},
		{name: "matched route gets its path values", method: "GET", target: "/items/" + goodID, wantStatus: 200,
			wantHeader: map[string]string{"Content-Type": "application/json; charset=utf-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux, _, _ := newTestRouter(t)
			w := httptest.NewRecorder()
			httpx.Edge(mux, httpx.EdgeConfig{Logger: discardLogger()}).ServeHTTP(w, httptest.NewRequest(tt.method, tt.target, nil))
			if tt.wantCode != "" {
				p := wantProblem(t, w.Code, w.Header(), w.Body.Bytes(), tt.wantStatus, tt.wantCode)
				if p.RequestID == "" || p.RequestID != w.Header().Get("X-Request-Id") {
					t.Errorf("problem requestId = %q, X-Request-Id %q", p.RequestID, w.Header().Get("X-Request-Id"))
				}
			} else if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", w.Code, tt.wantStatus, w.Body)
			}
			if got := w.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			for k, v := range tt.wantHeader {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if tt.wantStatus == 200 && !strings.Contains(w.Body.String(), goodID) {
				t.Errorf("body %s lacks the path value", w.Body)
			}
		})
	}
}
