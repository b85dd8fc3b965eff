package policy

import (
	"errors"
	"maps"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/mint-wallet/mint/internal/platform/bus"
)

// maxErrorText bounds the x-mint-error header: a panic's stack can be long, and AMQP headers share the
// frame with the message properties.
const maxErrorText = 4096

// Normalize validates a message about to be published and fills what the publisher may leave out: an
// ID (consumers deduplicate on it, so it must never be empty) and the timestamp. The timestamp is cut to
// whole seconds in UTC because that is all AMQP carries; the in-process bus does the same so both
// adapters deliver identical messages. The headers and body are copied: the caller may reuse them.
func Normalize(msg bus.Message) (bus.Message, error) {
	if msg.Exchange == "" {
		return bus.Message{}, errors.New("message has no exchange")
	}
	if msg.Type == "" {
		return bus.Message{}, errors.New("message has no type (routing key)")
	}
	if msg.ID == "" {
		msg.ID = uuid.NewString()
	}
	if msg.Timestamp.IsZero() {
		msg.Timestamp = time.Now()
	}
	msg.Timestamp = msg.Timestamp.Truncate(time.Second).UTC()
	msg.Headers = maps.Clone(msg.Headers)
	// Bookkeeping headers are the adapters' to set; one copied from a delivery must not fake an attempt.
	delete(msg.Headers, AttemptHeader)
	delete(msg.Headers, OutageHeader)
	delete(msg.Headers, ExchangeHeader)
	msg.Body = append([]byte(nil), msg.Body...)
	msg.Attempt = 0
	return msg, nil
}

// ErrorText is err's text, cut to a size fit for a header.
func ErrorText(err error) string {
	s := err.Error()
	if len(s) <= maxErrorText {
		return s
	}
	s = s[:maxErrorText]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
