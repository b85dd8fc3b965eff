package scrape_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/scrape"
)

const exposition = `# TYPE transactions_total counter
transactions_total{status="completed",type="transfer"} 7
transactions_total{status="failed",type="transfer"} 2
transactions_total{status="completed",type="topup"} 3
# TYPE bus_queue_messages gauge
bus_queue_messages{queue="wallet.transaction.processing"} 4
`

func TestReadAndSum(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(exposition)) }))
	defer srv.Close()
	fams, err := scrape.Read(context.Background(), srv.Client(), srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		metric    string
		match     map[string]string
		want      float64
		wantFound bool
	}{
		{"every series of a counter", "transactions_total", nil, 12, true},
		{"one label", "transactions_total", map[string]string{"status": "completed"}, 10, true},
		{"two labels", "transactions_total", map[string]string{"status": "completed", "type": "topup"}, 3, true},
		{"no series matches", "transactions_total", map[string]string{"status": "pending"}, 0, true},
		{"a gauge", "bus_queue_messages", nil, 4, true},
		{"not exported", "emails_sent_total", nil, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, found := fams.Sum(tt.metric, tt.match)
			if got != tt.want || found != tt.wantFound {
				t.Errorf("Sum = %v, %v; want %v, %v", got, found, tt.want, tt.wantFound)
			}
		})
	}
}

func TestReadRefusesAFailedScrape(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	if _, err := scrape.Read(context.Background(), srv.Client(), srv.URL+"/metrics"); err == nil {
		t.Error("a 404 scrape gave no error")
	}
}
