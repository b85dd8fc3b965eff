package password

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// fast keeps unit tests quick; the format and logic are the same at any cost.
var fast = Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func TestHashVerify(t *testing.T) {
	h, err := NewHasher(fast, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string with our params", enc)
	}
	other, _ := h.Hash(ctx, "correct horse battery staple")
	if other == enc {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"right password", "correct horse battery staple", true},
		{"wrong password", "correct horse battery stapler", false},
		{"empty", "", false},
		{"case differs", "Correct horse battery staple", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.Verify(ctx, tt.password, enc)
			if err != nil || got != tt.want {
				t.Fatalf("Verify = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestVerifyUsesStoredParams(t *testing.T) {
	old, _ := NewHasher(fast, 1)
	enc, _ := old.Hash(context.Background(), "pw-12345678")
	stronger, _ := NewHasher(Params{MemoryKiB: 128, Iterations: 2, Parallelism: 1}, 1)
	if ok, err := stronger.Verify(context.Background(), "pw-12345678", enc); err != nil || !ok {
		t.Fatalf("a hash made with older params must still verify: %v %v", ok, err)
	}
}

func TestMalformedHashes(t *testing.T) {
	h, _ := NewHasher(fast, 1)
	for _, enc := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$c2hvcnQ",
	} {
		if _, err := h.Verify(context.Background(), "x", enc); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) err = %v, want ErrMalformedHash", enc, err)
		}
	}
}

func TestRejectsWeakParams(t *testing.T) {
	if _, err := NewHasher(Params{MemoryKiB: 64, Iterations: 0, Parallelism: 1}, 1); err == nil {
		t.Fatal("zero iterations accepted")
	}
}

func TestWaitRespectsContext(t *testing.T) {
	h, _ := NewHasher(fast, 1)
	h.slots <- struct{}{} // the only slot is busy
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// BenchmarkVerify is raw argon2id verify throughput with the default (production) params; the login
// benchmark in internal/auth is compared against it.
func BenchmarkVerify(b *testing.B) {
	h, err := NewHasher(DefaultParams, 0)
	if err != nil {
		b.Fatal(err)
	}
	enc, _ := h.Hash(context.Background(), "benchmark-password")
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, err := h.Verify(context.Background(), "benchmark-password", enc); !ok || err != nil {
				b.Fatal("verify failed")
			}
		}
	})
}
