// Package loopclient gives each simulated device of a load or fault tool an HTTP client of its own,
// whose connections leave from a loopback address of that device's own.
//
// A gateway limits requests per client address (the stack's nginx: 10/s, a burst of 20, then 429).
// Real traffic comes from many users, each on an address of their own; a tool whose clients all
// dial from 127.0.0.1 is one client to the gateway, and is held to one user's rate. On Linux the
// whole of 127.0.0.0/8 is loopback and any address in it can be bound without setup, so device i
// dials from 127.77.x.y and the gateway limits each device alone, as it would limit one phone.
package loopclient

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// Devices is how many devices have an address of their own: 127.77.1.1 to 127.77.255.250.
const Devices = 255 * 250

// Addr is the address device i sends from: 127.77.x.y with x = 1 + i/250 and y = 1 + i%250, which
// keeps clear of the .0 and .255 addresses some tools read as network and broadcast. It panics when
// i is outside [0, Devices).
func Addr(i int) netip.Addr {
	if i < 0 || i >= Devices {
		panic(fmt.Sprintf("loopclient: device %d outside [0, %d)", i, Devices))
	}
	return netip.AddrFrom4([4]byte{127, 77, byte(1 + i/250), byte(1 + i%250)})
}

// Option changes a setting of New.
type Option func(*settings)

type settings struct {
	timeout time.Duration
}

// WithTimeout bounds each exchange, the reading of the body included (default 30 s). 0 leaves it
// unbounded, for a stream that lasts as long as the server keeps it; its request's context ends it.
func WithTimeout(d time.Duration) Option {
	return func(s *settings) { s.timeout = d }
}

// New returns the HTTP client of device i (see Addr). Its pool keeps a few idle connections per host,
// enough for one user's requests and a stream, and drops them before a server's usual keep-alive
// timeout would close them under it. It never goes through a proxy: the address must reach the
// server as it is.
func New(i int, opts ...Option) *http.Client {
	s := settings{timeout: 30 * time.Second}
	for _, o := range opts {
		o(&s)
	}
	dialer := &net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(Addr(i), 0)), Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: s.timeout,
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			MaxIdleConns:        16,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     30 * time.Second,
			TLSHandshakeTimeout: 5 * time.Second,
		},
	}
}
