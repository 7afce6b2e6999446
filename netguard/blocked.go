package netguard

import "net/netip"

// blockedRange is a prefix no guarded connection may reach.
type blockedRange struct {
	prefix netip.Prefix
	reason string
}

// blockedRanges lists the refused prefixes, most specific first so the
// reason names the narrowest match (metadata before link-local).
// It is a function rather than a package variable so nothing can change it.
func blockedRanges() []blockedRange {
	r := func(s, reason string) blockedRange {
		return blockedRange{netip.MustParsePrefix(s), reason}
	}
	return []blockedRange{
		r("169.254.169.254/32", "cloud metadata address"),
		r("fd00:ec2::254/128", "cloud metadata address"),
		r("0.0.0.0/8", "unspecified or \"this network\" address"),
		r("127.0.0.0/8", "loopback address"),
		r("10.0.0.0/8", "private address (RFC 1918)"),
		r("172.16.0.0/12", "private address (RFC 1918)"),
		r("192.168.0.0/16", "private address (RFC 1918)"),
		r("100.64.0.0/10", "carrier-grade NAT address (RFC 6598)"),
		r("169.254.0.0/16", "link-local address"),
		r("192.0.0.0/24", "IETF protocol assignment address"),
		r("198.18.0.0/15", "benchmarking network address"),
		r("224.0.0.0/4", "multicast address"),
		r("240.0.0.0/4", "reserved or broadcast address"),
		r("::/128", "unspecified address"),
		r("::1/128", "loopback address"),
		r("fc00::/7", "private address (unique local, fc00::/7)"),
		r("fe80::/10", "link-local address"),
		r("fec0::/10", "site-local address"),
		r("ff00::/8", "multicast address"),
	}
}

// Blocked says whether addr is one the guard refuses, and why. IPv4-mapped
// (::ffff:a.b.c.d), IPv4-compatible, NAT64 (64:ff9b::/96) and 6to4
// (2002::/16) forms are judged by the IPv4 address they carry.
func Blocked(addr netip.Addr) (reason string, blocked bool) {
	if !addr.IsValid() {
		return "invalid address", true
	}
	addr = addr.WithZone("")
	if embedded, ok := embeddedIPv4(addr); ok {
		if reason, blocked := Blocked(embedded); blocked {
			return reason + " (embedded in " + addr.String() + ")", true
		}
		return "", false
	}
	for _, b := range blockedRanges() {
		if b.prefix.Contains(addr) {
			return b.reason, true
		}
	}
	return "", false
}

// embeddedIPv4 returns the IPv4 address an IPv6 address stands for when it
// is one of the forms that reach IPv4 hosts.
func embeddedIPv4(addr netip.Addr) (netip.Addr, bool) {
	if addr.Is4() {
		return netip.Addr{}, false
	}
	if addr.Is4In6() {
		return addr.Unmap(), true
	}
	b := addr.As16()
	v4 := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{b[i], b[i+1], b[i+2], b[i+3]}) }
	switch {
	case netip.MustParsePrefix("64:ff9b::/96").Contains(addr): // NAT64
		return v4(12), true
	case netip.MustParsePrefix("2002::/16").Contains(addr): // 6to4
		return v4(2), true
	case netip.MustParsePrefix("::/96").Contains(addr) && addr != netip.IPv6Unspecified() && addr != netip.IPv6Loopback():
		return v4(12), true // deprecated IPv4-compatible ::a.b.c.d
	}
	return netip.Addr{}, false
}
