// Package netguard refuses outbound connections to addresses a server
// should not reach on behalf of its users: loopback, private networks,
// link-local and cloud metadata endpoints, and the like (SSRF).
//
// The check runs in the dialer's Control hook, on the address actually
// being connected to after DNS resolution, so a host name that resolves to
// a public address for a check and to 127.0.0.1 for the connection (DNS
// rebinding) is still refused.
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrBlocked is wrapped by every error a guarded dial returns for a refused
// address; test with errors.Is.
var ErrBlocked = errors.New("address blocked")

// BlockedError says which address was refused and why.
type BlockedError struct {
	Address string // host:port as dialled
	Reason  string // e.g. "loopback address"
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("refusing to connect to %s: %s", e.Address, e.Reason)
}

// Unwrap makes errors.Is(err, ErrBlocked) true.
func (e *BlockedError) Unwrap() error { return ErrBlocked }

// Policy decides which addresses may be dialled. The zero value is the
// safe one: only public unicast addresses.
type Policy struct {
	// AllowPrivate turns the guard off (STACKLENS_FETCH_ALLOW_PRIVATE),
	// for self-hosted setups that serve their bundles on a private network.
	AllowPrivate bool
}

// Check returns a *BlockedError when the policy refuses addr.
func (p Policy) Check(addr netip.Addr) error {
	if p.AllowPrivate {
		return nil
	}
	if reason, blocked := Blocked(addr); blocked {
		return &BlockedError{Address: addr.String(), Reason: reason}
	}
	return nil
}

// Dialer returns a dialer with the given connect timeout whose Control hook
// refuses addresses the policy does not allow.
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{
		Timeout:   timeout,
		KeepAlive: 30 * time.Second,
		Control:   p.control,
	}
}

// control runs just before connect(2) with the resolved ip:port.
func (p Policy) control(network, address string, _ syscall.RawConn) error {
	if p.AllowPrivate {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return &BlockedError{Address: address, Reason: "address cannot be parsed"}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		// Control always sees a literal IP; anything else is refused
		// rather than guessed at.
		return &BlockedError{Address: address, Reason: "not an IP address"}
	}
	if reason, blocked := Blocked(ip); blocked {
		return &BlockedError{Address: address, Reason: reason}
	}
	return nil
}

// Transport returns an HTTP transport that dials through the guarded dialer.
// It ignores proxy environment variables: a proxy would make the connection
// on our behalf and defeat the check.
func (p Policy) Transport(connectTimeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           p.Dialer(connectTimeout).DialContext,
		TLSHandshakeTimeout:   connectTimeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          32,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Client returns an HTTP client using Transport(connectTimeout) whose
// requests, redirects and body reads included, end after totalTimeout.
func (p Policy) Client(connectTimeout, totalTimeout time.Duration) *http.Client {
	return &http.Client{Transport: p.Transport(connectTimeout), Timeout: totalTimeout}
}
