package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/mint-wallet/mint/internal/platform/failure"
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

// Handle serves op with h. Before h runs, the caller is authenticated (op.Auth), the query must be
// valid text holding only op.Query's parameters, and every parameter of op.Query and op.Headers must
// be as declared (openapi.Param.Check). The answer is Cache-Control: no-store unless h says otherwise.
func (rt *Router) Handle(op openapi.Operation, h Handler) {
	rt.doc.Add(op)
	pattern := op.Method + " " + op.Path
	needsAuth := op.Auth
	query, headers := newParamSpec(op.Query), newParamSpec(op.Headers)
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
		if err := query.checkQuery(r.URL.RawQuery); err != nil {
			WriteError(w, r, rt.logger, err)
			return
		}
		if err := headers.checkHeaders(r.Header); err != nil {
			WriteError(w, r, rt.logger, err)
			return
		}
		if err := h(w, r); err != nil {
			WriteError(w, r, rt.logger, err)
		}
	}))
}

// HandleRaw serves pattern with a plain handler left out of the API document (health, metrics, docs).
// An error such a handler answers in something other than JSON (a file server's plain 404, the
// metrics handler's plain 500) is answered as a problem instead.
func (rt *Router) HandleRaw(pattern string, h http.Handler) {
	rt.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setRoute(r.Context(), pattern)
		pw := &plainErrors{ResponseWriter: w}
		h.ServeHTTP(pw, r)
		if pw.status != 0 {
			WriteError(w, r, rt.logger, failure.New(kindOfStatus(pw.status), http.StatusText(pw.status)))
		}
	}))
}

// plainErrors passes a response through, except an error status whose body is not JSON: that it
// swallows, remembering the status, for HandleRaw to answer as a problem.
type plainErrors struct {
	http.ResponseWriter
	status int // the swallowed error status; 0 while passing through
	passed bool
}

func (p *plainErrors) WriteHeader(code int) {
	if p.passed || p.status != 0 {
		return
	}
	ct := p.Header().Get("Content-Type")
	if code >= http.StatusBadRequest && !strings.Contains(ct, "json") {
		p.status = code
		for _, h := range []string{"Content-Type", "Content-Length", "X-Content-Type-Options"} {
			p.Header().Del(h)
		}
		return
	}
	p.passed = true
	p.ResponseWriter.WriteHeader(code)
}

func (p *plainErrors) Write(b []byte) (int, error) {
	if !p.passed && p.status == 0 {
		p.WriteHeader(http.StatusOK)
	}
	if p.status != 0 {
		return len(b), nil
	}
	return p.ResponseWriter.Write(b)
}

func (p *plainErrors) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// kindOfStatus is the failure kind of an HTTP error status a handler answered on its own.
func kindOfStatus(status int) failure.Kind {
	switch status {
	case http.StatusUnauthorized:
		return failure.Unauthenticated
	case http.StatusForbidden:
		return failure.Forbidden
	case http.StatusNotFound:
		return failure.NotFound
	case http.StatusMethodNotAllowed:
		return failure.MethodNotAllowed
	case http.StatusServiceUnavailable:
		return failure.Unavailable
	}
	if status < http.StatusInternalServerError {
		return failure.MalformedRequest
	}
	return failure.Internal
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
