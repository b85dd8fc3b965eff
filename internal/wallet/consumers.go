package wallet

import (
	"context"
	"errors"
	"fmt"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/objectid"
)

// consumers returns the wallet's queues. Every handler is idempotent, keyed by business keys (the
// user's wallet, the transaction's legs and finalization), never by event id: a redelivered, replayed
// or re-published event, in any order, changes nothing twice. A malformed event, or one of another
// type, is permanent (event.On): redelivery cannot fix it, so it goes to the dead-letter queue.
func (s *Service) consumers() bus.Handlers {
	return bus.Handlers{
		contract.Queue("wallet", contract.UserSignup):            event.On(contract.UserSignup, s.onUserSignup),
		contract.Queue("wallet", contract.TransactionProcessing): event.On(contract.TransactionProcessing, s.onTransactionProcessing),
		contract.Queue("wallet", contract.TransactionFailed):     event.On(contract.TransactionFailed, s.onTransactionFailed),
	}
}

func (s *Service) onUserSignup(ctx context.Context, ev event.Received[contract.UserSignupData]) error {
	if !objectid.Valid(ev.Data.UserID) {
		return bus.Permanent(fmt.Errorf("user.signup %s: userId %q is not a 24-hex id", ev.ID, ev.Data.UserID))
	}
	return s.CreateWallet(ctx, ev.Data.UserID)
}

func (s *Service) onTransactionProcessing(ctx context.Context, ev event.Received[contract.TransactionProcessingData]) error {
	p := ev.Data
	if err := validateProcessing(p, s.currency); err != nil {
		return bus.Permanent(fmt.Errorf("transaction.processing %s: %w", ev.ID, err))
	}
	err := s.Process(ctx, p, ev.Attempt >= s.missingAttempts)
	if errors.Is(err, errWalletNotFound) {
		s.logger.InfoContext(ctx, "wallet not there yet; the event will come back", "transaction_id", p.TransactionID,
			"attempt", ev.Attempt)
	}
	return err
}

func (s *Service) onTransactionFailed(ctx context.Context, ev event.Received[contract.TransactionData]) error {
	if !objectid.Valid(ev.Data.ID) {
		return bus.Permanent(fmt.Errorf("transaction.failed %s: id %q is not a 24-hex id", ev.ID, ev.Data.ID))
	}
	return s.Fail(ctx, ev.Data)
}
