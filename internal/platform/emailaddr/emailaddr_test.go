package emailaddr_test

import (
	"strings"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/emailaddr"
)

func TestValid(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"ada@example.com", true},
		{"Ada.Lovelace@Example.COM", true},
		{"jürgen@bücher.de", true},
		{"a@b.co", true},
		{strings.Repeat("a", 64) + "@example.com", true},
		{strings.Repeat("a", 65) + "@example.com", false}, // local part over 64 bytes
		{"a@" + strings.Repeat("b", 63) + ".com", true},
		{"a@" + strings.Repeat("b", 64) + ".com", false},                      // a label over 63 bytes
		{"a@" + strings.Repeat(strings.Repeat("b", 60)+".", 5) + "co", false}, // over 254 bytes in all
		{"not-an-email", false},
		{"", false},
		{" ada@example.com", false}, // as written: surrounding space is not part of an address
		{"Ada <ada@example.com>", false},
		{"\"ada\"@example.com", false},
		{"ada@localhost", false},
		{"e@[127.0.0.1]", false},
		{"e@127.0.0.1", false},
		{"e@-example.com", false},
		{"e@example-.com", false},
		{"e@exa_mple.com", false},
		{"ada\u202e@example.com", false}, // an invisible formatting character
	}
	for _, tt := range tests {
		if got := emailaddr.Valid(tt.addr); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}
