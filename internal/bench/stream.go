package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// outcomes hands the terminal state of each transfer, as the payers' status streams announce it, to
// the client waiting for it (--wait stream): the settle time as a client of the stream sees it, with
// no status reads.
type outcomes struct {
	mu      sync.Mutex
	waiting map[string]chan string // transaction id → where its terminal status goes
	ended   map[string]string      // terminal before its client asked (the POST's answer came later)
}

func newOutcomes() *outcomes {
	return &outcomes{waiting: map[string]chan string{}, ended: map[string]string{}}
}

func (w *outcomes) deliver(id, status string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.waiting[id]; ok {
		delete(w.waiting, id)
		ch <- status
		return
	}
	w.ended[id] = status
}

// await returns the terminal status of transaction id, or an error at deadline.
func (w *outcomes) await(id string, deadline time.Time) (string, error) {
	w.mu.Lock()
	if status, ok := w.ended[id]; ok {
		delete(w.ended, id)
		w.mu.Unlock()
		return status, nil
	}
	ch := make(chan string, 1)
	w.waiting[id] = ch
	w.mu.Unlock()
	select {
	case status := <-ch:
		return status, nil
	case <-time.After(time.Until(deadline)):
		w.mu.Lock()
		delete(w.waiting, id)
		w.mu.Unlock()
		return "", fmt.Errorf("transfer %s: no terminal state announced by %s", id, deadline.Format(time.TimeOnly))
	}
}

// listen opens the status stream of the account with token at base, through hc's connections (the
// payer's device), and delivers every terminal state it announces until ctx ends. It returns once the
// stream is open, so that nothing sent after it is missed.
func (w *outcomes) listen(ctx context.Context, hc *http.Client, base, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/transactions/stream", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	// hc's transport without its timeout: the stream lasts the run.
	res, err := (&http.Client{Transport: hc.Transport}).Do(req) //nolint:bodyclose // closed below, or by the reader when the stream ends
	if err != nil {
		return fmt.Errorf("status stream: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		_ = res.Body.Close()
		return fmt.Errorf("status stream: %s", res.Status)
	}
	go func() {
		defer func() { _ = res.Body.Close() }()
		lines := bufio.NewScanner(res.Body)
		lines.Buffer(make([]byte, 64<<10), 1<<20)
		for lines.Scan() {
			data, ok := strings.CutPrefix(lines.Text(), "data: ")
			if !ok {
				continue
			}
			var tx txView
			if json.Unmarshal([]byte(data), &tx) == nil && (tx.Status == "completed" || tx.Status == "failed") {
				w.deliver(tx.ID, tx.Status)
			}
		}
	}()
	return nil
}
