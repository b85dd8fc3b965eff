package mongox

import (
	"errors"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/mint-wallet/mint/internal/platform/failure"
)

// Every error of the driver that says the server did not answer is failure.Unavailable, whichever
// store it comes through: a 503 a client retries with the same idempotency key, a delivery the bus
// retries without counting it towards the dead-letter queue.
func init() { failure.Classify(failure.Unavailable, IsUnavailable) }

// IsUnavailable reports whether err says the server did not answer: a network error (connection
// refused or reset, the server gone mid-command), no server selectable in time, or a timeout.
func IsUnavailable(err error) bool {
	return err != nil && (mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.Is(err, mongo.ErrClientDisconnected))
}

// IsDuplicateKey reports whether err is a unique-index violation. Besides the driver's codes (11000 and
// friends) it accepts FerretDB's: a violation caused by an update, findAndModify, replace or bulk
// update comes back as InternalError (code 1) whose message names the SQL constraint.
func IsDuplicateKey(err error) bool {
	if err == nil {
		return false
	}
	if mongo.IsDuplicateKeyError(err) {
		return true
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		return se.HasErrorCodeWithMessage(1, "UNIQUE constraint failed") ||
			se.HasErrorCodeWithMessage(1, "duplicate key value")
	}
	return false
}
