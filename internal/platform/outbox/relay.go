package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/sync/errgroup"

	"github.com/mint-wallet/mint/internal/platform/backoff"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/mongox"
)

// Options tune a Relay. Zero values take the defaults.
type Options struct {
	// SweepInterval is how often the collection is scanned for events left behind by a crash, a
	// restart or a broker outage. Default 1s.
	SweepInterval time.Duration
	// SweepMinAge leaves out of a sweep the documents marked (SinceField) less than this ago: the
	// relay of the process that wrote them is publishing them right now, and a sweep by another
	// replica would publish them twice. Default 2s.
	SweepMinAge time.Duration
	// SweepLimit caps the documents read per sweep, so one sweep's memory and duration stay bounded
	// after a long outage; the rest come with the next sweeps. Default 500.
	SweepLimit int
	// PublishTimeout bounds one publish (until the broker's confirm). Default 5s.
	PublishTimeout time.Duration
	// MinBackoff and MaxBackoff bound the pause after a failed publish or write, doubled per
	// consecutive failure. Defaults 200ms and 10s.
	MinBackoff, MaxBackoff time.Duration
	// Registerer receives outbox_published_events_total, outbox_publish_errors_total and
	// outbox_pending_events (label collection); nil disables metrics.
	Registerer prometheus.Registerer
}

func (o *Options) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.SweepInterval, time.Second)
	def(&o.SweepMinAge, 2*time.Second)
	def(&o.PublishTimeout, 5*time.Second)
	def(&o.MinBackoff, 200*time.Millisecond)
	def(&o.MaxBackoff, 10*time.Second)
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.SweepLimit <= 0 {
		o.SweepLimit = 500
	}
}

// maxNotified bounds the ids waiting for the relay; past it a sweep picks the rest up.
const maxNotified = 4096

// Relay publishes the outbox events of one collection. Notify and Kick may be called from any
// goroutine; all publishing happens in Run's goroutine, one event at a time, so the events of one
// document go out in order.
type Relay struct {
	coll    *mongo.Collection
	pub     bus.Publisher
	logger  *slog.Logger
	opts    Options
	metrics *metrics

	wake chan struct{}

	mu        sync.Mutex
	notified  map[any]struct{}
	sweepSoon bool

	prepared bool // SinceField indexed and set on older documents; only Run's goroutine uses it
}

// NewRelay builds the relay of coll. Run starts it.
func NewRelay(coll *mongo.Collection, pub bus.Publisher, logger *slog.Logger, opts Options) (*Relay, error) {
	if logger == nil {
		logger = slog.Default()
	}
	opts.setDefaults()
	r := &Relay{
		coll:     coll,
		pub:      pub,
		logger:   logger.With("collection", coll.Name()),
		opts:     opts,
		wake:     make(chan struct{}, 1),
		notified: make(map[any]struct{}),
	}
	if opts.Registerer != nil {
		m, err := newMetrics(opts.Registerer, coll.Name())
		if err != nil {
			return nil, err
		}
		r.metrics = m
	}
	return r, nil
}

// Notifier is what a service tells which documents got pending events (Relay.Notify), so they are
// published now rather than at the relay's next sweep; an interface so that rules can be tested without
// a relay.
type Notifier interface{ Notify(ids ...any) }

// Notify asks the relay to publish the outbox of the documents with these _ids now. Call it after the
// write that added events, so they go out within milliseconds rather than at the next sweep. It never
// blocks. Ids must be comparable values (string, bson.ObjectID, integers), as _ids usually are.
func (r *Relay) Notify(ids ...any) {
	r.mu.Lock()
	for _, id := range ids {
		if len(r.notified) >= maxNotified {
			r.sweepSoon = true
			break
		}
		r.notified[id] = struct{}{}
	}
	r.mu.Unlock()
	r.signal()
}

// Kick asks the relay to sweep the whole collection now. It never blocks.
func (r *Relay) Kick() {
	r.mu.Lock()
	r.sweepSoon = true
	r.mu.Unlock()
	r.signal()
}

func (r *Relay) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// take returns and clears the pending work.
func (r *Relay) take() (ids []any, sweep bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.notified {
		ids = append(ids, id)
	}
	clear(r.notified)
	sweep, r.sweepSoon = r.sweepSoon, false
	return ids, sweep
}

