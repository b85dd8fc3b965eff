package rabbitmq

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/internal/topic"
)

// QueueDepths returns the messages ready in every queue declared through b — each queue, its retry
// queue and its dead-letter queue — as the broker counts them now (a passive declare per queue).
func (b *Bus) QueueDepths(ctx context.Context) (map[string]int, error) {
	b.mu.Lock()
	queues := b.declared.snapshot().Queues
	b.mu.Unlock()
	names := make([]string, 0, 3*len(queues))
	for _, q := range queues {
		names = append(names, q.Name, bus.RetryQueue(q.Name), bus.DeadLetterQueue(q.Name))
	}
	ready, err := b.readyIn(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("queue depths: %w", err)
	}
	depths := make(map[string]int, len(names))
	for i, name := range names {
		depths[name] = ready[i]
	}
	return depths, nil
}

// Backlog implements bus.BacklogCounter: the messages ready in every queue declared through b whose
// binding matches routingKey on exchange, and in its retry queue, where a failed message waits out its
// back-off. Every service declares the whole topology, so every consumer's queue is counted.
func (b *Bus) Backlog(ctx context.Context, exchange, routingKey string) (int, error) {
	b.mu.Lock()
	queues := b.declared.snapshot().Queues
	b.mu.Unlock()
	var names []string
	seen := map[string]bool{} // a queue bound twice to matching patterns counts once
	for _, q := range queues {
		if q.Exchange == exchange && topic.Match(q.RoutingKey, routingKey) && !seen[q.Name] {
			seen[q.Name] = true
			names = append(names, q.Name, bus.RetryQueue(q.Name))
		}
	}
	if len(names) == 0 {
		return 0, nil
	}
	ready, err := b.readyIn(ctx, names)
	if err != nil {
		return 0, fmt.Errorf("backlog of %s on %s: %w", routingKey, exchange, err)
	}
	n := 0
	for _, r := range ready {
		n += r
	}
	return n, nil
}

// readyIn returns the messages ready in each of names, in order, as the broker counts them now: a
// passive declare each, on a channel of their own (a missing queue closes the channel it is asked
// on). The declares do not heed ctx, so they run aside and readyIn returns when ctx ends; closing the
// channel under a pending call instead could leave its Close waiting for a reply the call consumed.
func (b *Bus) readyIn(ctx context.Context, names []string) ([]int, error) {
	ch, err := b.openChannel(ctx)
	if err != nil {
		return nil, err
	}
	type result struct {
		ready []int
		err   error
	}
	done := make(chan result, 1)
	go func() {
		defer ch.Close()
		ready := make([]int, len(names))
		for i, name := range names {
			st, err := ch.QueueDeclarePassive(name, true, false, false, false, nil)
			if err != nil {
				done <- result{err: fmt.Errorf("queue depth of %s: %w", name, err)}
				return
			}
			ready[i] = st.Messages
		}
		done <- result{ready: ready}
	}()
	select {
	case r := <-done:
		return r.ready, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

var queueMessagesDesc = prometheus.NewDesc("bus_queue_messages",
	"Messages ready in each queue of the broker's topology (retry and dead-letter queues included), read at scrape time.",
	[]string{"queue"}, nil)

// DepthCollector exports QueueDepths as bus_queue_messages{queue} at each scrape, so that a
// dead-letter queue that is not empty, or a backlog, shows in Prometheus. A broker that does not
// answer within timeout exports nothing for that scrape.
func (b *Bus) DepthCollector(timeout time.Duration) prometheus.Collector {
	return depthCollector{b: b, timeout: timeout}
}

type depthCollector struct {
	b       *Bus
	timeout time.Duration
}

func (c depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueMessagesDesc }

func (c depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	depths, err := c.b.QueueDepths(ctx)
	if err != nil {
		c.b.log.Warn("queue depths for metrics", "err", err)
		return
	}
	names := make([]string, 0, len(depths))
	for name := range depths {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		ch <- prometheus.MustNewConstMetric(queueMessagesDesc, prometheus.GaugeValue, float64(depths[name]), name)
	}
}
