package bench

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/mint-wallet/mint/internal/platform/loopclient"
)

// devices hands each simulated client the HTTP client it sends from. With --spread device i has a
// loopback address of its own (loopclient), so that a gateway's per-client rate limit holds each
// client alone, as it holds each of many users; without, every client shares one HTTP client and
// the address the system picks, and a gateway sees a single client.
type devices struct {
	spread bool
	shared *http.Client // without --spread, and for setup that is a single user's

	mu  sync.Mutex
	own []*http.Client // by device, made at first use
}

func newDevices(spread bool, clients int) *devices {
	return &devices{spread: spread, shared: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients, IdleConnTimeout: time.Minute}}}
}

// of is the HTTP client of device i.
func (d *devices) of(i int) *http.Client {
	if !d.spread {
		return d.shared
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if i >= len(d.own) {
		d.own = append(d.own, make([]*http.Client, i+1-len(d.own))...)
	}
	if d.own[i] == nil {
		d.own[i] = loopclient.New(i)
	}
	return d.own[i]
}

// close closes every idle connection, so that the run leaves none behind; a stream ends with its
// context.
func (d *devices) close() {
	d.shared.CloseIdleConnections()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.own {
		if c != nil {
			c.CloseIdleConnections()
		}
	}
}

// spreadable refuses what --spread cannot do: more devices than there are addresses, or a base on
// IPv6, whose loopback is a single address.
func spreadable(o Options) error {
	if !o.Spread {
		return nil
	}
	if n := max(o.Clients+1, o.Users); n > loopclient.Devices {
		return fmt.Errorf("--spread: %d clients or users, but only %d loopback addresses; use --spread=false", n, loopclient.Devices)
	}
	for _, base := range []string{o.Base, o.TxBase, o.WalletBase} {
		u, err := url.Parse(base)
		if err != nil {
			return fmt.Errorf("base URL: %w", err)
		}
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.To4() == nil {
			return fmt.Errorf("--spread: %s is IPv6, whose loopback is one address; use 127.0.0.1 or --spread=false", u.Hostname())
		}
	}
	return nil
}
