package chaos

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mint-wallet/mint/internal/platform/loopclient"
	"github.com/mint-wallet/mint/internal/platform/money"
)

// client is one simulated device, with its own loopback source address (loopclient), so that the
// gateway's per-client rate limit applies to it alone, as it would to a user on a phone. Its status
// streams leave from the same address, on a client without a timeout.
type client struct {
	http, streams *http.Client
}

func newClient(i int) *client {
	return &client{http: loopclient.New(i, loopclient.WithTimeout(15*time.Second)), streams: loopclient.New(i, loopclient.WithTimeout(0))}
}

// answer is one HTTP exchange: the status and problem code, or err when there was no answer.
type answer struct {
	status     int
	code       string // the problem's code, for errors
	retryAfter time.Duration
	body       []byte
	err        error // no answer: connection refused or reset, timeout
	retries    int   // retryable answers before this one (see client.retry)
}

// kind names the answer for the error counts of the report.
func (a answer) kind() string {
	switch {
	case a.err != nil:
		var ne net.Error
		if errors.As(a.err, &ne) && ne.Timeout() {
			return "timeout"
		}
		return "no answer"
	case a.code != "":
		return fmt.Sprintf("%d %s", a.status, a.code)
	default:
		return strconv.Itoa(a.status)
	}
}

// retryable is what a client of a payments API sends again, with the same idempotency key: no
// answer, a server error, a rate limit, or the same key still in flight.
func (a answer) retryable() bool {
	return a.err != nil || a.status >= 500 || a.status == http.StatusTooManyRequests ||
		(a.status == http.StatusConflict && a.code == "idempotency_in_progress")
}

// do sends one request with a JSON body (nil: none) and the bearer token, and reads the answer.
func (c *client) do(ctx context.Context, method, url, token string, body any, header map[string]string) answer {
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return answer{err: err}
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return answer{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{err: err}
	}
	a := answer{status: res.StatusCode, body: raw}
	if res.StatusCode >= 400 {
		var p struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(raw, &p)
		a.code = p.Code
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
			a.retryAfter = time.Duration(s) * time.Second
		}
	}
	return a
}

// retry sends a request until it gets an answer that is not retryable, waiting between attempts as a
// client would (the server's Retry-After, else a doubling pause up to 2 s), and counts each retried
// answer in errs. It gives up when ctx ends.
func (c *client) retry(ctx context.Context, errs *counts, send func() answer) answer {
	pause := 100 * time.Millisecond
	for retries := 0; ; retries++ {
		a := send()
		a.retries = retries
		if !a.retryable() {
			return a
		}
		errs.add(a.kind())
		wait := pause
		if a.retryAfter > 0 {
			wait = a.retryAfter
		}
		if err := sleep(ctx, wait); err != nil {
			return answer{err: fmt.Errorf("gave up after %s: %w", a.kind(), err), retries: retries}
		}
		pause = min(2*pause, 2*time.Second)
	}
}

// account is a user of the run.
type account struct {
	id, token, email string
}

// txView is what the harness reads of a transaction.
type txView struct {
	ID            string       `json:"id"`
	Type          string       `json:"type"`
	UserID        string       `json:"userId"`
	RecipientID   string       `json:"recipientId"`
	Status        string       `json:"status"`
	FailureReason string       `json:"failureReason"`
	Amount        money.Amount `json:"amount"`
}

func terminal(status string) bool { return status == "completed" || status == "failed" }

// stream follows one account's status stream and hands every terminal state it announces to
// outcomes, reconnecting whenever the stream ends (a transactions replica killed, the gateway
// restarting the connection), until ctx ends. What is announced while it reconnects is missed: the
// client waiting for it then asks (see transfers.settle).
func (c *client) stream(ctx context.Context, base string, a account, out *outcomes) {
	for ctx.Err() == nil {
		c.followStream(ctx, base, a, out)
		_ = sleep(ctx, 500*time.Millisecond)
	}
}

func (c *client) followStream(ctx context.Context, base string, a account, out *outcomes) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/transactions/stream", nil)
	if err != nil {
		return
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Accept", "text/event-stream")
	res, err := c.streams.Do(req) // no timeout: the stream lasts as long as the server keeps it
	if err != nil {
		return
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return
	}
	lines := bufio.NewScanner(res.Body)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	for lines.Scan() {
		data, ok := strings.CutPrefix(lines.Text(), "data: ")
		if !ok {
			continue
		}
		var tx txView
		if json.Unmarshal([]byte(data), &tx) == nil && terminal(tx.Status) {
			out.deliver(tx.ID, tx.Status)
		}
	}
}
