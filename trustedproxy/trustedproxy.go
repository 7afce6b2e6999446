// Package trustedproxy decides which requests' forwarding headers
// (X-Forwarded-For, X-Forwarded-Proto) to believe: only those of requests
// that arrive straight from an address the operator listed in
// STACKLENS_TRUSTED_PROXIES. Anyone else can write those headers, so
// believing them would let a client pick its own address (and dodge sign-in
// limits) or claim HTTPS.
package trustedproxy

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// List is the set of proxy addresses whose forwarding headers are believed.
// The zero List trusts nobody.
type List struct {
	prefixes []netip.Prefix
}

// Parse reads a comma- or space-separated list of CIDRs (10.0.0.0/8) or
// single addresses (192.0.2.7, ::1).
func Parse(s string) (List, error) {
	var l List
	for _, field := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if strings.Contains(field, "/") {
			p, err := netip.ParsePrefix(field)
			if err != nil {
				return List{}, fmt.Errorf("trusted proxy %q is not a CIDR such as 10.0.0.0/8: %w", field, err)
			}
			l.prefixes = append(l.prefixes, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(field)
		if err != nil {
			return List{}, fmt.Errorf("trusted proxy %q is not an IP address or CIDR: %w", field, err)
		}
		l.prefixes = append(l.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return l, nil
}

// Empty tells whether no proxy is trusted.
func (l List) Empty() bool { return len(l.prefixes) == 0 }

// String lists the trusted ranges, for logs.
func (l List) String() string {
	parts := make([]string, len(l.prefixes))
	for i, p := range l.prefixes {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

// trusts tells whether ip (text) is one of the trusted proxies.
func (l List) trusts(ip string) bool {
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range l.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ClientIP is the address of the client that sent r: the connection's peer,
// unless that peer is a trusted proxy, in which case the nearest address in
// X-Forwarded-For that is not itself a trusted proxy.
func (l List) ClientIP(r *http.Request) string {
	peer := remoteIP(r)
	if !l.trusts(peer) {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for _, hop := range strings.Split(v, ",") {
			if hop = strings.TrimSpace(hop); hop != "" {
				hops = append(hops, hop)
			}
		}
	}
	// Each proxy appends the address it got the request from, so the right
	// end is the most trustworthy: walk back until an untrusted address.
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			return peer // a garbled header: fall back to what the socket says
		}
		if !l.trusts(hops[i]) || i == 0 {
			return a.Unmap().String()
		}
	}
	if real := strings.TrimSpace(r.Header.Get("X-Real-IP")); real != "" {
		if a, err := netip.ParseAddr(real); err == nil {
			return a.Unmap().String()
		}
	}
	return peer
}

// HTTPS tells whether the client reached us over HTTPS: TLS on this very
// connection, or a trusted proxy saying so in X-Forwarded-Proto.
func (l List) HTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !l.trusts(remoteIP(r)) {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// Scheme is "https" or "http", as HTTPS decides.
func (l List) Scheme(r *http.Request) string {
	if l.HTTPS(r) {
		return "https"
	}
	return "http"
}
