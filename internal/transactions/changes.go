package transactions

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/event"
)

// Live status (GET /api/v1/transactions/stream): every replica listens to the transaction events
// (bus.Listener: a queue of its own, so each hears every change, whichever replica made it) and tells
// the streams open on it of the users a change concerns. An event that carries the whole transaction
// (created, completed, failed) is sent as it is, since it is the transaction as GET /transactions/{id}
// answers it; for one that does not (processing) the stream reads the transaction — after the event,
// so at least in the state it announces.

// MaxStreamsPerUser bounds the status streams one user has open on one process.
const MaxStreamsPerUser = 4

// streamBacklog bounds the changes waiting for one stream; a stream that falls further behind is
// ended, and its client, reconnecting, reads its list again.
const streamBacklog = 64

// changes fans transaction changes out to the streams open on this process.
type changes struct {
	mu      sync.Mutex
	streams map[string]map[*stream]struct{} // user id → open streams
	closed  bool
}

// change is one transaction's change as a stream is told of it: its id and, when the event carries
// all of it, the transaction.
type change struct {
	id string
	tx *Transaction
}

// stream is one open status stream: the changes of the caller's transactions, in order.
type stream struct {
	changes chan change
	done    chan struct{} // closed when the stream must end (too far behind, or the process stops)
	once    sync.Once
}

func (s *stream) end() { s.once.Do(func() { close(s.done) }) }

func newChanges() *changes { return &changes{streams: map[string]map[*stream]struct{}{}} }

// open registers a stream of user's changes and returns it with its close; ok is false when the user
// has MaxStreamsPerUser open already, or the process is stopping.
func (c *changes) open(user string) (s *stream, closeStream func(), ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.streams[user]) >= MaxStreamsPerUser {
		return nil, nil, false
	}
	s = &stream{changes: make(chan change, streamBacklog), done: make(chan struct{})}
	if c.streams[user] == nil {
		c.streams[user] = map[*stream]struct{}{}
	}
	c.streams[user][s] = struct{}{}
	return s, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.streams[user], s)
		if len(c.streams[user]) == 0 {
			delete(c.streams, user)
		}
	}, true
}

// tell hands ch to every stream of users, ending those too far behind to take it.
func (c *changes) tell(ch change, users ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, u := range users {
		for s := range c.streams[u] {
			select {
			case s.changes <- ch:
			default:
				s.end()
			}
		}
	}
}

// closeAll ends every stream and refuses new ones: the process is stopping.
func (c *changes) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, ss := range c.streams {
		for s := range ss {
			s.end()
		}
	}
}

// hear is the listener of the transaction events: it tells the streams of the payer and of the
// recipient (who is told of a transfer only once it completed: visibleTo). An event it cannot
// read is ignored: a stream only announces, and the transaction itself is read from the database.
func (c *changes) hear(_ context.Context, msg bus.Message) {
	var (
		ch               change
		payer, recipient string
	)
	if msg.Type == contract.TransactionProcessing {
		var d contract.TransactionProcessingData
		if _, err := event.Decode(msg, &d); err != nil {
			return
		}
		ch.id, payer, recipient = d.TransactionID, d.UserID, d.RecipientID
	} else {
		var d contract.TransactionData
		if _, err := event.Decode(msg, &d); err != nil {
			return
		}
		t := fromData(d)
		ch, payer, recipient = change{id: d.ID, tx: &t}, d.UserID, d.RecipientID
	}
	users := []string{payer}
	if recipient != "" && recipient != payer && msg.Type == contract.TransactionCompleted {
		users = append(users, recipient) // the only state a recipient may read: visibleTo
	}
	c.tell(ch, users...)
}

// listen hears the transaction events until ctx ends, then ends every stream.
func (c *changes) listen(ctx context.Context, l bus.Listener) error {
	defer c.closeAll()
	return l.Listen(ctx, contract.TransactionEvents, "transaction.*", c.hear)
}

// encodeChange is one server-sent event announcing t.
func encodeChange(t Transaction) ([]byte, error) {
	data, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(data)+32)
	out = append(out, "event: transaction\ndata: "...)
	out = append(out, data...)
	return append(out, "\n\n"...), nil
}
