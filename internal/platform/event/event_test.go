package event_test

import (
	"context"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/event"
)

// placed is the data of a made-up event, order.placed.
type placed struct {
	OrderID string `json:"orderId"`
	Item    string `json:"item"`
}

func TestOnDecodesItsTypeAndRefusesTheRest(t *testing.T) {
	ev, err := event.New(context.Background(), "orders.events", "order.placed", time.Now(), placed{OrderID: "o1", Item: "tea"})
	if err != nil {
		t.Fatal(err)
	}
	good, err := ev.Message()
	if err != nil {
		t.Fatal(err)
	}
	good.Attempt = 3
	wrongType := good
	wrongType.Body = []byte(`{"id":"e2","type":"order.shipped","occurredAt":"2026-01-01T00:00:00Z","data":{"orderId":"o1"}}`)

	var got event.Received[placed]
	h := event.On("order.placed", func(_ context.Context, r event.Received[placed]) error {
		got = r
		return nil
	})
	tests := []struct {
		name string
		msg  bus.Message
		ok   bool
	}{
		{"its type", good, true},
		{"another type", wrongType, false},
		{"not JSON", bus.Message{Type: "order.placed", Body: []byte(`{`)}, false},
		{"no data", bus.Message{Type: "order.placed", Body: []byte(`{"id":"e3","type":"order.placed"}`)}, false},
		{"data of another shape", bus.Message{Type: "order.placed",
			Body: []byte(`{"id":"e4","type":"order.placed","occurredAt":"2026-01-01T00:00:00Z","data":{"orderId":7}}`)}, false},
		{"an unknown member", bus.Message{Type: "order.placed",
			Body: []byte(`{"id":"e5","type":"order.placed","occurredAt":"2026-01-01T00:00:00Z","data":{"orderId":"o1","price":1}}`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = event.Received[placed]{}
			err := h(context.Background(), tt.msg)
			if tt.ok {
				if err != nil || got.ID != ev.ID || got.Type != "order.placed" || got.Data != (placed{OrderID: "o1", Item: "tea"}) || got.Attempt != 3 {
					t.Fatalf("err %v, handler got %+v", err, got)
				}
				return
			}
			if !bus.IsPermanent(err) || got.ID != "" {
				t.Fatalf("err %v (want permanent), handler got %+v (want not called)", err, got)
			}
		})
	}
}
