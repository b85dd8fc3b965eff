package freetext_test

import (
	"strings"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/freetext"
)

func TestProblem(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"plain", "Lunch with Ada", true},
		{"empty", "", true},
		{"accents", "Crème brûlée für Zoë", true},
		{"combining mark", "Cre\u0300me", true},
		{"cyrillic", "Обед", true},
		{"arabic", "غداء", true},
		{"cjk", "午餐", true},
		{"devanagari with joiner", "क्\u200dष", true},
		{"persian non-joiner", "می\u200cخواهم", true},
		{"emoji", "🍕 pizza", true},
		{"emoji zwj sequence", "👩\u200d💻", true},
		{"emoji variation selector", "❤\ufe0f", true},
		{"no-break space", "10\u00a0000", true},
		{"punctuation", `"quoted" & <tags> 100% $5`, true},

		{"NUL", "a\x00b", false},
		{"CR", "a\rb", false},
		{"LF", "line\nbreak", false},
		{"tab", "a\tb", false},
		{"escape", "\x1b[31mred", false},
		{"DEL", "a\x7fb", false},
		{"C1 control", "a\u0085b", false},
		{"right-to-left override", "invoice\u202egnp.exe", false},
		{"left-to-right embedding", "\u202aabc", false},
		{"bidi isolate", "\u2066abc\u2069", false},
		{"right-to-left mark", "abc\u200f", false},
		{"arabic letter mark", "\u061cabc", false},
		{"zero-width space", "pay\u200bpal", false},
		{"word joiner", "a\u2060b", false},
		{"byte-order mark", "\ufeffabc", false},
		{"line separator", "a\u2028b", false},
		{"paragraph separator", "a\u2029b", false},
		{"tag characters", "a\U000E0041\U000E0042", false},
		{"private use", "a\ue000", false},
		{"noncharacter", "a\ufdd0", false},
		{"noncharacter FFFF", "a\uffff", false},
		{"invalid UTF-8", "a\xff\xfe", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := freetext.Problem(tt.in)
			if (got == "") != tt.ok {
				t.Errorf("Problem(%q) = %q, want ok = %v", tt.in, got, tt.ok)
			}
			if !tt.ok && !strings.HasPrefix(got, "must ") {
				t.Errorf("Problem(%q) = %q, want a message that reads after a field name", tt.in, got)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Zoë  ", "Zoë"},
		{"Zoe\u0308", "Zoë"}, // NFD → NFC
		{"Zo\u00eb", "Zoë"},
		{"\u00a0x\u00a0", "x"},
		{"a  b", "a  b"}, // inner spaces are the writer's
	}
	for _, tt := range tests {
		if got := freetext.Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLength(t *testing.T) {
	if n := freetext.Length("Zoë🍕"); n != 4 {
		t.Errorf("Length = %d, want 4", n)
	}
}
