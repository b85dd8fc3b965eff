package mongox

import (
	"context"
	"fmt"
	"sync"

	"github.com/mint-wallet/mint/internal/platform/observe"
	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
)

// maxCollections bounds the collection label: collections are named in code, so reaching it means
// something generates names (tests, a bug) and the rest are folded into "other".
const maxCollections = 64

// monitoredOps are the data commands worth timing, with the field that names their collection.
// Handshakes, pings, buildInfo, endSessions, auth and other admin commands are left out.
var monitoredOps = map[string]string{
	"find":          "find",
	"getMore":       "collection",
	"insert":        "insert",
	"update":        "update",
	"delete":        "delete",
	"findAndModify": "findAndModify",
	"aggregate":     "aggregate",
	"count":         "count",
	"distinct":      "distinct",
	"createIndexes": "createIndexes",
	"listIndexes":   "listIndexes",
	"dropIndexes":   "dropIndexes",
	"create":        "create",
	"drop":          "drop",
}

// metrics times commands through the driver's CommandMonitor. The finished events do not carry the
// command, so the collection seen at start is kept by request until the command ends.
type metrics struct {
	duration *prometheus.HistogramVec

	inflight sync.Map // requestKey -> collection label

	mu          sync.Mutex
	collections map[string]struct{}
}

type requestKey struct {
	conn string
	id   int64
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "db_query_duration_seconds",
		Help:    "Duration of MongoDB commands by operation and collection.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"operation", "collection"})
	// A second Client in the same process (tests, or a reopen) shares the first one's series.
	h, err := observe.Register(reg, h)
	if err != nil {
		return nil, fmt.Errorf("db metrics: %w", err)
	}
	return &metrics{duration: h, collections: make(map[string]struct{})}, nil
}

func (m *metrics) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Started: m.started,
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			m.finished(&e.CommandFinishedEvent)
		},
		Failed: func(_ context.Context, e *event.CommandFailedEvent) {
			m.finished(&e.CommandFinishedEvent)
		},
	}
}

func (m *metrics) started(_ context.Context, e *event.CommandStartedEvent) {
	field, ok := monitoredOps[e.CommandName]
	if !ok {
		return
	}
	m.inflight.Store(requestKey{e.ConnectionID, e.RequestID}, m.collectionLabel(e.Command, field))
}

func (m *metrics) finished(e *event.CommandFinishedEvent) {
	coll, ok := m.inflight.LoadAndDelete(requestKey{e.ConnectionID, e.RequestID})
	if !ok {
		return
	}
	m.duration.WithLabelValues(e.CommandName, coll.(string)).Observe(e.Duration.Seconds())
}

// collectionLabel reads the collection named by cmd[field]. A database-level aggregate has the
// number 1 there instead of a name.
func (m *metrics) collectionLabel(cmd bson.Raw, field string) string {
	v, err := cmd.LookupErr(field)
	if err != nil {
		return "none"
	}
	name, ok := v.StringValueOK()
	if !ok {
		if _, isInt := v.AsInt64OK(); isInt {
			return "none"
		}
		return "unknown"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, seen := m.collections[name]; seen {
		return name
	}
	if len(m.collections) >= maxCollections {
		return "other"
	}
	m.collections[name] = struct{}{}
	return name
}
