// Package event is the envelope every event travels in: an Event a service owes (stored in its
// outbox until published), its wire form (Message), and the decoding its consumers run (Decode, On).
// It knows no event of its own; package contract names them and their payloads.
package event

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/observe"
	"github.com/mint-wallet/mint/internal/platform/strictjson"
)

// Envelope is the JSON body of every event.
type Envelope struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	OccurredAt time.Time       `json:"occurredAt"`
	Data       json.RawMessage `json:"data"`
}

// Event is an event a service owes, before it is on the wire. Services store it with the document it
// belongs to (the outbox) and publish it later with Message. Headers carry the W3C trace context of
// the request that caused it, so the trace continues in its consumers even when it is published later.
type Event struct {
	ID         string            `bson:"id" json:"id"`
	Exchange   string            `bson:"exchange" json:"exchange"`
	Type       string            `bson:"type" json:"type"`
	OccurredAt time.Time         `bson:"occurredAt" json:"occurredAt"`
	Data       json.RawMessage   `bson:"data" json:"data"`
	Headers    map[string]string `bson:"headers,omitempty" json:"headers,omitempty"`
}

// New builds an event with a fresh id, carrying ctx's trace context.
func New(ctx context.Context, exchange, routingKey string, occurredAt time.Time, data any) (Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s: %w", routingKey, err)
	}
	headers := map[string]string{}
	observe.InjectTrace(ctx, headers)
	if len(headers) == 0 {
		headers = nil
	}
	return Event{ID: uuid.NewString(), Exchange: exchange, Type: routingKey, OccurredAt: occurredAt.UTC(), Data: raw, Headers: headers}, nil
}

// Message is the wire form of e.
func (e Event) Message() (bus.Message, error) {
	body, err := json.Marshal(Envelope{ID: e.ID, Type: e.Type, OccurredAt: e.OccurredAt, Data: e.Data})
	if err != nil {
		return bus.Message{}, fmt.Errorf("encode envelope %s: %w", e.Type, err)
	}
	return bus.Message{ID: e.ID, Exchange: e.Exchange, Type: e.Type, Timestamp: e.OccurredAt, Headers: e.Headers, Body: body}, nil
}

// Received is a decoded event as its handler sees it: the envelope's id and type, the data, and which
// delivery of the message this is (1 on the first).
type Received[T any] struct {
	ID      string
	Type    string
	Data    T
	Attempt int
}

// On returns the handler of events of type typ: it decodes the message (Decode) and checks its type —
// a failure of either is permanent, so the message goes to the dead-letter queue — then calls h.
func On[T any](typ string, h func(context.Context, Received[T]) error) bus.Handler {
	return func(ctx context.Context, msg bus.Message) error {
		var data T
		env, err := Decode(msg, &data)
		if err != nil {
			return err
		}
		if env.Type != typ {
			return bus.Permanent(fmt.Errorf("event %s has type %q, want %q", env.ID, env.Type, typ))
		}
		return h(ctx, Received[T]{ID: env.ID, Type: env.Type, Data: data, Attempt: msg.Attempt})
	}
}

// Decode parses msg's envelope and its data into v, as strictly as a request body (strictjson): no
// duplicate, unknown or case-variant member names, valid UTF-8, the right JSON types. Any error is
// permanent: redelivery cannot fix it. Because unknown members are refused, a field is added to an
// event's data only once every consumer of that event knows it (consumers are deployed first).
func Decode(msg bus.Message, v any) (Envelope, error) {
	var env Envelope
	if err := strictjson.Unmarshal(msg.Body, &env); err != nil {
		return env, bus.Permanent(fmt.Errorf("decode %s envelope: %w", msg.Type, err))
	}
	if env.ID == "" || env.Type == "" || len(env.Data) == 0 {
		return env, bus.Permanent(fmt.Errorf("decode %s envelope: missing id, type or data", msg.Type))
	}
	if err := strictjson.Unmarshal(env.Data, v); err != nil {
		return env, bus.Permanent(fmt.Errorf("decode %s data: %w", msg.Type, err))
	}
	return env, nil
}
