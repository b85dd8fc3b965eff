package cli_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	// Package cli (imported by cli_test.go) links every service, and so every kind they define.
	kinds "github.com/mint-wallet/mint/internal/platform/failure"
)

// TestProblemCodesAreTheContracts: the problem codes the binary can answer with — the platform's kinds
// and each service's own — are exactly the stable codes docs/CONTRACT.md lists, and each has a status.
func TestProblemCodesAreTheContracts(t *testing.T) {
	raw, err := os.ReadFile("../../docs/CONTRACT.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	const marker = "Stable `code`s:"
	start := strings.Index(doc, marker)
	end := strings.Index(doc[max(start, 0):], ". A 500")
	if start < 0 || end < 0 {
		t.Fatal(`CONTRACT.md has no "Stable ` + "`code`" + `s: … . A 500" list`)
	}
	var documented []string
	for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(doc[start+len(marker):start+end], -1) {
		documented = append(documented, m[1])
	}
	var defined []string
	for _, k := range kinds.Kinds() {
		defined = append(defined, string(k))
		if status, title, ok := kinds.Described(k); !ok || status < 400 || title == "" {
			t.Errorf("kind %s: status %d, title %q", k, status, title)
		}
	}
	slices.Sort(documented)
	slices.Sort(defined)
	if !slices.Equal(documented, defined) {
		t.Errorf("CONTRACT.md lists %v\nthe binary defines %v", documented, defined)
	}
}
