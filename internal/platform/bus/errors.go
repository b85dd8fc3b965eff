package bus

import "errors"

// Errors shared by every adapter, so callers (the outbox, readiness checks) can branch on them with
// errors.Is whatever broker sits behind the interface.
var (
	// ErrUnroutable reports a published message that no queue is bound to receive. Publishing it anyway
	// would lose it silently, so the publisher must treat it as a failure.
	ErrUnroutable = errors.New("bus: message is unroutable")
	// ErrClosed reports a call on a bus after Close.
	ErrClosed = errors.New("bus: closed")
)
