package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// chaosScale is the size of TestChaos: MINT_E2E_CHAOS="transfers,users,clients", by default the short
// run CI makes (every fault kind, 1,000 transfers); make chaos runs the full 10,000.
func chaosScale(t *testing.T) (transfers, users, clients int) {
	transfers, users, clients = 1000, 50, 16
	if v := os.Getenv("MINT_E2E_CHAOS"); v != "" {
		if _, err := fmt.Sscanf(v, "%d,%d,%d", &transfers, &users, &clients); err != nil {
			t.Fatalf("MINT_E2E_CHAOS=%q: want transfers,users,clients", v)
		}
	}
	return
}

// TestChaos runs mint chaos as a user would: a stack of its own broken by every fault kind under
// load, then every promise checked. A new seed each run (printed, so that a failure replays); the
// report's checks are the test's.
func TestChaos(t *testing.T) {
	for _, name := range []string{"nginx", "mailpit", "redis-server", "rabbitmq-server"} {
		needCommand(t, name)
	}
	transfers, users, clients := chaosScale(t)
	seed := time.Now().UnixNano()%1_000_000 + 1
	dir := tempDir(t)
	cmd := exec.Command(mintBin, "chaos", "--json", "--seed", fmt.Sprint(seed), "--transfers", fmt.Sprint(transfers),
		"--users", fmt.Sprint(users), "--clients", fmt.Sprint(clients), "--dir", dir)
	// mailpit may live in GOPATH/bin, which the stack looks in too; the rest is on PATH.
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+string(filepath.ListSeparator)+filepath.Join(goPath(), "bin"))
	t.Logf("mint chaos --seed %d --transfers %d --users %d --clients %d", seed, transfers, users, clients)
	stdout, err := cmd.Output()
	var rep struct {
		Completed, Failed, Mails, MailCopies int
		TerminalAfterRecoverySeconds         float64
		Timeline                             []struct {
			AtSeconds float64
			What      string
		}
		Violations []string
	}
	if jerr := json.Unmarshal(stdout, &rep); jerr != nil {
		var stderr []byte
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("mint chaos: %v; no report (%v):\n%s\n%s", err, jerr, stdout, stderr)
	}
	for _, e := range rep.Timeline {
		t.Logf("%8.1fs  %s", e.AtSeconds, e.What)
	}
	for _, v := range rep.Violations {
		t.Errorf("broken: %s", v)
	}
	if err != nil && len(rep.Violations) == 0 {
		t.Fatalf("mint chaos: %v", err)
	}
	if rep.Completed+rep.Failed != transfers {
		t.Errorf("%d transfers completed and %d failed, %d sent", rep.Completed, rep.Failed, transfers)
	}
	t.Logf("%d completed, %d failed; all terminal %.1f s after the last recovery; %d mails (%d copies under the same Message-ID)",
		rep.Completed, rep.Failed, rep.TerminalAfterRecoverySeconds, rep.Mails, rep.MailCopies)
}
