package outbox_test

import (
	"context"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/outbox"
)

// A service completes a transaction and owes transaction.completed: the state change and the event
// are one update of one document, then the relay is told to publish it at once.
func Example() {
	var (
		ctx    context.Context   // the request's
		coll   *mongo.Collection // transactions
		broker bus.Publisher     // RabbitMQ or the in-process bus
	)
	relay, err := outbox.NewRelay(coll, broker, slog.Default(), outbox.Options{})
	if err != nil {
		return
	}
	go func() { _ = relay.Run(context.Background()) }() // for the life of the service

	ev, err := event.New(ctx, "orders.events", "order.shipped", time.Now(), map[string]string{"transactionId": "tx1"})
	if err != nil {
		return
	}
	_, err = coll.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: "tx1"}, {Key: "status", Value: "PROCESSING"}},
		outbox.Push(bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "COMPLETED"}}}}, ev))
	if err == nil {
		relay.Notify("tx1")
	}
}
