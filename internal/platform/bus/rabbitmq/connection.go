package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mint-wallet/mint/internal/platform/bus"
)

// Reconnect back-off: quick first tries (a broker restart takes seconds), capped so an outage is
// noticed within a few seconds of its end.
const (
	reconnectMin = 100 * time.Millisecond
	reconnectMax = 3 * time.Second
)

// dial opens a connection, bounded by ctx.
func (b *Bus) dial(ctx context.Context) (*amqp.Connection, error) {
	cfg := amqp.Config{
		Heartbeat: 10 * time.Second,
		Locale:    "en_US",
		Properties: amqp.Table{
			"connection_name": "mint",
		},
		Dial: func(network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: 10 * time.Second}
			return d.DialContext(ctx, network, addr)
		},
	}
	type result struct {
		conn *amqp.Connection
		err  error
	}
	// The AMQP handshake itself is not context-aware: run it aside and give up when ctx ends.
	res := make(chan result, 1)
	go func() {
		conn, err := amqp.DialConfig(b.url, cfg)
		res <- result{conn, err}
	}()
	select {
	case r := <-res:
		return r.conn, r.err
	case <-ctx.Done():
		go func() {
			if r := <-res; r.conn != nil {
				_ = r.conn.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// supervise watches the live connection and, when it drops, reconnects with back-off and re-declares the
// topology before letting publishers and consumers use the new one. It returns when the bus closes.
func (b *Bus) supervise(conn *amqp.Connection) {
	defer b.supervisor.Done()
	for {
		lost := conn.NotifyClose(make(chan *amqp.Error, 1))
		select {
		case err := <-lost:
			if b.isClosed() {
				return
			}
			b.log.Warn("connection lost; reconnecting", "err", err)
		case <-b.closed:
			return
		}
		b.setDisconnected()
		if conn = b.reconnect(); conn == nil {
			return
		}
	}
}

// reconnect dials until it succeeds, re-declaring the topology on the new connection, or until the bus
// closes (nil).
func (b *Bus) reconnect() *amqp.Connection {
	delay := reconnectMin
	for attempt := 1; ; attempt++ {
		select {
		case <-time.After(delay):
		case <-b.closed:
			return nil
		}
		delay = min(2*delay, reconnectMax)

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		conn, err := b.dial(ctx)
		if err == nil {
			b.mu.Lock()
			topo := b.declared.snapshot()
			b.mu.Unlock()
			if err = declareOn(conn, topo); err != nil {
				_ = conn.Close()
			}
		}
		cancel()
		if err != nil {
			b.log.Warn("reconnect failed", "attempt", attempt, "retry_in", delay, "err", err)
			continue
		}
		if !b.setConnected(conn) {
			_ = conn.Close()
			return nil
		}
		b.log.Info("reconnected", "attempts", attempt)
		return conn
	}
}

// setConnected publishes conn to waiters; false if the bus closed meanwhile.
func (b *Bus) setConnected(conn *amqp.Connection) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.isClosed() {
		return false
	}
	b.conn = conn
	close(b.ready)
	return true
}

func (b *Bus) setDisconnected() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.conn, b.pub = nil, nil
	b.ready = make(chan struct{})
}

// connection returns the live connection, waiting for the supervisor to restore it if need be.
func (b *Bus) connection(ctx context.Context) (*amqp.Connection, error) {
	for {
		b.mu.Lock()
		conn, ready := b.conn, b.ready
		b.mu.Unlock()
		if b.isClosed() {
			return nil, bus.ErrClosed
		}
		if conn != nil && !conn.IsClosed() {
			return conn, nil
		}
		wait := ready
		if conn != nil {
			// Closed, but the supervisor has not noticed yet: look again shortly.
			wait = nil
		}
		select {
		case <-wait:
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return nil, fmt.Errorf("rabbitmq: waiting for the connection: %w", ctx.Err())
		case <-b.closed:
			return nil, bus.ErrClosed
		}
	}
}

// openChannel opens a channel on the live connection, waiting through a reconnect.
func (b *Bus) openChannel(ctx context.Context) (*amqp.Channel, error) {
	for {
		conn, err := b.connection(ctx)
		if err != nil {
			return nil, err
		}
		ch, err := conn.Channel()
		if err == nil {
			return ch, nil
		}
		if !errors.Is(err, amqp.ErrClosed) {
			return nil, fmt.Errorf("rabbitmq: open channel: %w", err)
		}
		// The connection died under us; connection() waits for the next one.
	}
}
