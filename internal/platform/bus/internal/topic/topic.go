// Package topic matches AMQP topic routing keys against binding patterns, for the adapters that route
// (the in-process bus) or count (both) what a binding receives.
package topic

import "strings"

// Match reports whether routing key matches an AMQP topic binding pattern: words are separated by dots,
// "*" stands for exactly one word and "#" for zero or more.
func Match(pattern, key string) bool {
	return matchWords(strings.Split(pattern, "."), strings.Split(key, "."))
}

func matchWords(pattern, key []string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case "#":
			// "#" swallows any number of words: try every split point.
			for i := 0; i <= len(key); i++ {
				if matchWords(pattern[1:], key[i:]) {
					return true
				}
			}
			return false
		case "*":
			if len(key) == 0 {
				return false
			}
		default:
			if len(key) == 0 || key[0] != pattern[0] {
				return false
			}
		}
		pattern, key = pattern[1:], key[1:]
	}
	return len(key) == 0
}
