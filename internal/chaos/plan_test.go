package chaos

import (
	"reflect"
	"testing"
	"time"
)

var testProcesses = []string{"db", "auth", "notifications", "wallet-1", "wallet-2", "transactions-1", "transactions-2"}

func TestPlanBreaksEverythingOnceWithinTheRun(t *testing.T) {
	for _, tc := range []struct {
		seed uint64
		n    int
	}{{1, 10_000}, {2, 10_000}, {42, 1_000}, {7, 100}} {
		faults := plan(tc.seed, tc.n, testProcesses, 20*time.Second)
		seen := map[string]int{}
		last := -1
		for _, f := range faults {
			seen[string(f.Kind)+" "+f.Target]++
			if f.At < last {
				t.Errorf("seed %d: faults out of order: %v", tc.seed, faults)
			}
			last = f.At
			if f.At < tc.n*5/100 || f.At >= tc.n*85/100 {
				t.Errorf("seed %d, n %d: %v at %d, outside 5–85 %% of the run", tc.seed, tc.n, f, f.At)
			}
			switch f.Kind {
			case killFault:
				if f.Down < 500*time.Millisecond || f.Down >= 3*time.Second {
					t.Errorf("seed %d: %v: restart pause out of 0.5–3 s", tc.seed, f)
				}
			case outageFault:
				if f.Down != 20*time.Second {
					t.Errorf("seed %d: %v: want 20 s", tc.seed, f)
				}
			}
		}
		want := map[string]int{"restart rabbitmq": 1, "outage redis": 1, "outage smtp": 1}
		for _, p := range testProcesses {
			want["kill "+p] = 1
		}
		if !reflect.DeepEqual(seen, want) {
			t.Errorf("seed %d: faults %v, want each of %v once", tc.seed, seen, want)
		}
	}
}

func TestPlanIsReplayedBySeed(t *testing.T) {
	a := plan(9, 10_000, testProcesses, 20*time.Second)
	if b := plan(9, 10_000, testProcesses, 20*time.Second); !reflect.DeepEqual(a, b) {
		t.Errorf("the same seed gave two schedules:\n%v\n%v", a, b)
	}
	if c := plan(10, 10_000, testProcesses, 20*time.Second); reflect.DeepEqual(a, c) {
		t.Errorf("seeds 9 and 10 gave the same schedule: %v", a)
	}
}
