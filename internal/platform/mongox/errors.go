package mongox

import (
	"errors"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

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
