package testenv

import (
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// TestOwnRabbit: a test's own node serves AMQP, keeps its durable queues across Stop and Start, and is
// not the node IsolatedRabbitURL manages vhosts on.
func TestOwnRabbit(t *testing.T) {
	r := OwnRabbit(t)

	t.Run("StopStart", func(t *testing.T) {
		conn, err := amqp.Dial(r.URL())
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		ch, err := conn.Channel()
		if err != nil {
			t.Fatalf("channel: %v", err)
		}
		if _, err := ch.QueueDeclare("kept", true, false, false, false, nil); err != nil {
			t.Fatalf("declare: %v", err)
		}
		_ = conn.Close()

		r.Stop(t)
		if conn, err := amqp.Dial(r.URL()); err == nil {
			_ = conn.Close()
			t.Fatal("the stopped node accepted a connection")
		}
		r.Start(t)
		conn, err = amqp.Dial(r.URL())
		if err != nil {
			t.Fatalf("connect after Start: %v", err)
		}
		defer conn.Close()
		if ch, err = conn.Channel(); err != nil {
			t.Fatalf("channel after Start: %v", err)
		}
		if _, err := ch.QueueDeclarePassive("kept", true, false, false, false, nil); err != nil {
			t.Fatalf("the durable queue did not survive Stop and Start: %v", err)
		}
	})

	// A vhost created through rabbitmqctl on another node than the URL's is refused with a message
	// that says what to set, instead of an AMQP error in the middle of the test.
	t.Run("VhostOnAnotherNode", func(t *testing.T) {
		rabbitURL(t) // the vhost is created on the shared broker
		_, err := isolatedVhost(t, r.URL())
		if err == nil || !strings.Contains(err.Error(), "MINT_TEST_RABBITMQ_NODE") {
			t.Fatalf("isolatedVhost on the own node's URL = %v, want an error naming MINT_TEST_RABBITMQ_NODE", err)
		}
	})
}
