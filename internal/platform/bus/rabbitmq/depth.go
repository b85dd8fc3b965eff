package rabbitmq

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mint-wallet/mint/internal/platform/bus"
)

// QueueDepths returns the messages ready in every queue declared through b — each queue, its retry
// queue and its dead-letter queue — as the broker counts them now (a passive declare per queue).
func (b *Bus) QueueDepths(ctx context.Context) (map[string]int, error) {
	ch, err := b.openChannel(ctx)
	if err != nil {
		return nil, fmt.Errorf("queue depths: %w", err)
	}
	defer ch.Close()
	b.mu.Lock()
	queues := b.declared.snapshot().Queues
	b.mu.Unlock()
	depths := make(map[string]int, 3*len(queues))
	for _, q := range queues {
		for _, name := range []string{q.Name, bus.RetryQueue(q.Name), bus.DeadLetterQueue(q.Name)} {
			st, err := ch.QueueDeclarePassive(name, true, false, false, false, nil)
			if err != nil {
				return nil, fmt.Errorf("queue depth of %s: %w", name, err)
			}
			depths[name] = st.Messages
		}
	}
	return depths, nil
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
