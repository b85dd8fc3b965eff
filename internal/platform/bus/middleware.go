package bus

import "context"

// Middleware wraps a Handler with one concern (tracing, decoding, …).
type Middleware func(Handler) Handler

// Chain returns h wrapped by mws, the first outermost.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// WithMiddleware returns b whose every consumer runs its handler through mws (Chain), so each concern
// is applied once for every queue of every service.
func WithMiddleware(b Bus, mws ...Middleware) Bus {
	if len(mws) == 0 {
		return b
	}
	return middlewareBus{Bus: b, mws: mws}
}

type middlewareBus struct {
	Bus
	mws []Middleware
}

func (m middlewareBus) Consume(ctx context.Context, queue string, h Handler) error {
	return m.Bus.Consume(ctx, queue, Chain(h, m.mws...))
}
