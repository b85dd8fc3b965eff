package chaos

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// A fault is one thing the harness breaks on purpose, at a point of the workload.
type fault struct {
	Kind   faultKind
	Target string        // a process name of the stack (db, auth, wallet-1, …), or rabbitmq, redis, smtp
	At     int           // begins once this many transfers have been handed to the clients
	Down   time.Duration // how long the target stays down before it is started again
}

type faultKind string

const (
	// killFault SIGKILLs a process (no shutdown, nothing flushed) and starts it again after Down.
	killFault faultKind = "kill"
	// restartFault stops RabbitMQ completely (its Erlang VM exits) and starts it again.
	restartFault faultKind = "restart"
	// outageFault stops a server for Down: Redis (every cache call fails) or Mailpit (SMTP refused).
	outageFault faultKind = "outage"
)

func (f fault) String() string {
	switch f.Kind {
	case killFault:
		return fmt.Sprintf("kill -9 %s, start it %v later", f.Target, f.Down)
	case outageFault:
		return fmt.Sprintf("stop %s for %v", f.Target, f.Down)
	default:
		return fmt.Sprintf("%s %s", f.Kind, f.Target)
	}
}

// plan is the seeded fault schedule of a run of n transfers: every service process killed once in
// turn, the database killed once, RabbitMQ restarted once, Redis stopped and SMTP refused for outage
// each. The faults are shuffled and spread over the middle of the run (from 5 % to 85 % of the
// transfers, each within a slot of its own), so that load runs before, between and after them; the
// same seed gives the same schedule.
func plan(seed uint64, n int, processes []string, outage time.Duration) []fault {
	rng := rand.New(rand.NewPCG(seed, 0x6661756c74)) //nolint:gosec // a replayable schedule, not a secret
	faults := make([]fault, 0, len(processes)+3)
	for _, p := range processes {
		// A service is back within a few seconds of its start; the pause before it is what a
		// supervisor's restart delay would be.
		faults = append(faults, fault{Kind: killFault, Target: p, Down: time.Duration(500+rng.IntN(2500)) * time.Millisecond})
	}
	faults = append(faults,
		fault{Kind: restartFault, Target: "rabbitmq"},
		fault{Kind: outageFault, Target: "redis", Down: outage},
		fault{Kind: outageFault, Target: "smtp", Down: outage})
	rng.Shuffle(len(faults), func(i, j int) { faults[i], faults[j] = faults[j], faults[i] })
	from, to := n*5/100, n*85/100
	slot := float64(to-from) / float64(len(faults))
	for i := range faults {
		faults[i].At = from + int(slot*(float64(i)+rng.Float64()))
	}
	slices.SortStableFunc(faults, func(a, b fault) int { return a.At - b.At })
	return faults
}
