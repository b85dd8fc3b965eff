package topic

import "testing"

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, key string
		want         bool
	}{
		{"user.signup", "user.signup", true},
		{"user.signup", "user.login", false},
		{"user.*", "user.signup", true},
		{"user.*", "user.signup.v2", false},
		{"user.*", "user", false},
		{"*.signup", "user.signup", true},
		{"#", "user.signup", true},
		{"#", "", true},
		{"user.#", "user", true},
		{"user.#", "user.a.b.c", true},
		{"#.signup", "a.b.signup", true},
		{"#.signup", "a.b.login", false},
		{"a.#.z", "a.z", true},
		{"a.#.z", "a.b.c.z", true},
		{"a.#.z", "a.b.c.y", false},
		{"a.*.#", "a", false},
		{"a.*.#", "a.b", true},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.key); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.key, got, tt.want)
		}
	}
}
