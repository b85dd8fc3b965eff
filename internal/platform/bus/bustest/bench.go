package bustest

import (
	"context"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/bus"
)

// BenchmarkPublish measures confirmed publishes — Publish returns once the message is safe — from one
// goroutine (Serial) and from GOMAXPROCS×4 goroutines (Parallel), into one queue nobody consumes. The
// caller owns bb; the benchmark leaves its queue and exchange behind (names start with "bustest."),
// so on a real broker it runs in a virtual host of its own.
func BenchmarkPublish(b *testing.B, bb bus.Bus) {
	exchange := "bustest." + randomID() + ".events"
	topo := bus.Topology{
		Exchanges: []string{exchange},
		Queues:    []bus.Queue{{Name: "bustest." + randomID() + ".bench", Exchange: exchange, RoutingKey: "bench.published"}},
	}
	if err := bb.Declare(context.Background(), topo); err != nil {
		b.Fatalf("Declare: %v", err)
	}
	body := []byte(`{"id":"00000000-0000-0000-0000-000000000000","type":"bench.published","data":{"amount":"10.00"}}`)
	msg := bus.Message{Exchange: exchange, Type: "bench.published", Headers: map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, Body: body}

	b.Run("Serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := bb.Publish(context.Background(), msg); err != nil {
				b.Fatalf("Publish: %v", err)
			}
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := bb.Publish(context.Background(), msg); err != nil {
					b.Errorf("Publish: %v", err)
					return
				}
			}
		})
	})
}
