// Package outbox lets a service publish the events it owes without a crash ever splitting a state
// change from its event (ARCHITECTURE §3). The service stores the events inside the document they
// belong to, in the field "outbox", in the same single-document insert or update as the state change:
// that write is atomic on every MongoDB-wire server, with no multi-document transaction. A Relay then
// publishes each pending event and, only after the broker confirmed it, removes it from the document.
//
// Delivery is at least once: a crash between the confirm and the removal, or two relays on one
// collection, publish an event twice. Consumers deduplicate by event id.
package outbox

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/platform/event"
)

// Field is the document field holding the events still to publish, oldest first.
const Field = "outbox"

// SinceField marks a document with events to publish: the time of the oldest event pushed since its
// outbox was last empty. It is a top-level, indexed field, so that a sweep finds the documents owing
// events through an index instead of reading the collection (an array's length cannot be indexed).
// The relay removes it in the same round trip as the last event.
const SinceField = "outboxSince"

// DeadField receives events that can never be published (they do not encode), so that they stop
// blocking the events after them and stay on record for an operator.
const DeadField = "outboxDead"

// Pending is meant to be inlined in a document type that carries an outbox:
//
//	type Transaction struct {
//		ID     string `bson:"_id"`
//		...
//		outbox.Pending `bson:",inline"`
//	}
type Pending struct {
	Outbox []event.Event `bson:"outbox,omitempty"`
	Since  *time.Time    `bson:"outboxSince,omitempty"`
}

// Owe is the outbox of a document inserted with events to publish.
func Owe(events ...event.Event) Pending {
	since := oldest(events)
	return Pending{Outbox: events, Since: &since}
}

// Park is the outbox of a document inserted with events that must wait for work done after the
// insert: no sweep publishes them, only a Relay's Notify of the document does. The writer notifies
// once that work is done; after a crash, whatever redoes the work (a redelivery) must notify again.
// A Push to the document marks it as usual, which ends the wait.
func Park(events ...event.Event) Pending {
	return Pending{Outbox: events, Since: &parkedSince}
}

// parkedSince is the mark of a parked outbox: a time no sweep's cutoff reaches.
var parkedSince = time.Date(9999, time.January, 1, 0, 0, 0, 0, time.UTC)

// Push adds to update (a document of update operators such as $set) the operators that append events
// to a document's outbox and mark it, so that the state change and its events are one write:
// outbox.Push(bson.D{{Key: "$set", Value: ...}}, ev). It uses $push and $min, so update must not.
func Push(update bson.D, events ...event.Event) bson.D {
	return append(update,
		bson.E{Key: "$push", Value: bson.D{{Key: Field, Value: bson.D{{Key: "$each", Value: events}}}}},
		bson.E{Key: "$min", Value: bson.D{{Key: SinceField, Value: oldest(events)}}})
}

// oldest is the earliest time of events, to the millisecond a BSON date holds; now for none.
func oldest(events []event.Event) time.Time {
	t := time.Now()
	for _, ev := range events {
		if !ev.OccurredAt.IsZero() && ev.OccurredAt.Before(t) {
			t = ev.OccurredAt
		}
	}
	return t.UTC().Truncate(time.Millisecond)
}

// PendingFilter matches documents with at least one event to publish. "outbox.0" exists only for a
// non-empty array; unlike {$ne: []} it also excludes a null field, and it works on FerretDB. It is a
// dotted path no index serves: the relay uses it once at start, for documents written before
// SinceField existed.
func PendingFilter() bson.D {
	return bson.D{{Key: Field + ".0", Value: bson.D{{Key: "$exists", Value: true}}}}
}
