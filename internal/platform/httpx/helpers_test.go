package httpx_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mint-wallet/mint/internal/platform/httpx"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// wantProblem checks that a response is an RFC 9457 problem with status and code, and returns it.
func wantProblem(t *testing.T, status int, header http.Header, body []byte, wantStatus int, wantCode string) httpx.Problem {
	t.Helper()
	if status != wantStatus {
		t.Errorf("status = %d, want %d (body %s)", status, wantStatus, body)
	}
	if ct := header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var p httpx.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem body %q: %v", body, err)
	}
	if p.Status != wantStatus || string(p.Code) != wantCode {
		t.Errorf("problem status, code = %d, %q; want %d, %q", p.Status, p.Code, wantStatus, wantCode)
	}
	return p
}

// syncBuffer is a bytes.Buffer safe to write from a server goroutine while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logRecords parses JSON log output, one record per line.
func logRecords(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// findRecord returns the first log record with msg.
func findRecord(t *testing.T, out, msg string) map[string]any {
	t.Helper()
	for _, rec := range logRecords(t, out) {
		if rec["msg"] == msg {
			return rec
		}
	}
	t.Fatalf("no %q log record in:\n%s", msg, out)
	return nil
}

// series is one gathered sample: its labels, and the counter value, gauge value or histogram count.
type series struct {
	labels map[string]string
	value  float64
}

// gather returns every series of the metric family name in reg.
func gather(t *testing.T, reg *prometheus.Registry, name string) []series {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var out []series
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			s := series{labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				s.value = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				s.value = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				s.value = float64(m.GetHistogram().GetSampleCount())
			}
			out = append(out, s)
		}
	}
	return out
}