// Run publishes notified documents at once and sweeps the collection every SweepInterval, starting
// with a sweep for what a previous run left behind. After a failure it backs off, keeping the work
// for later. It returns ctx's error when ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	timer := time.NewTimer(0) // first sweep at once
	defer timer.Stop()
	nextSweep := time.Now()
	failures := 0

	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.wake:
		case <-timer.C:
		}
		if failures > 0 && time.Now().Before(nextSweep) {
			// Backing off: keep the work queued, come back when the pause is over.
			resetTimer(timer, time.Until(nextSweep))
			continue
		}

		ids, sweep := r.take()
		sweep = sweep || !time.Now().Before(nextSweep)
		err := r.publishNotified(ctx, ids)
		if err == nil && sweep {
			err = r.sweep(ctx)
			nextSweep = time.Now().Add(r.opts.SweepInterval)
		}

		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			failures++
			pause := r.backoff(failures)
			r.logger.Warn("outbox: publishing failed; backing off", "err", err, "failures", failures, "pause", pause)
			// Retry the notified documents (queued again) and sweep for the rest.
			nextSweep = time.Now().Add(pause)
		default:
			failures = 0
		}
		resetTimer(timer, time.Until(nextSweep))
	}
}

func resetTimer(t *time.Timer, d time.Duration) {
	t.Stop()
	t.Reset(max(d, 0))
}

// backoff doubles per consecutive failure, capped, with jitter so that replicas do not retry in step.
func (r *Relay) backoff(failures int) time.Duration {
	d := backoff.Doubling(r.opts.MinBackoff, r.opts.MaxBackoff, failures)
	return d/2 + rand.N(d/2+1) //nolint:gosec // jitter needs no cryptographic randomness
}

// maxBatch bounds the documents one read of the relay fetches and one write updates.
const maxBatch = 128

// publishers bounds the documents whose events are published at once. A document's events go out one
// after the other, in order; documents do not wait for each other.
const publishers = 8

// publishNotified publishes the outbox of each id, reading and updating the documents in batches. On
// failure the ids not yet done are queued again.
func (r *Relay) publishNotified(ctx context.Context, ids []any) error {
	for start := 0; start < len(ids); start += maxBatch {
		batch := ids[start:min(start+maxBatch, len(ids))]
		docs, err := r.read(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: batch}}}}, len(batch))
		if err == nil {
			err = r.publishDocs(ctx, docs)
		}
		if err != nil {
			r.requeue(ids[start:])
			return err
		}
	}
	return nil
}

func (r *Relay) requeue(ids []any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if len(r.notified) >= maxNotified {
			return // the sweep that follows a failure finds them
		}
		r.notified[id] = struct{}{}
	}
}

// pendingDoc is a document's outbox as stored. The events stay raw so that the removal can name the
// exact stored value (see removal).
type pendingDoc struct {
	ID     bson.RawValue `bson:"_id"`
	Outbox []bson.Raw    `bson:"outbox"`
}

// read returns the outbox of up to limit documents matching filter. The cursor is drained and closed
// before publishing, so a slow broker does not keep a cursor open and a document changed meanwhile is
// not seen twice.
func (r *Relay) read(ctx context.Context, filter bson.D, limit int) ([]pendingDoc, error) {
	cur, err := r.coll.Find(ctx, filter, options.Find().
		SetProjection(bson.D{{Key: Field, Value: 1}}).
		SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("read outbox of %s: %w", r.coll.Name(), err)
	}
	var docs []pendingDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read outbox of %s: %w", r.coll.Name(), err)
	}
	return docs, nil
}

// prepare creates the index of SinceField and marks the documents that owe events without it (written
// before it existed) as of now, so that they are swept SweepMinAge later: one read of the whole
// collection per start, after which sweeps use the index.
func (r *Relay) prepare(ctx context.Context) error {
	if err := mongox.EnsureIndexes(ctx, r.coll, mongo.IndexModel{
		Keys: bson.D{{Key: SinceField, Value: 1}}, Options: options.Index().SetName(SinceField)}); err != nil {
		return fmt.Errorf("outbox index of %s: %w", r.coll.Name(), err)
	}
	unmarked := append(PendingFilter(), bson.E{Key: SinceField, Value: bson.D{{Key: "$exists", Value: false}}})
	if _, err := r.coll.UpdateMany(ctx, unmarked, bson.D{{Key: "$set", Value: bson.D{{Key: SinceField, Value: time.Now().UTC()}}}}); err != nil {
		return fmt.Errorf("mark outboxes of %s: %w", r.coll.Name(), err)
	}
	r.prepared = true
	return nil
}

// sweep publishes the pending events of the documents marked longer than SweepMinAge ago, found
// through the index of SinceField: it costs what there is to publish, not what the collection holds.
func (r *Relay) sweep(ctx context.Context) error {
	if !r.prepared {
		if err := r.prepare(ctx); err != nil {
			return err
		}
	}
	cutoff := time.Now().Add(-r.opts.SweepMinAge)
	docs, err := r.read(ctx, bson.D{{Key: SinceField, Value: bson.D{{Key: "$lt", Value: cutoff}}}}, r.opts.SweepLimit)
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	pending := 0
	for _, d := range docs {
		pending += len(d.Outbox)
	}
	r.metrics.setPending(pending)
	return r.publishDocs(ctx, docs)
}

