package chaos

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/mint-wallet/mint/internal/platform/money"
)

// report is what a run found: the workload, what the system did under it, the fault timeline and
// every promise broken.
type report struct {
	Seed      uint64 `json:"seed"`
	Transfers int    `json:"transfers"`
	Clients   int    `json:"clients"`
	Users     int    `json:"users"`

	LoadSeconds           float64        `json:"loadSeconds"`
	AcceptedPerSecond     float64        `json:"acceptedPerSecond"`
	Completed             int            `json:"completed"`
	Failed                int            `json:"failed"`
	FailureReasons        string         `json:"failureReasons"`
	Retried               string         `json:"retried"` // answers the clients retried, by kind
	Replayed              int            `json:"replayed"`
	TerminalAfterRecovery float64        `json:"terminalAfterRecoverySeconds"`
	Mails                 int            `json:"mails"`      // promised, and sent
	MailCopies            int            `json:"mailCopies"` // deliveries of a mail already delivered, under its Message-ID
	MailsAfterSMTP        float64        `json:"mailsAfterSMTPRecoverySeconds"`
	MailsAfterTerminal    float64        `json:"mailsAfterAllTerminalSeconds"` // the last mail, from the moment every transaction was terminal
	Funded                string         `json:"funded"`
	DeepestQueues         map[string]int `json:"deepestQueues"`
	Reconcile             string         `json:"reconcile"`
	Timeline              []timed        `json:"timeline"`
	Violations            []string       `json:"violations"`
}

func (rep *report) fill(r *run, l *ledger) {
	rep.AcceptedPerSecond = float64(r.accepted.Load()) / rep.LoadSeconds
	reasons := &counts{}
	for _, tx := range l.byID {
		if tx.Type != "transfer" {
			continue
		}
		switch tx.Status {
		case "completed":
			rep.Completed++
		case "failed":
			rep.Failed++
			reasons.add(tx.FailureReason)
		}
	}
	rep.FailureReasons = reasons.String()
	rep.Retried = r.errs.String()
	rep.Funded = money.FromCents(r.funded).String()
	r.timeline.mu.Lock()
	rep.Timeline = slices.Clone(r.timeline.lines)
	r.timeline.mu.Unlock()
	r.mu.Lock()
	rep.Violations = slices.Clone(r.violations)
	r.mu.Unlock()
}

func (rep *report) print(w io.Writer, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(rep)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "mint chaos --seed %d --transfers %d --clients %d --users %d\n", rep.Seed, rep.Transfers, rep.Clients, rep.Users)
	fmt.Fprintf(&b, "load: %d transfers accepted in %.1f s (%.1f/s): %d completed, %d failed (%s)\n",
		rep.Completed+rep.Failed, rep.LoadSeconds, rep.AcceptedPerSecond, rep.Completed, rep.Failed, rep.FailureReasons)
	fmt.Fprintf(&b, "clients retried: %s; %d keys replayed afterwards\n", rep.Retried, rep.Replayed)
	fmt.Fprintf(&b, "every transaction terminal %.1f s after the last fault's recovery (or the load's end)\n", rep.TerminalAfterRecovery)
	if rep.MailsAfterSMTP < 0 {
		fmt.Fprintf(&b, "mails: %d promised, not all of them in Mailpit in time; %d delivered again under the same Message-ID\n", rep.Mails, rep.MailCopies)
	} else {
		fmt.Fprintf(&b, "mails: %d promised, each in Mailpit under its Message-ID, the last %.1f s after SMTP came back (%+.1f s from every transaction terminal); %d delivered again under the same Message-ID\n",
			rep.Mails, rep.MailsAfterSMTP, rep.MailsAfterTerminal, rep.MailCopies)
	}
	fmt.Fprintf(&b, "money: Σ top-ups %s; %s\n", rep.Funded, rep.Reconcile)
	b.WriteString("deepest queues (ready, retry included):")
	for _, q := range slices.Sorted(maps.Keys(rep.DeepestQueues)) {
		fmt.Fprintf(&b, " %s %d,", q, rep.DeepestQueues[q])
	}
	b.WriteString("\ntimeline (seconds from the load's start):\n")
	for _, t := range rep.Timeline {
		fmt.Fprintf(&b, "  %8.1f  %s\n", t.At, t.What)
	}
	if len(rep.Violations) == 0 {
		b.WriteString("every check passed\n")
	} else {
		fmt.Fprintf(&b, "%d promises broken:\n", len(rep.Violations))
		for _, v := range rep.Violations {
			fmt.Fprintf(&b, "  - %s\n", v)
		}
		fmt.Fprintf(&b, "replay with: mint chaos --seed %d --transfers %d --clients %d --users %d\n", rep.Seed, rep.Transfers, rep.Clients, rep.Users)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func centsString(c int64) string { return money.FromCents(c).String() }
