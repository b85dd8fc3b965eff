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
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/contract"
)

// Field is the document field holding the events still to publish, oldest first.
const Field = "outbox"

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
	Outbox []contract.Event `bson:"outbox,omitempty"`
}

// Push is the update operator that appends events to a document's outbox, to combine with the state
// change in one update: bson.D{{Key: "$set", Value: ...}, outbox.Push(ev)}. It uses $push, so the
// same update cannot $push to another field.
func Push(events ...contract.Event) bson.E {
	return bson.E{Key: "$push", Value: bson.D{{Key: Field, Value: bson.D{{Key: "$each", Value: events}}}}}
}

// PendingFilter matches documents with at least one event to publish. "outbox.0" exists only for a
// non-empty array; unlike {$ne: []} it also excludes a null field, and it works on FerretDB.
func PendingFilter() bson.D {
	return bson.D{{Key: Field + ".0", Value: bson.D{{Key: "$exists", Value: true}}}}
}