// publishDocs publishes the events of docs, each document's in order and stopping at its first
// failure, so that a document's events are never reordered; then it removes every confirmed event in
// one write. It returns the first failure, after removing what was confirmed.
func (r *Relay) publishDocs(ctx context.Context, docs []pendingDoc) error {
	results := make([]published, len(docs))
	var g errgroup.Group
	g.SetLimit(publishers)
	for i, d := range docs {
		g.Go(func() error {
			results[i].confirmed, results[i].err = r.publishDoc(ctx, d)
			return nil
		})
	}
	_ = g.Wait()

	// Finish the removal even when shutdown has begun: an event left behind would go out again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.PublishTimeout)
	defer cancel()
	if err := r.remove(rctx, docs, results); err != nil {
		// Published but still stored: they go out again later, which consumers tolerate.
		return err
	}
	errs := make([]error, len(results))
	for i, res := range results {
		errs[i] = res.err
	}
	return errors.Join(errs...)
}

// published is what publishDoc did with one document: the events confirmed, and the failure that
// stopped it (nil when every event is out).
type published struct {
	confirmed []bson.Raw
	err       error
}

// publishDoc publishes d's events in order and returns those the broker confirmed. It stops at the
// first failure: later events of the document wait. An event that cannot be encoded is moved aside.
func (r *Relay) publishDoc(ctx context.Context, d pendingDoc) ([]bson.Raw, error) {
	var confirmed []bson.Raw
	for _, raw := range d.Outbox {
		var ev event.Event
		msg, err := decode(raw, &ev)
		if err != nil {
			r.bury(ctx, d.ID, raw, err)
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, r.opts.PublishTimeout)
		err = r.pub.Publish(pctx, msg)
		cancel()
		if err != nil {
			r.metrics.publishError()
			return confirmed, fmt.Errorf("publish %s %s: %w", ev.Type, ev.ID, err)
		}
		r.metrics.published()
		confirmed = append(confirmed, raw)
	}
	return confirmed, nil
}

// remove pulls each document's confirmed events by their exact stored values, and unmarks the
// documents whose outbox is then empty: one ordered bulk write, one round trip. Pulling by a
// condition such as {id: …} is what MongoDB would allow, but FerretDB v1 silently removes nothing then
// (it only compares whole values); the exact value works on both. The unmarking is guarded by an
// empty outbox, so an event pushed meanwhile keeps its document marked.
func (r *Relay) remove(ctx context.Context, docs []pendingDoc, results []published) error {
	var models []mongo.WriteModel
	for i, d := range docs {
		byID := bson.D{{Key: "_id", Value: d.ID}}
		if len(results[i].confirmed) > 0 {
			models = append(models, mongo.NewUpdateOneModel().SetFilter(byID).
				SetUpdate(bson.D{{Key: "$pullAll", Value: bson.D{{Key: Field, Value: results[i].confirmed}}}}))
		}
		if results[i].err == nil {
			models = append(models, mongo.NewUpdateOneModel().
				SetFilter(append(byID, bson.E{Key: Field + ".0", Value: bson.D{{Key: "$exists", Value: false}}})).
				SetUpdate(bson.D{{Key: "$unset", Value: bson.D{{Key: SinceField, Value: ""}}}}))
		}
	}
	if len(models) == 0 {
		return nil
	}
	if _, err := r.coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(true)); err != nil {
		return fmt.Errorf("remove published events from %s: %w", r.coll.Name(), err)
	}
	return nil
}

func decode(raw bson.Raw, ev *event.Event) (bus.Message, error) {
	if err := bson.Unmarshal(raw, ev); err != nil {
		return bus.Message{}, fmt.Errorf("decode outbox event: %w", err)
	}
	if ev.ID == "" || ev.Exchange == "" || ev.Type == "" {
		return bus.Message{}, errors.New("outbox event without id, exchange or type")
	}
	return ev.Message()
}

// bury moves an event that cannot be encoded to DeadField: retrying cannot fix it, and leaving it
// first in the outbox would block the document's later events forever.
func (r *Relay) bury(ctx context.Context, id bson.RawValue, raw bson.Raw, cause error) {
	r.logger.Error("outbox: event cannot be published; moved to "+DeadField, "docId", id.String(), "err", cause)
	r.metrics.publishError()
	update := bson.D{{Key: "$pull", Value: bson.D{{Key: Field, Value: raw}}}, {Key: "$push", Value: bson.D{{Key: DeadField, Value: raw}}}}
	if _, err := r.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update); err != nil {
		r.logger.Error("outbox: moving an unpublishable event failed", "docId", id.String(), "err", err)
	}
}
