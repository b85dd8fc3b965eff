package chaos

import (
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
)

func TestResetsCarryACounterAcrossRestarts(t *testing.T) {
	r := resets{}
	match := map[string]string{"status": "completed"}
	for i, step := range []struct {
		proc string
		v    float64
		want float64
	}{
		{"transactions-1", 10, 10},
		{"transactions-1", 25, 25},
		{"transactions-1", 3, 28}, // restarted: what it counted before is kept
		{"transactions-1", 7, 32}, // counting on from the restart
		{"transactions-2", 5, 5},  // another process, its own counter
		{"transactions-1", 0, 32}, // restarted again, nothing counted yet
		{"transactions-1", 0, 32}, // still nothing: no second reset
		{"transactions-1", 1.5, 33.5},
	} {
		if got := r.observe(step.proc, "transactions_total", match, step.v); got != step.want {
			t.Fatalf("step %d: %s reads %v: total %v, want %v", i, step.proc, step.v, got, step.want)
		}
	}
	if got := r.last("transactions-1", "transactions_total", match); got != 33.5 {
		t.Errorf("last = %v, want 33.5 (a process that does not answer keeps its total)", got)
	}
	if got := r.last("transactions-1", "transactions_total", map[string]string{"status": "failed"}); got != 0 {
		t.Errorf("an unread series: %v, want 0", got)
	}
}

func TestOverflowsCompareEachQueueWithTheWorkOwedAroundIt(t *testing.T) {
	const processing = "wallet.transaction.processing"
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	owed := func(n float64) map[string]float64 { return map[string]float64{processing: n} }
	w := &watch{
		work: []workSample{{at: at(0), owed: owed(10)}, {at: at(500), owed: owed(100)}, {at: at(1000), owed: owed(0)}},
		depths: []depthSample{
			{at: at(250), depths: map[string]int{processing: 180}},                                 // ≤ 1.5 × 100 + 32 (the larger neighbour)
			{at: at(750), depths: map[string]int{processing: 150, bus.RetryQueue(processing): 40}}, // 190 > 182: the retry queue counts
			{at: at(1250), depths: map[string]int{processing: 33}},                                 // after the last sample: 0 owed, bound 32
			{at: at(1300), depths: map[string]int{bus.DeadLetterQueue(processing): 99}},            // dead letters are checked apart
		},
	}
	over, deepest := w.overflows(32)
	if len(over) != 2 || over[0].depth != 190 || over[0].bound != 182 || over[1].depth != 33 || over[1].bound != 32 {
		t.Errorf("overflows = %+v; want the samples at 750 ms (190 > 182) and 1250 ms (33 > 32)", over)
	}
	if deepest[processing] != 190 {
		t.Errorf("deepest = %v, want %s 190", deepest, processing)
	}
	for _, q := range contract.Topology().Queues {
		if _, ok := deepest[q.Name]; !ok {
			t.Errorf("deepest lacks %s", q.Name)
		}
	}
}
