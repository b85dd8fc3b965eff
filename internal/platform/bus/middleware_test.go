package bus_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/bus"
)

// recordingBus is a Bus whose Consume hands the handler one message, recording what it returns.
type recordingBus struct {
	bus.Bus
	got error
}

func (r *recordingBus) Consume(ctx context.Context, _ string, h bus.Handler) error {
	r.got = h(ctx, bus.Message{ID: "m1", Type: "t"})
	return nil
}

func TestChainRunsTheFirstMiddlewareOutermost(t *testing.T) {
	var order []string
	mark := func(name string) bus.Middleware {
		return func(next bus.Handler) bus.Handler {
			return func(ctx context.Context, msg bus.Message) error {
				order = append(order, name+">")
				err := next(ctx, msg)
				order = append(order, "<"+name)
				return err
			}
		}
	}
	h := bus.Chain(func(context.Context, bus.Message) error { order = append(order, "h"); return nil }, mark("a"), mark("b"))
	if err := h(context.Background(), bus.Message{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, " "); got != "a> b> h <b <a" {
		t.Errorf("order = %q", got)
	}

	inner := &recordingBus{}
	refuse := func(bus.Handler) bus.Handler {
		return func(context.Context, bus.Message) error { return bus.Permanent(context.Canceled) }
	}
	b := bus.WithMiddleware(inner, refuse)
	if err := b.Consume(context.Background(), "q", func(context.Context, bus.Message) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if !bus.IsPermanent(inner.got) {
		t.Errorf("the consumer's handler did not run through the middleware: %v", inner.got)
	}
	if bus.WithMiddleware(inner) != bus.Bus(inner) {
		t.Error("no middleware should leave the bus as it is")
	}
}
