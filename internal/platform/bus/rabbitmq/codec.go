package rabbitmq

import (
	"fmt"
	"strconv"
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/internal/policy"
)

// publishing maps a normalized message to its AMQP form (CONTRACT "Events"): persistent, with
// message_id, type = routing key, timestamp, JSON content type and the message's headers.
func publishing(msg bus.Message) amqp.Publishing {
	var headers amqp.Table
	if len(msg.Headers) > 0 {
		headers = make(amqp.Table, len(msg.Headers))
		for k, v := range msg.Headers {
			headers[k] = v
		}
	}
	return amqp.Publishing{
		Headers:      headers,
		ContentType:  "application/json",
		DeliveryMode: amqp.Persistent,
		MessageId:    msg.ID,
		Timestamp:    msg.Timestamp,
		Type:         msg.Type,
		Body:         msg.Body,
	}
}

// redirected is msg as republished to its retry or dead-letter queue: it travels through the default
// exchange there, so the original exchange, the attempt and the outage retries ride in headers.
func redirected(msg bus.Message, d policy.Delivery, extra map[string]string) amqp.Publishing {
	p := publishing(msg)
	if p.Headers == nil {
		p.Headers = amqp.Table{}
	}
	for k, v := range extra {
		p.Headers[k] = v
	}
	p.Headers[policy.AttemptHeader] = int64(d.Attempt)
	if d.Outages > 0 {
		p.Headers[policy.OutageHeader] = int64(d.Outages)
	}
	p.Headers[policy.ExchangeHeader] = msg.Exchange
	return p
}

// message maps a delivery back. Headers the broker adds on dead-lettering (x-death, …) and our own
// bookkeeping are dropped, so a handler sees the headers the publisher set (plus x-mint-error in a
// dead-letter queue).
func message(d amqp.Delivery) bus.Message {
	msg := bus.Message{
		ID:        d.MessageId,
		Exchange:  d.Exchange,
		Type:      d.Type,
		Timestamp: d.Timestamp.UTC(),
		Body:      d.Body,
		Attempt:   1,
	}
	if msg.Type == "" {
		msg.Type = d.RoutingKey
	}
	for k, v := range d.Headers {
		switch {
		case k == policy.AttemptHeader:
			if n, ok := toInt(v); ok && n > 0 {
				msg.Attempt = n
			}
		case k == policy.OutageHeader:
		case k == policy.ExchangeHeader:
			if s, ok := v.(string); ok {
				msg.Exchange = s
			}
		case isBrokerHeader(k):
		default:
			if msg.Headers == nil {
				msg.Headers = map[string]string{}
			}
			msg.Headers[k] = headerString(v)
		}
	}
	return msg
}

// outages reads a delivery's outage retries so far (policy.Delivery).
func outages(d amqp.Delivery) int {
	if n, ok := toInt(d.Headers[policy.OutageHeader]); ok && n > 0 {
		return n
	}
	return 0
}

func isBrokerHeader(k string) bool {
	return k == "x-death" || k == "x-delivery-count" ||
		strings.HasPrefix(k, "x-first-death-") || strings.HasPrefix(k, "x-last-death-")
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int8:
		return int(n), true
	case int16:
		return int(n), true
	case int32:
		return int(n), true
	case int64:
		return int(n), true
	case uint8:
		return int(n), true
	case uint16:
		return int(n), true
	case uint32:
		return int(n), true
	case string:
		i, err := strconv.Atoi(n)
		return i, err == nil
	}
	return 0, false
}

// headerString renders a header another publisher may have set with a non-string AMQP type.
func headerString(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case []byte:
		return string(s)
	default:
		return fmt.Sprint(v)
	}
}
