package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSecurityHeadersAndHTTPS: pages carry the CSP and nosniff, the SDK's
// JSON does not carry the CSP; HSTS and Secure cookies come with HTTPS as a
// trusted proxy reports it, and X-Forwarded-Proto from anyone else changes
// nothing.
func TestSecurityHeadersAndHTTPS(t *testing.T) {
	direct := startServer(t, serverOptions{})
	proxied := startServer(t, serverOptions{Env: []string{"STACKLENS_TRUSTED_PROXIES=10.0.0.0/8, 127.0.0.1"}})

	get := func(s *server, path string, header ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp
	}
	login := get(direct, "/login")
	csp := login.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("GET /login: Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("GET /login: Content-Security-Policy %q allows inline code", csp)
	}
	if got := login.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("GET /login: X-Content-Type-Options %q, want nosniff", got)
	}
	if got := login.Header.Get("Referrer-Policy"); got == "" {
		t.Errorf("GET /login: no Referrer-Policy")
	}
	if got := get(direct, "/no/such/page").Header.Get("Content-Security-Policy"); got != csp {
		t.Errorf("404 page: Content-Security-Policy %q, want the pages' %q", got, csp)
	}
	status, _ := postCapture(t, direct, "/batch/", map[string]string{"Content-Type": "application/json"}, batchBody(t, direct.Token, newException("HeaderError", "x")))
	if status != http.StatusOK {
		t.Fatalf("POST /batch/: %d", status)
	}
	sdk := get(direct, "/array/"+direct.Token+"/config")
	if got := sdk.Header.Get("Content-Security-Policy"); got != "" {
		t.Errorf("SDK remote config JSON carries a page CSP %q", got)
	}

	cases := []struct {
		name   string
		s      *server
		header []string
		https  bool
	}{
		{"direct, plain", direct, nil, false},
		{"direct, client claims https", direct, []string{"X-Forwarded-Proto", "https"}, false},
		{"trusted proxy, plain", proxied, []string{"X-Forwarded-Proto", "http"}, false},
		{"trusted proxy says https", proxied, []string{"X-Forwarded-Proto", "https", "X-Forwarded-For", "198.51.100.3"}, true},
	}
	for _, c := range cases {
		resp := get(c.s, "/login", c.header...)
		if got := resp.Header.Get("Strict-Transport-Security") != ""; got != c.https {
			t.Errorf("%s: HSTS %q, want present=%v", c.name, resp.Header.Get("Strict-Transport-Security"), c.https)
		}
		cookies := resp.Cookies()
		if len(cookies) == 0 {
			t.Errorf("%s: GET /login set no cookie", c.name)
		}
		for _, ck := range cookies {
			if ck.Secure != c.https {
				t.Errorf("%s: cookie %s Secure=%v, want %v", c.name, ck.Name, ck.Secure, c.https)
			}
		}
		// Signing in: the session cookie follows the same rule.
		fields := url.Values{"email": {adminEmail}, "password": {adminPassword}}
		b := newBrowser(t, c.s)
		f := b.loginForm(t, "")
		fields.Set("_csrf", f.Get("_csrf"))
		req, _ := http.NewRequest(http.MethodPost, c.s.URL+"/login", strings.NewReader(fields.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(c.header); i += 2 {
			req.Header.Set(c.header[i], c.header[i+1])
		}
		// The jar would not send a Secure pre-session cookie over http: pass it by hand.
		base, _ := url.Parse(c.s.URL)
		for _, ck := range b.http.Jar.Cookies(base) {
			req.AddCookie(ck)
		}
		p := b.do(t, req)
		if p.Status != http.StatusSeeOther {
			t.Errorf("%s: POST /login: status %d, want 303", c.name, p.Status)
			continue
		}
		var session *http.Cookie
		for _, ck := range (&http.Response{Header: p.Header}).Cookies() {
			if ck.Name == "stacklens_session" {
				session = ck
			}
		}
		if session == nil || session.Secure != c.https || !session.HttpOnly {
			t.Errorf("%s: session cookie %+v, want HttpOnly and Secure=%v", c.name, session, c.https)
		}
	}
}
