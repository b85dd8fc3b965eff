package httpx

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/mint-wallet/mint/internal/platform/openapi"
)

// Handler is an HTTP handler that returns its failure instead of writing it; the router writes every
// failure the same way.
type Handler func(w http.ResponseWriter, r *http.Request) error

// Authenticator checks a request's credentials and returns the context to serve it with (carrying the
// caller's identity), or an unauthenticated failure.
type Authenticator func(r *http.Request) (context.Context, error)

// Router registers a service's routes on a ServeMux and describes each in the service's OpenAPI
// document, so the document cannot drift from the routes.
type Router struct {
	mux    *http.ServeMux
	doc    *openapi.Document
	auth   Authenticator
	logger *slog.Logger
}

// NewRouter returns a router registering on mux and describing routes in doc. auth guards the
// operations marked Auth.
func NewRouter(mux *http.ServeMux, doc *openapi.Document, auth Authenticator, logger *slog.Logger) *Router {
	return &Router{mux: mux, doc: doc, auth: auth, logger: logger}
}

// Handle serves op with h. Before h runs, the caller is authenticated (op.Auth) and the query must be
// valid text holding only op.Query's parameters, each once (unless an array). The answer is
// Cache-Control: no-store unless h says otherwise.
func (rt *Router) Handle(op openapi.Operation, h Handler) {
	rt.doc.Add(op)
	pattern := op.Method + " " + op.Path
	needsAuth := op.Auth
	query := newQuerySpec(op.Query)
	rt.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setRoute(r.Context(), pattern)
		// API answers carry tokens and signed-in users' data; a handler may allow caching (JWKS).
		w.Header().Set("Cache-Control", "no-store")
		if needsAuth {
			ctx, err := rt.auth(r)
			if err != nil {
				WriteError(w, r, rt.logger, err)
				return
			}
			r = r.WithContext(ctx)
		}
		if err := query.check(r.URL.RawQuery); err != nil {
			WriteError(w, r, rt.logger, err)
			return
		}
		if err := h(w, r); err != nil {
			WriteError(w, r, rt.logger, err)
		}
	}))
}

// HandleRaw serves pattern with a plain handler left out of the API document (health, metrics, docs).
func (rt *Router) HandleRaw(pattern string, h http.Handler) {
	rt.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setRoute(r.Context(), pattern)
		h.ServeHTTP(w, r)
	}))
}

// routeKey carries a *string the matched handler fills with its pattern, so the outer middleware can
// label metrics and logs with the route pattern rather than the raw path.
type routeKey struct{}

func withRouteSlot(ctx context.Context) (context.Context, *string) {
	slot := new(string)
	return context.WithValue(ctx, routeKey{}, slot), slot
}

func setRoute(ctx context.Context, pattern string) {
	if slot, ok := ctx.Value(routeKey{}).(*string); ok {
		*slot = pattern
	}
}
