package httpx

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
)

type clientIPKey struct{}

func withClientIP(ctx context.Context, addr netip.Addr) context.Context {
	return context.WithValue(ctx, clientIPKey{}, addr)
}

// ClientIP returns the address of r's client as the edge resolved it (see EdgeConfig.TrustedProxies),
// or the address of r.RemoteAddr when the edge did not run. It is the zero Addr when unknown.
func ClientIP(r *http.Request) netip.Addr {
	if addr, ok := r.Context().Value(clientIPKey{}).(netip.Addr); ok {
		return addr
	}
	return peerAddr(r)
}

// resolveClientIP is the TCP peer, unless the peer is a trusted proxy: then the right-most
// X-Forwarded-For entry that is not itself a trusted proxy, else X-Real-IP, else the peer. Entries
// left of the last untrusted one were written by whoever the client is, so they are never read.
func resolveClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := peerAddr(r)
	if !isTrusted(peer, trusted) {
		return peer
	}
	hops := forwardedFor(r.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		addr := parseAddr(hops[i])
		if !addr.IsValid() {
			return peer // no proxy of ours wrote this, so nothing left of it is to be believed
		}
		if !isTrusted(addr, trusted) || i == 0 {
			return addr // the first untrusted hop, or the origin of a chain of trusted ones
		}
	}
	if real := parseAddr(r.Header.Get("X-Real-IP")); real.IsValid() {
		return real
	}
	return peer
}

// forwardedFor returns the X-Forwarded-For entries of every header line, in order.
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, line := range h.Values("X-Forwarded-For") {
		for hop := range strings.SplitSeq(line, ",") {
			if hop = strings.TrimSpace(hop); hop != "" {
				hops = append(hops, hop)
			}
		}
	}
	return hops
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	if !addr.IsValid() {
		return false
	}
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func peerAddr(r *http.Request) netip.Addr { return parseAddr(r.RemoteAddr) }

// parseAddr parses "ip", "ip:port" or "[ip]:port" in the one form prefixes match: IPv4-mapped IPv6
// unmapped, zone dropped. Anything else is the zero Addr.
func parseAddr(s string) netip.Addr {
	s = strings.TrimSpace(s)
	addr, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}
		}
		addr = ap.Addr()
	}
	return addr.Unmap().WithZone("")
}

func addrString(addr netip.Addr) string {
	if !addr.IsValid() {
		return ""
	}
	return addr.String()
}
