package rabbitmq

import (
	"maps"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/internal/policy"
)

func TestCodecRoundTrip(t *testing.T) {
	msg := bus.Message{ID: "id", Exchange: "wallet.events", Type: "wallet.transactionFinalized",
		Timestamp: time.Unix(1_700_000_000, 0).UTC(), Headers: map[string]string{"traceparent": "tp"}, Body: []byte(`{}`)}
	p := publishing(msg)
	if p.DeliveryMode != amqp.Persistent || p.ContentType != "application/json" || p.MessageId != "id" || p.Type != msg.Type {
		t.Errorf("publishing = %+v", p)
	}

	// As it comes back from the retry queue: through the default exchange, with broker headers.
	r := redirected(msg, policy.Delivery{Attempt: 3, Outages: 7}, nil)
	r.Headers["x-death"] = []any{amqp.Table{"count": int64(1)}}
	r.Headers["x-first-death-reason"] = "expired"
	back := amqp.Delivery{Headers: r.Headers, MessageId: r.MessageId, Type: r.Type, Timestamp: r.Timestamp,
		Body: r.Body, Exchange: "", RoutingKey: "wallet.x"}
	got := message(back)
	if got.Exchange != msg.Exchange || got.Attempt != 3 || !maps.Equal(got.Headers, msg.Headers) || got.Type != msg.Type || !got.Timestamp.Equal(msg.Timestamp) {
		t.Errorf("message = %+v, want exchange, type, timestamp and headers of %+v with Attempt 3", got, msg)
	}
	if n := outages(back); n != 7 {
		t.Errorf("outages = %d, want 7", n)
	}

	d := redirected(msg, policy.Delivery{Attempt: 5}, map[string]string{policy.ErrorHeader: "boom"})
	dead := amqp.Delivery{Headers: d.Headers}
	if got := message(dead); got.Headers[policy.ErrorHeader] != "boom" || got.Attempt != 5 || outages(dead) != 0 {
		t.Errorf("dead-lettered message = %+v with %d outages", got, outages(dead))
	}
}
