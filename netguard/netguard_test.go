package netguard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBlocked(t *testing.T) {
	cases := []struct {
		addr    string
		blocked bool
		reason  string // substring of the reason when blocked
	}{
		{"127.0.0.1", true, "loopback"},
		{"127.255.0.9", true, "loopback"},
		{"::1", true, "loopback"},
		{"10.1.2.3", true, "private"},
		{"172.16.0.1", true, "private"},
		{"172.31.255.255", true, "private"},
		{"192.168.1.1", true, "private"},
		{"fc00::1", true, "unique local"},
		{"fdab:cdef::1", true, "unique local"},
		{"169.254.1.1", true, "link-local"},
		{"fe80::1", true, "link-local"},
		{"fe80::1%eth0", true, "link-local"},
		{"169.254.169.254", true, "metadata"},
		{"fd00:ec2::254", true, "metadata"},
		{"0.0.0.0", true, "unspecified"},
		{"::", true, "unspecified"},
		{"224.0.0.1", true, "multicast"},
		{"ff02::1", true, "multicast"},
		{"100.64.0.1", true, "carrier-grade NAT"},
		{"100.127.255.254", true, "carrier-grade NAT"},
		{"255.255.255.255", true, "broadcast"},
		{"::ffff:127.0.0.1", true, "loopback"},
		{"::ffff:169.254.169.254", true, "metadata"},
		{"::ffff:10.0.0.1", true, "private"},
		{"64:ff9b::7f00:1", true, "loopback"},
		{"2002:a9fe:a9fe::", true, "metadata"},
		{"::127.0.0.1", true, "loopback"},

		{"8.8.8.8", false, ""},
		{"1.1.1.1", false, ""},
		{"172.32.0.1", false, ""},
		{"100.128.0.1", false, ""},
		{"192.169.0.1", false, ""},
		{"2606:4700:4700::1111", false, ""},
		{"::ffff:8.8.8.8", false, ""},
		{"64:ff9b::808:808", false, ""},
	}
	for _, c := range cases {
		addr := netip.MustParseAddr(c.addr)
		reason, blocked := Blocked(addr)
		if blocked != c.blocked {
			t.Errorf("Blocked(%s) = %v (%q), want %v", c.addr, blocked, reason, c.blocked)
			continue
		}
		if blocked && !strings.Contains(reason, c.reason) {
			t.Errorf("Blocked(%s) reason %q, want it to mention %q", c.addr, reason, c.reason)
		}
		err := Policy{}.Check(addr)
		if (err != nil) != c.blocked || (err != nil && !errors.Is(err, ErrBlocked)) {
			t.Errorf("Policy{}.Check(%s) = %v", c.addr, err)
		}
		if err := (Policy{AllowPrivate: true}).Check(addr); err != nil {
			t.Errorf("AllowPrivate Check(%s) = %v, want nil", c.addr, err)
		}
	}
}

func TestDialerRefusesLoopbackUnlessAllowed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	defer srv.Close()
	hostport := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()

	_, err := Policy{}.Dialer(time.Second).DialContext(ctx, "tcp", hostport)
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("guarded dial to %s: err = %v, want ErrBlocked", hostport, err)
	}
	var be *BlockedError
	if !errors.As(err, &be) || be.Address != hostport {
		t.Fatalf("blocked error %#v should name the address %s", be, hostport)
	}

	// A host name resolving to loopback is checked on the resolved address.
	_, port, _ := net.SplitHostPort(hostport)
	_, err = Policy{}.Dialer(time.Second).DialContext(ctx, "tcp", net.JoinHostPort("localhost", port))
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("guarded dial to localhost: err = %v, want ErrBlocked", err)
	}

	conn, err := Policy{AllowPrivate: true}.Dialer(time.Second).DialContext(ctx, "tcp", hostport)
	if err != nil {
		t.Fatalf("dial with AllowPrivate: %v", err)
	}
	conn.Close()
}

func TestClientRefusesLoopbackUnlessAllowed(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		io.WriteString(w, "hello")
	}))
	defer srv.Close()

	_, err := Policy{}.Client(time.Second, 5*time.Second).Get(srv.URL)
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("guarded GET: err = %v, want ErrBlocked", err)
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("server saw %d requests through the guard, want 0", n)
	}

	resp, err := Policy{AllowPrivate: true}.Client(time.Second, 5*time.Second).Get(srv.URL)
	if err != nil {
		t.Fatalf("GET with AllowPrivate: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello" {
		t.Fatalf("body = %q", body)
	}
}
