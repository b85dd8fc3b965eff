package localserver_test

import (
	"context"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mint-wallet/mint/internal/platform/localserver"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// TestRabbit: a node of its own keeps a durable quorum queue and the persistent messages it confirmed
// across a full restart (the Erlang VM exits and boots again on the same port) and across a stop and
// start of the application; once closed, it refuses connections.
func TestRabbit(t *testing.T) {
	testenv.Integration(t)
	began := time.Now()
	r, err := localserver.StartRabbit(t.Context(), t.TempDir(), localserver.WithLogf(t.Logf))
	mustStart(t, err)
	t.Logf("node %s on %s booted in %v", r.Node(), r.Addr(), time.Since(began).Round(100*time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("end of the node's log:\n%s", r.LogTail())
		}
		if err := r.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	const queue = "kept"
	bodies := []string{"message 1", "message 2", "message 3"}

	t.Run("RestartKeepsConfirmedMessages", func(t *testing.T) {
		conn, ch := connect(t, r.URL())
		if _, err := ch.QueueDeclare(queue, true, false, false, false, amqp.Table{"x-queue-type": "quorum"}); err != nil {
			t.Fatalf("declare a quorum queue: %v", err)
		}
		if err := ch.Confirm(false); err != nil {
			t.Fatalf("confirm mode: %v", err)
		}
		confirms := ch.NotifyPublish(make(chan amqp.Confirmation, len(bodies)))
		for _, b := range bodies {
			msg := amqp.Publishing{DeliveryMode: amqp.Persistent, ContentType: "text/plain", Body: []byte(b)}
			if err := ch.PublishWithContext(t.Context(), "", queue, true, false, msg); err != nil {
				t.Fatalf("publish: %v", err)
			}
		}
		for range bodies {
			select {
			case c := <-confirms:
				if !c.Ack {
					t.Fatalf("publish %d was nacked", c.DeliveryTag)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no publisher confirm within 30 s")
			}
		}
		dropped := conn.NotifyClose(make(chan *amqp.Error, 1))

		began := time.Now()
		if err := r.Restart(t.Context()); err != nil {
			t.Fatalf("Restart: %v", err)
		}
		t.Logf("restarted in %v", time.Since(began).Round(100*time.Millisecond))
		select {
		case err := <-dropped:
			t.Logf("the restart dropped the connection made before it: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("a connection made before the restart is still open: the node did not stop")
		}

		_, ch = connect(t, r.URL())
		for _, want := range bodies {
			msg, ok, err := ch.Get(queue, false)
			if err != nil || !ok {
				t.Fatalf("get %q after the restart: ok=%v, %v", want, ok, err)
			}
			if string(msg.Body) != want {
				t.Fatalf("got %q after the restart, want %q", msg.Body, want)
			}
			if err := msg.Ack(false); err != nil {
				t.Fatalf("ack: %v", err)
			}
		}
		if msg, ok, err := ch.Get(queue, false); err != nil || ok {
			t.Fatalf("a 4th message after the restart: %q, ok=%v, %v", msg.Body, ok, err)
		}
	})

	t.Run("StopAppStartApp", func(t *testing.T) {
		if err := r.StopApp(t.Context()); err != nil {
			t.Fatalf("StopApp: %v", err)
		}
		refused(t, r.Addr(), "after StopApp")
		if err := r.StartApp(t.Context()); err != nil {
			t.Fatalf("StartApp: %v", err)
		}
		_, ch := connect(t, r.URL())
		if _, err := ch.QueueDeclarePassive(queue, true, false, false, false, amqp.Table{"x-queue-type": "quorum"}); err != nil {
			t.Fatalf("the durable queue did not survive StopApp and StartApp: %v", err)
		}
	})

	t.Run("Close", func(t *testing.T) {
		if err := r.Close(t.Context()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		refused(t, r.Addr(), "after Close")
		if err := r.Close(t.Context()); err != nil {
			t.Errorf("a second Close: %v", err)
		}
		if err := r.Restart(t.Context()); err == nil {
			t.Error("Restart after Close succeeded")
		}
	})
}

func connect(t *testing.T, url string) (*amqp.Connection, *amqp.Channel) {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatalf("channel: %v", err)
	}
	return conn, ch
}
