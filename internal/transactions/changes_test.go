package transactions

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// openStream opens u's status stream and returns the transactions it announces; the stream closes
// with the test.
func (h *harness) openStream(u user) <-chan Transaction {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.client.URL+"/api/v1/transactions/stream", nil)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+u.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		h.t.Fatalf("stream: %d %v", res.StatusCode, res.Header)
	}
	out := make(chan Transaction, 256)
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "transaction":
				var t Transaction
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &t) == nil {
					out <- t
				}
			case line == "":
				event = ""
			}
		}
	}()
	return out
}

// announced reads stream until it announces transaction id in status, and returns the statuses it
// announced for id on the way.
func announced(t *testing.T, stream <-chan Transaction, id, status string) []string {
	t.Helper()
	var seen []string
	deadline := time.After(30 * time.Second)
	for {
		select {
		case tx := <-stream:
			if tx.ID != id {
				continue
			}
			seen = append(seen, tx.Status)
			if tx.Status == status {
				return seen
			}
		case <-deadline:
			t.Fatalf("transaction %s: the stream announced %v, never %s", id, seen, status)
		}
	}
}

// TestStatusStream: a user's stream announces each change of their transactions as it happens — a
// top-up to completed, a transfer to its sender and its recipient — and nothing of others'; a stream
// more than MaxStreamsPerUser is refused.
func TestStatusStream(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ann, bob, eve := h.newUser(), h.newUser(), h.newUser()
	annStream, bobStream, eveStream := h.openStream(ann), h.openStream(bob), h.openStream(eve)

	// The service listens from its start, asynchronously: top-ups until one is announced show that it
	// does (an earlier one may have been published before it listened).
	eves := map[string]bool{}
	for deadline := time.Now().Add(15 * time.Second); ; {
		warm := h.topup(eve, "1.00")
		eves[warm.ID] = true
		h.waitStatus(eve, warm.ID, "completed")
		select {
		case <-eveStream:
		case <-time.After(time.Second):
			if time.Now().Before(deadline) {
				continue
			}
			t.Fatal("the stream announced no change within 15 s")
		}
		break
	}

	top := h.topup(ann, "25.10")
	if seen := announced(t, annStream, top.ID, "completed"); len(seen) == 0 || seen[len(seen)-1] != "completed" {
		t.Errorf("top-up announced %v", seen)
	}
	tr := h.transfer(ann, bob, "10.05")
	announced(t, annStream, tr.ID, "completed")
	// The recipient hears of the transfer once, when the money is there.
	if got := announced(t, bobStream, tr.ID, "completed"); !slices.Equal(got, []string{"completed"}) {
		t.Errorf("the recipient was told %v, want [completed]", got)
	}
	for len(eveStream) > 0 {
		if tx := <-eveStream; !eves[tx.ID] {
			t.Errorf("eve was told of %s, not hers", tx.ID)
		}
	}

	for range MaxStreamsPerUser - 1 {
		h.openStream(ann)
	}
	res := h.do("GET", "/api/v1/transactions/stream", nil, ann)
	expectProblem(t, res, http.StatusTooManyRequests, "rate_limited", "")
	if res.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

// TestChangesFanOut: a change reaches the streams of the users it concerns and no others; a stream
// too far behind is ended; at most MaxStreamsPerUser are open per user; closeAll ends them all.
func TestChangesFanOut(t *testing.T) {
	c := newChanges()
	ann, closeAnn, _ := c.open("ann")
	bob, _, _ := c.open("bob")
	c.tell(change{id: "tx1"}, "ann")
	c.tell(change{id: "tx2"}, "ann", "bob")
	if got := []string{(<-ann.changes).id, (<-ann.changes).id, (<-bob.changes).id}; got[0] != "tx1" || got[1] != "tx2" || got[2] != "tx2" {
		t.Errorf("announced %v, want ann tx1 tx2, bob tx2", got)
	}
	if len(bob.changes) != 0 {
		t.Error("bob was told of ann's transaction")
	}
	for range streamBacklog + 1 {
		c.tell(change{id: "tx"}, "bob")
	}
	select {
	case <-bob.done:
	default:
		t.Error("a stream too far behind was not ended")
	}
	for i := 1; i < MaxStreamsPerUser; i++ {
		if _, _, ok := c.open("ann"); !ok {
			t.Fatalf("stream %d of ann refused", i+1)
		}
	}
	if _, _, ok := c.open("ann"); ok {
		t.Errorf("stream %d of ann opened, want at most %d", MaxStreamsPerUser+1, MaxStreamsPerUser)
	}
	closeAnn()
	again, _, ok := c.open("ann")
	if !ok {
		t.Fatal("a closed stream still counts")
	}
	c.closeAll()
	select {
	case <-again.done:
	default:
		t.Error("closeAll left a stream open")
	}
	if _, _, ok := c.open("eve"); ok {
		t.Error("a stream opened after closeAll")
	}
}
