package trustedproxy

import (
	"crypto/tls"
	"net/http"
	"testing"
)

func request(remote string, headers ...string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://stacklens.test/issues", nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

func TestClientIPAndHTTPS(t *testing.T) {
	proxies, err := Parse("10.0.0.0/8, 192.0.2.7 ::1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		list      List
		r         *http.Request
		wantIP    string
		wantHTTPS bool
	}{
		{"nobody trusted: headers ignored", List{}, request("203.0.113.5:4000", "X-Forwarded-For", "1.2.3.4", "X-Forwarded-Proto", "https"), "203.0.113.5", false},
		{"untrusted peer: headers ignored", proxies, request("203.0.113.5:4000", "X-Forwarded-For", "1.2.3.4", "X-Forwarded-Proto", "https"), "203.0.113.5", false},
		{"trusted proxy", proxies, request("10.1.2.3:4000", "X-Forwarded-For", "198.51.100.9", "X-Forwarded-Proto", "https"), "198.51.100.9", true},
		{"client spoofs a hop before the proxy", proxies, request("10.1.2.3:4000", "X-Forwarded-For", "6.6.6.6, 198.51.100.9"), "198.51.100.9", false},
		{"chain of trusted proxies", proxies, request("192.0.2.7:4000", "X-Forwarded-For", "198.51.100.9, 10.9.9.9"), "198.51.100.9", false},
		{"garbled hop", proxies, request("10.1.2.3:4000", "X-Forwarded-For", "not-an-ip"), "10.1.2.3", false},
		{"ipv6 loopback proxy", proxies, request("[::1]:4000", "X-Forwarded-For", "2001:db8::1", "X-Forwarded-Proto", "HTTPS"), "2001:db8::1", true},
		{"proxy says http", proxies, request("10.1.2.3:4000", "X-Forwarded-Proto", "http"), "10.1.2.3", false},
	}
	for _, c := range cases {
		if got := c.list.ClientIP(c.r); got != c.wantIP {
			t.Errorf("%s: ClientIP = %q, want %q", c.name, got, c.wantIP)
		}
		if got := c.list.HTTPS(c.r); got != c.wantHTTPS {
			t.Errorf("%s: HTTPS = %v, want %v", c.name, got, c.wantHTTPS)
		}
	}
	tlsReq := request("203.0.113.5:4000")
	tlsReq.TLS = &tls.ConnectionState{}
	if !(List{}).HTTPS(tlsReq) {
		t.Errorf("a TLS connection is HTTPS whoever the peer is")
	}
}

func TestParseRefusesGarbage(t *testing.T) {
	for _, s := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.1/x"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted it", s)
		}
	}
	if l, err := Parse(""); err != nil || !l.Empty() {
		t.Errorf("Parse(\"\") = %v, %v; want an empty list", l, err)
	}
}
