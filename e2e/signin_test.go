package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// loginForm fetches /login (with query) and returns its form's fields.
func (b *browser) loginForm(t *testing.T, query string) url.Values {
	t.Helper()
	p := b.get(t, "/login"+query)
	f, ok := findForm(t, p.Body, func(f form) bool { return f.has("password") })
	if !ok {
		t.Fatalf("GET /login%s: status %d, no login form:\n%s", query, p.Status, truncate(p.Body, 2000))
	}
	return cloneValues(f.Fields)
}

// signIn posts the login form with email and password (and any other fields).
func (b *browser) signIn(t *testing.T, email, password string, header ...string) page {
	t.Helper()
	fields := b.loginForm(t, "")
	fields.Set("email", email)
	fields.Set("password", password)
	req, err := http.NewRequest(http.MethodPost, b.base+"/login", strings.NewReader(fields.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(t, req)
}

// TestSignInLimits: 10 wrong passwords for one account are answered 401, the
// 11th attempt 429 with Retry-After and a sentence on the login page, and the
// right password is refused too while the lock lasts; a made-up
// X-Forwarded-For does not buy a fresh address; 30 failures from one address
// lock out every other email from it, unknown ones included.
func TestSignInLimits(t *testing.T) {
	s := startServer(t, serverOptions{})
	b := newBrowser(t, s)
	for i := 1; i <= 10; i++ {
		if p := b.signIn(t, adminEmail, "wrong password "+strconv.Itoa(i)); p.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password #%d: status %d, want 401", i, p.Status)
		}
	}
	checkLocked := func(name string, p page) {
		t.Helper()
		if p.Status != http.StatusTooManyRequests {
			t.Errorf("%s: status %d, want 429", name, p.Status)
			return
		}
		secs, err := strconv.Atoi(p.Header.Get("Retry-After"))
		if err != nil || secs <= 0 || secs > 15*60 {
			t.Errorf("%s: Retry-After %q, want 1..900 seconds", name, p.Header.Get("Retry-After"))
		}
		if text := pageText(t, p.Body); !strings.Contains(text, "Too many failed sign-ins") {
			t.Errorf("%s: the page does not say why:\n%s", name, truncate(text, 1000))
		}
		if _, ok := findForm(t, p.Body, func(f form) bool { return f.has("password") }); !ok {
			t.Errorf("%s: the answer shows no login form", name)
		}
	}
	checkLocked("11th wrong password", b.signIn(t, adminEmail, "wrong password 11"))
	checkLocked("right password during the lock", b.signIn(t, adminEmail, adminPassword))
	checkLocked("right password, other case of the email", b.signIn(t, strings.ToUpper(adminEmail), adminPassword))
	checkLocked("right password from a claimed other address", b.signIn(t, adminEmail, adminPassword, "X-Forwarded-For", "198.51.100.77", "X-Real-IP", "198.51.100.77"))
	if p := b.get(t, "/issues"); p.Status != http.StatusSeeOther {
		t.Fatalf("GET /issues after the locked attempts: status %d, want 303 (no session)", p.Status)
	}

	// The address has 10 failures; 20 more on other (unknown) emails reach 30.
	for i := 1; i <= 20; i++ {
		if p := b.signIn(t, "nobody"+strconv.Itoa(i)+"@stacklens.test", "guess"); p.Status != http.StatusUnauthorized {
			t.Fatalf("unknown email #%d: status %d, want 401", i, p.Status)
		}
	}
	checkLocked("a fresh unknown email after 30 failures from this address", b.signIn(t, "fresh@stacklens.test", "guess"))
}

// TestSignInTakesAsLongForUnknownEmails compares, in the same run, how long a
// wrong password takes for the real account and for emails that do not
// exist: the password hash must be checked either way, so the medians may
// not differ by the factor of 50 an early "no such user" answer gives.
func TestSignInTakesAsLongForUnknownEmails(t *testing.T) {
	s := startServer(t, serverOptions{})
	b := newBrowser(t, s)
	fields := b.loginForm(t, "")
	timeOne := func(email string) time.Duration {
		f := cloneValues(fields)
		f.Set("email", email)
		f.Set("password", "not the password")
		start := time.Now()
		if p := b.postForm(t, "/login", f); p.Status != http.StatusUnauthorized {
			t.Fatalf("POST /login as %s: status %d, want 401", email, p.Status)
		}
		return time.Since(start)
	}
	var known, unknown []time.Duration
	for i := range 5 { // 5 per account: well under the limit of 10
		known = append(known, timeOne(adminEmail))
		unknown = append(unknown, timeOne("ghost"+strconv.Itoa(i)+"@stacklens.test"))
	}
	slices.Sort(known)
	slices.Sort(unknown)
	k, u := known[len(known)/2], unknown[len(unknown)/2]
	t.Logf("median wrong-password answer: known email %v, unknown email %v", k, u)
	if u*4 < k {
		t.Errorf("unknown emails answer in %v, known ones in %v: the difference tells which accounts exist", u, k)
	}
}

// TestSignInNextStaysOnSite signs in with hostile next values, through the
// login page's hidden field and posted directly: the redirect must be a path
// on this server, and following it (redirects and all) must end here.
func TestSignInNextStaysOnSite(t *testing.T) {
	s := startServer(t, serverOptions{})
	hostile := []string{
		"//evil.example", "///evil.example", "/\\evil.example", "/\\/evil.example", "\\\\evil.example",
		"/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/ /evil.example", "\t//evil.example",
		" //evil.example", "\x00//evil.example", "/\x00/evil.example", "/\x7f/evil.example",
		"https://evil.example", "http:evil.example", "HTTPS://evil.example/issues", "javascript:alert(1)",
		"data:text/html,<script>alert(1)</script>", "evil.example", "@evil.example", "/\u3002evil.example", "/%E3%80%82/x",
		"", "/issues?next=//evil.example",
	}
	for _, next := range hostile {
		for _, via := range []string{"login page", "posted"} {
			b := newBrowser(t, s)
			fields := b.loginForm(t, "?next="+url.QueryEscape(next))
			if via == "posted" {
				fields.Set("next", next)
			}
			fields.Set("email", adminEmail)
			fields.Set("password", adminPassword)
			p := b.postForm(t, "/login", fields)
			name := strconv.Quote(next) + " via " + via
			if p.Status != http.StatusSeeOther {
				t.Errorf("%s: status %d, want 303", name, p.Status)
				continue
			}
			if !sameSitePath(p.Location) {
				t.Errorf("%s: Location %q leaves the site", name, p.Location)
				continue
			}
			follow := &http.Client{Jar: b.http.Jar, Timeout: 10 * time.Second}
			resp, err := follow.Get(s.URL + p.Location)
			if err != nil {
				t.Errorf("%s: follow %q: %v", name, p.Location, err)
				continue
			}
			resp.Body.Close()
			if final := resp.Request.URL; final.Host != strings.TrimPrefix(s.URL, "http://") {
				t.Errorf("%s: redirects ended at %s, want this server", name, final)
			}
		}
	}
	// Honest values still lead where they said.
	for _, next := range []string{"/settings/project", "/issues?status=resolved&q=a%2Fb", "/issues/1"} {
		b := newBrowser(t, s)
		fields := b.loginForm(t, "?next="+url.QueryEscape(next))
		fields.Set("email", adminEmail)
		fields.Set("password", adminPassword)
		if p := b.postForm(t, "/login", fields); p.Status != http.StatusSeeOther || p.Location != next {
			t.Errorf("next %q: status %d Location %q, want 303 to it", next, p.Status, p.Location)
		}
	}
}

// sameSitePath tells whether a browser would keep location on this origin:
// a path with a single leading slash, printable ASCII, no backslash.
func sameSitePath(location string) bool {
	if !strings.HasPrefix(location, "/") || strings.HasPrefix(location, "//") {
		return false
	}
	for i := 0; i < len(location); i++ {
		if c := location[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(location)
	return err == nil && u.Host == "" && u.Scheme == ""
}
