package transactions

import (
	"strings"
	"testing"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
)

// The trace of the request that made a transfer goes on with every event its saga owes here: the
// transaction.created the request stored, and the transaction.processing its consumer published.
func TestTheSagaContinuesTheTraceOfTheTransfer(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	from, to := h.newUser(), h.newUser()
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	res := h.do("POST", "/api/v1/transactions/transfer", `{"recipientId": "`+to.id+`", "amount": 1}`, from,
		"traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	if res.Status != 201 {
		t.Fatalf("transfer: %d %s", res.Status, res.Body)
	}
	tx := res.tx(t)
	for _, typ := range []string{contract.TransactionCreated, contract.TransactionProcessing} {
		var e recorded
		h.eventually(typ+" published", func() bool {
			var ok bool
			e, ok = h.recorder.find(typ, tx.ID)
			return ok
		})
		m, _ := h.messages.Load(e.id)
		if tp := m.(bus.Message).Headers["traceparent"]; !strings.HasPrefix(tp, "00-"+traceID+"-") {
			t.Errorf("%s carries traceparent %q, want the transfer's trace %s", typ, tp, traceID)
		}
	}
}
