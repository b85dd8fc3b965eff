package objectid_test

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/platform/objectid"
)

func TestValid(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{bson.NewObjectID().Hex(), true},
		{"0123456789abcdef01234567", true},
		{"0123456789ABCDEF01234567", false}, // the same id spelled otherwise
		{"0123456789abcdef0123456", false},
		{"0123456789abcdef012345678", false},
		{"0123456789abcdeg01234567", false},
		{"", false},
		{"0123456789abcdef0123456\u00e9", false},
	}
	for _, tt := range tests {
		if got := objectid.Valid(tt.s); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}
