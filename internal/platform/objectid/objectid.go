// Package objectid tells an object id in its text form: the 24 lower-case hex digits that
// bson.ObjectID.Hex writes. Ids travel as text in URLs, JSON and events, and are compared as text, so
// one id has one spelling: upper case is refused, not folded.
package objectid

// Valid reports whether s is an object id in its text form.
func Valid(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
