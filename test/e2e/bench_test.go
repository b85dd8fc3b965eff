package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBench runs mint bench against mint dev, as a user measuring their deployment would: each
// scenario's JSON summary counts what it did, and the transfer scenario the database operations per
// completed transfer. It asserts what was done, not how fast.
func TestBench(t *testing.T) {
	p := startDev(t, tempDir(t))
	type summary struct {
		Scenario  string
		Requests  int
		Failed    int
		PerSecond float64
		P50Ms     float64
		P99Ms     float64
	}
	for _, tt := range []struct {
		scenario string
		extra    []string
		dbReport bool // a second JSON object: the database operations per completed transfer
	}{
		{"user", nil, false},
		{"user", []string{"--spread=false"}, false}, // every client from the address the system picks
		{"signup", nil, false},
		{"transfer", []string{"--idle", "1s", "--probe-gets", "20"}, true},
		{"hot-source", []string{"--idle", "1s", "--probe-gets", "20"}, true},
		{"hot-destination", []string{"--db-ops=false", "--wait", "stream"}, false},
		{"transfer", []string{"--db-ops=false", "--wait", "stream"}, false},
		{"mixed", []string{"--users", "4"}, false},
	} {
		t.Run(tt.scenario, func(t *testing.T) {
			args := append([]string{"bench", "--base", p.base, "--scenario", tt.scenario, "--clients", "4",
				"--duration", "2s", "--warmup", "0s", "--json"}, tt.extra...)
			code, stdout, stderr := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("mint bench: exit %d\n%s%s", code, stdout, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			// One summary, or for mixed one per kind of request ("mixed/list", …).
			kinds := 1
			if tt.scenario == "mixed" {
				kinds = 4
			}
			if len(lines) < kinds {
				t.Fatalf("%d lines, want at least %d:\n%s", len(lines), kinds, stdout)
			}
			for _, line := range lines[:kinds] {
				var s summary
				if err := json.Unmarshal([]byte(line), &s); err != nil {
					t.Fatalf("summary %q: %v", line, err)
				}
				if (s.Scenario != tt.scenario && !strings.HasPrefix(s.Scenario, tt.scenario+"/")) || s.Requests == 0 || s.Failed != 0 ||
					s.PerSecond <= 0 || s.P50Ms <= 0 || s.P99Ms < s.P50Ms {
					t.Errorf("summary %+v", s)
				}
			}
			if !tt.dbReport {
				return
			}
			var ops struct {
				DBOpsPerCompletedTransfer *float64
				Completed                 float64
			}
			if len(lines) < 2 || json.Unmarshal([]byte(lines[1]), &ops) != nil || ops.DBOpsPerCompletedTransfer == nil ||
				*ops.DBOpsPerCompletedTransfer <= 0 || ops.Completed == 0 {
				t.Errorf("the transfer scenario's database report: %q", stdout)
			}
		})
	}

	// Only loopback: a deployment elsewhere is refused before any request.
	code, _, stderr := runCLI(t, "bench", "--base", "http://192.0.2.1:8080", "--duration", "1s")
	if code == 0 || !strings.Contains(stderr, "loopback") {
		t.Errorf("mint bench against 192.0.2.1: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "bench", "--scenario", "nope")
	if code != 2 || !strings.Contains(stderr, `unknown scenario "nope"`) {
		t.Errorf("mint bench --scenario nope: exit %d, %q", code, stderr)
	}
}
