package httpx

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/mint-wallet/mint/internal/platform/failure"
)

// LoopbackHosts are the hosts a browser on the developer's machine names for a local service: the dev
// value of EdgeConfig.AllowedHosts.
var LoopbackHosts = []string{"localhost", "127.0.0.1", "::1"}

// hostSet is a parsed AllowedHosts list.
type hostSet struct {
	any   bool
	names map[string]bool
	addrs map[netip.Addr]bool
}

func newHostSet(entries []string) hostSet {
	s := hostSet{names: map[string]bool{}, addrs: map[netip.Addr]bool{}}
	for _, e := range entries {
		if strings.TrimSpace(e) == "*" {
			s.any = true
			continue
		}
		h := hostOnly(strings.TrimSpace(e))
		if h == "" {
			continue
		}
		if addr, err := netip.ParseAddr(h); err == nil {
			s.addrs[addr.Unmap().WithZone("")] = true
		} else {
			s.names[h] = true
		}
	}
	return s
}

// allows reports whether hostport (a request's Host) names an allowed host. IP literals compare as
// addresses, so every spelling of ::1 is the same host.
func (s hostSet) allows(hostport string) bool {
	if s.any {
		return true
	}
	h := hostOnly(hostport)
	if addr, err := netip.ParseAddr(h); err == nil {
		return s.addrs[addr.Unmap().WithZone("")]
	}
	if s.names[h] {
		return true
	}
	// Browsers resolve every *.localhost name to the loopback address themselves (RFC 6761).
	return s.names["localhost"] && strings.HasSuffix(h, ".localhost")
}

// hostOnly returns the host of "host", "host:port", "[v6]" or "[v6]:port", lower-cased and without a
// final dot.
func hostOnly(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	} else {
		h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// allowHosts refuses requests for a Host not in entries, before anything else serves them: a
// DNS-rebinding page has the browser send its own name as the Host. 421 says the request reached a
// server that does not serve that host, which is what happened; it is no authorization decision.
func allowHosts(next http.Handler, entries []string, logger *slog.Logger) http.Handler {
	if len(entries) == 0 {
		return next
	}
	set := newHostSet(entries)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !set.allows(r.Host) {
			WriteError(w, r, logger, failure.New(failure.MisdirectedRequest, "host not allowed"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
