package bench

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A 429 is waited out as its Retry-After says and reported as a rate limit, apart from failures.
func TestSendWaitsOutARateLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/limited" {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	if err := send(srv.Client(), http.MethodGet, srv.URL+"/limited", nil, "", http.StatusOK, nil); !errors.Is(err, errRateLimited) {
		t.Errorf("429: %v, want errRateLimited", err)
	}
	if err := send(srv.Client(), http.MethodGet, srv.URL+"/broken", nil, "", http.StatusOK, nil); err == nil || errors.Is(err, errRateLimited) {
		t.Errorf("500: %v, want a failure that is no rate limit", err)
	}
}
