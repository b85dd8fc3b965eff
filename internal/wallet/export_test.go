package wallet

import (
	"context"

	"github.com/mint-wallet/mint/internal/contract"
)

// Decision is what one delivery of transaction.processing decided before recording it.
type Decision = decision

// Outcome is the outcome d would record.
func (d Decision) Outcome() string { return d.outcome }

// Decide and Commit are the two halves of Process, so that a test can interleave two deliveries.
func (m *Module) Decide(ctx context.Context, p contract.TransactionProcessingData) (Decision, error) {
	return m.svc.decide(ctx, p, false)
}

// Commit records d (unless an outcome is recorded already) and settles the recorded outcome.
func (m *Module) Commit(ctx context.Context, p contract.TransactionProcessingData, d Decision) error {
	return m.svc.commit(ctx, p, d)
}

// Record is Commit up to the recorded outcome: what a crash right after the record leaves.
func (m *Module) Record(ctx context.Context, p contract.TransactionProcessingData, d Decision) error {
	_, _, err := m.svc.recordOutcome(ctx, p, d)
	return err
}
