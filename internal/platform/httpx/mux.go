package httpx

import (
	"log/slog"
	"net/http"

	"github.com/mint-wallet/mint/internal/platform/failure"
)

// serveMux serves mux, but answers what the mux would answer itself (no route, a method the route
// does not serve, a redirect to a cleaned path no route serves) with a problem rather than
// net/http's plain text. A redirect to a path a route serves is kept: it is no error.
func serveMux(mux *http.ServeMux, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.RequestURI == "*" {
			WriteError(w, r, logger, failure.New(failure.MalformedRequest, "the request target must be a path"))
			return
		}
		h, pattern := mux.Handler(r)
		if pattern != "" {
			// Handler does not set the path values; ServeHTTP does.
			mux.ServeHTTP(w, r)
			return
		}
		ans := muxAnswer{header: http.Header{}}
		h.ServeHTTP(&ans, r)
		if ans.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", ans.header.Get("Allow"))
			WriteError(w, r, logger, failure.New(failure.MethodNotAllowed, "this path does not serve the method; Allow lists those it does"))
			return
		}
		WriteError(w, r, logger, failure.New(failure.NotFound, "no route serves this path"))
	})
}

// muxAnswer records the status and headers of the mux's own answer and drops its text.
type muxAnswer struct {
	header http.Header
	status int
}

func (a *muxAnswer) Header() http.Header { return a.header }

func (a *muxAnswer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}

func (a *muxAnswer) Write(b []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return len(b), nil
}
