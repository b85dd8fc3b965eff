// Package contract holds what services agree on: event names, payloads and the broker topology
// (CONTRACT.md "Events"). Every service declares the whole topology at startup, so no event is
// unroutable because its consumer has not started yet.
package contract

import (
	"time"

	"github.com/mint-wallet/mint/internal/platform/bus"
)

// Exchanges.
const (
	AuthEvents        = "auth.events"
	WalletEvents      = "wallet.events"
	TransactionEvents = "transaction.events"
)

// Routing keys.
const (
	UserSignup            = "user.signup"
	TransactionCreated    = "transaction.created"
	TransactionProcessing = "transaction.processing"
	WalletTxFinalized     = "wallet.transactionFinalized"
	TransactionCompleted  = "transaction.completed"
	TransactionFailed     = "transaction.failed"
	consumerWallet        = "wallet"
	consumerNotifications = "notifications"
	consumerTransactions  = "transactions"
)

// Queue returns the queue name of consumer for routingKey: <consumer>.<routing key>.
func Queue(consumer, routingKey string) string { return consumer + "." + routingKey }

// Topology is every exchange, queue and binding of CONTRACT.md's event table.
func Topology() bus.Topology {
	q := func(consumer, exchange, key string) bus.Queue {
		return bus.Queue{Name: Queue(consumer, key), Exchange: exchange, RoutingKey: key}
	}
	return bus.Topology{
		Exchanges: []string{AuthEvents, WalletEvents, TransactionEvents},
		Queues: []bus.Queue{
			q(consumerWallet, AuthEvents, UserSignup),
			q(consumerNotifications, AuthEvents, UserSignup),
			q(consumerTransactions, AuthEvents, UserSignup),
			q(consumerTransactions, TransactionEvents, TransactionCreated),
			q(consumerWallet, TransactionEvents, TransactionProcessing),
			q(consumerTransactions, WalletEvents, WalletTxFinalized),
			q(consumerNotifications, TransactionEvents, TransactionCompleted),
			q(consumerNotifications, TransactionEvents, TransactionFailed),
			q(consumerWallet, TransactionEvents, TransactionFailed),
		},
	}
}

// UserSignupData is the payload of user.signup.
type UserSignupData struct {
	UserID    string    `json:"userId"`
	Email     string    `json:"email"`
	FirstName string    `json:"firstName"`
	LastName  string    `json:"lastName"`
	CreatedAt time.Time `json:"createdAt"`
}
