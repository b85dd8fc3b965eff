package rabbitmq_test

import (
	"testing"

	"github.com/mint-wallet/mint/internal/platform/bus/bustest"
	"github.com/mint-wallet/mint/internal/platform/bus/rabbitmq"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

func BenchmarkPublish(b *testing.B) {
	bustest.BenchmarkPublish(b, newBus(b, testenv.IsolatedRabbitURL(b), rabbitmq.Config{}))
}
