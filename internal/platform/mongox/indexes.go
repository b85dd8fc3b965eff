package mongox

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// EnsureIndexes creates models on coll. Re-creating an identical index is a no-op on MongoDB and on
// FerretDB, so services call it at every start. Do not pass TTL, partial or sparse options: FerretDB
// rejects the first two and silently ignores the last (ARCHITECTURE §4).
//
// One createIndexes command per index: embedded FerretDB drops the connection when a single command
// names two or more indexes that already exist (every restart of `mint dev` did).
func EnsureIndexes(ctx context.Context, coll *mongo.Collection, models ...mongo.IndexModel) error {
	for _, m := range models {
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("ensure indexes on %s: %w", coll.Name(), err)
		}
	}
	return nil
}
