package e2e

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

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

// TestOneTraceSpansTheSaga exports mint dev's spans over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT) to a
// receiver in the test and checks that the transfer's trace holds its request and every consumer of
// its saga, each span a child of the one before it; the trace is printed with -v.
func TestOneTraceSpansTheSaga(t *testing.T) {
	type span struct {
		name, id, parent string
		start            uint64
	}
	var (
		mu    sync.Mutex
		spans = map[string][]span{} // by trace id
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(raw, &req)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					tid := hex.EncodeToString(s.GetTraceId())
					spans[tid] = append(spans[tid], span{name: s.GetName(), id: hex.EncodeToString(s.GetSpanId()),
						parent: hex.EncodeToString(s.GetParentSpanId()), start: s.GetStartTimeUnixNano()})
				}
			}
		}
		mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	defer receiver.Close()

	p := startDev(t, tempDir(t), "OTEL_EXPORTER_OTLP_ENDPOINT="+receiver.URL, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
		"OTEL_BSP_SCHEDULE_DELAY=100")
	payer, payee := newUser(t, p.base, "spans.payer"), newUser(t, p.base, "spans.payee")
	top := must(t, call(t, "POST", p.base+"/api/v1/transactions/topup", map[string]any{"amount": "5.00"}, payer.token), 201, "topup")
	settle(t, p.base, payer, top.field(t, "id"))
	const traceID, parentID = "5bf92f3577b34da6a3ce929d0e0e4737", "00f067aa0ba902b8"
	res, err := tryCall("POST", p.base+"/api/v1/transactions/transfer", map[string]any{"recipientId": payee.id, "amount": "1.25"},
		payer.token, "traceparent", "00-"+traceID+"-"+parentID+"-01")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, p.base, payer, must(t, res, 201, "transfer").field(t, "id"))

	// The request, then each consumer of the saga in its order, each span the child of the one before.
	chain := []string{"POST /api/v1/transactions/transfer", "consume transaction.created", "consume transaction.processing",
		"consume wallet.transactionFinalized", "consume transaction.completed"}
	var got []span
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		mu.Lock()
		got = slices.Clone(spans[traceID])
		mu.Unlock()
		names := map[string]bool{}
		for _, s := range got {
			names[s.name] = true
		}
		complete := true
		for _, n := range chain {
			complete = complete && names[n]
		}
		if complete || time.Now().After(deadline) {
			break
		}
	}
	sort.Slice(got, func(i, j int) bool { return got[i].start < got[j].start })
	var dump strings.Builder
	for _, s := range got {
		dump.WriteString("\n  " + s.name + "  span " + s.id + "  parent " + s.parent)
	}
	t.Logf("trace %s:%s", traceID, dump.String())
	byName := map[string]span{}
	for _, s := range got {
		if _, seen := byName[s.name]; !seen {
			byName[s.name] = s
		}
	}
	parent := parentID
	for _, n := range chain {
		s, ok := byName[n]
		if !ok {
			t.Fatalf("the trace has no span %q", n)
		}
		if s.parent != parent {
			t.Errorf("span %q has parent %s, want %s (the span before it in the saga)", n, s.parent, parent)
		}
		parent = s.id
	}
}
