package memory_test

import (
	"testing"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/bustest"
	"github.com/mint-wallet/mint/internal/platform/bus/memory"
)

func TestContract(t *testing.T) {
	bustest.Run(t, func(t *testing.T, retry bustest.Retry) bus.Bus {
		b := memory.New(memory.Config{MaxAttempts: bustest.MaxAttempts, RetryBase: retry.Base, RetryMax: retry.Max})
		t.Cleanup(func() { _ = b.Close() })
		return b
	})
}

func BenchmarkPublish(b *testing.B) {
	bb := memory.New(memory.Config{})
	b.Cleanup(func() { _ = bb.Close() })
	bustest.BenchmarkPublish(b, bb)
}
