package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mint-wallet/mint/internal/notifications"
	"github.com/mint-wallet/mint/internal/platform/smtptest"
)

// TestOneTraceFromTransferToMail: a transfer is one trace. The traceparent of its request goes on
// through transaction.created, transaction.processing, the wallet's answer and transaction.completed
// to the mail records the transfer owes its two parties — in mint dev and across mint serve processes.
// Both run on a mint db, so that the test can read the mail records while the system runs.
func TestOneTraceFromTransferToMail(t *testing.T) {
	t.Run("mint dev", func(t *testing.T) {
		uri := startDB(t, tempDir(t))
		p := startDev(t, tempDir(t), "MINT_MONGODB_URI="+uri)
		checkTransferTrace(t, uri, p.base, p.base)
	})
	t.Run("mint serve", func(t *testing.T) {
		s := newSystem(t, startDB(t, tempDir(t)))
		s.env = append(s.env, "MINT_SMTP_URL="+smtptest.Start(t).URL())
		for _, svc := range []string{"auth", "notifications", "wallet", "transactions"} {
			s.startReplicas(svc, 1)
		}
		checkTransferTrace(t, s.dbURI, s.urls("auth")[0], s.urls("transactions")[0])
	})
}

func checkTransferTrace(t *testing.T, dbURI, authBase, txBase string) {
	t.Helper()
	payer, payee := newUser(t, authBase, "trace.payer"), newUser(t, authBase, "trace.payee")
	top := must(t, call(t, "POST", txBase+"/api/v1/transactions/topup", map[string]any{"amount": "5.00"}, payer.token), 201, "topup")
	settle(t, txBase, payer, top.field(t, "id"))

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	res, err := tryCall("POST", txBase+"/api/v1/transactions/transfer", map[string]any{"recipientId": payee.id, "amount": "1.25"},
		payer.token, "traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	if err != nil {
		t.Fatal(err)
	}
	txID := must(t, res, 201, "transfer").field(t, "id")
	if got := settle(t, txBase, payer, txID)["status"]; got != "completed" {
		t.Fatalf("transfer %s: %v", txID, got)
	}

	client, err := mongo.Connect(options.Client().ApplyURI(dbURI))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	mails := client.Database(notifications.DatabaseName).Collection("mails")
	for _, id := range []string{
		notifications.TemplateTransferSent + ":" + txID + ":" + payer.id,
		notifications.TemplateTransferReceived + ":" + txID + ":" + payee.id,
	} {
		var rec struct {
			TraceParent string `bson:"traceparent"`
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			err = mails.FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&rec)
			if err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatalf("mail record %s: %v", id, err)
		}
		if !strings.HasPrefix(rec.TraceParent, "00-"+traceID+"-") {
			t.Errorf("mail record %s has traceparent %q, want the transfer's trace %s", id, rec.TraceParent, traceID)
		}
	}
}
