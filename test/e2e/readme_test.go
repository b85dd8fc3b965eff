package e2e

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// TestReadmeSession runs the README's first curl session as it stands, with bash, curl and jq,
// against a fresh mint dev, and checks what it prints: a newcomer who pastes it gets the same.
func TestReadmeSession(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if testenv.CI() {
				t.Fatalf("%s is not installed and CI=true", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	script := readmeSession(t)
	p := startDev(t, tempDir(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Env = append(os.Environ(), "B="+p.base)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README session failed: %v\n%s", err, out)
	}
	t.Logf("README session:\n%s", out)
	for _, want := range []string{
		`{"firstName":"Ada","lastName":"Lovelace"}`,
		`{"type":"transfer","amount":10.05,"status":"completed"}`,
		`{"type":"topup","amount":25.1,"status":"completed"}`,
		`{"balance":15.05,"currency":"USD"}`,
		`{"type":"transfer_out","amount":-10.05,"balanceAfter":15.05}`,
		"204\n401\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the README session did not print %s", want)
		}
	}
}

// readmeSession returns the first sh block after "A first session with curl" in README.md.
func readmeSession(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "A first session with curl")
	if ok {
		_, rest, ok = strings.Cut(rest, "```sh\n")
	}
	block, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatal("README.md has no sh block after \"A first session with curl\"")
	}
	return block
}
