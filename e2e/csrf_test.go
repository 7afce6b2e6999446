package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// statusForm is the issue page's status form of issueID, as b sees it.
func statusForm(t *testing.T, b *browser, issueID string) form {
	t.Helper()
	p := b.get(t, "/issues/"+issueID)
	f, ok := findForm(t, p.Body, func(f form) bool { return strings.HasSuffix(f.Action, "/status") })
	if !ok {
		t.Fatalf("GET /issues/%s: status %d, no status form", issueID, p.Status)
	}
	return f
}

// TestCSRFTokenIsBoundToSession: a form token only works with the session
// it was issued to. Another session's token, and a cookie and field pair
// planted the way echo's double-submit check accepted, are refused with 403
// and change nothing; cross-site posts are refused even with a good token.
func TestCSRFTokenIsBoundToSession(t *testing.T) {
	s := startServer(t, serverOptions{})
	postException(t, s, s.Token, newException("CSRFBindingError", "must stay active"))
	issue := waitForIssues(t, newAPI(s), 1)[0]
	id := issue.ID.String()

	victim, other := newBrowser(t, s), newBrowser(t, s)
	victim.login(t)
	other.login(t)
	mine, theirs := statusForm(t, victim, id), statusForm(t, other, id)
	if mine.Fields.Get("_csrf") == theirs.Fields.Get("_csrf") {
		t.Fatalf("two sessions got the same form token %q", mine.Fields.Get("_csrf"))
	}
	resolve := func(fields url.Values, csrf string) url.Values {
		f := cloneValues(fields)
		f.Set("status", "resolved")
		f.Set("_csrf", csrf)
		return f
	}
	base, _ := url.Parse(s.URL)
	attempts := map[string]func() page{
		"another session's token": func() page {
			return victim.postForm(t, mine.Action, resolve(mine.Fields, theirs.Fields.Get("_csrf")))
		},
		"a planted stacklens_csrf cookie with the same field": func() page {
			planted := "planted0000000000000000000000000"
			victim.http.Jar.SetCookies(base, []*http.Cookie{{Name: "stacklens_csrf", Value: planted, Path: "/"}})
			return victim.postForm(t, mine.Action, resolve(mine.Fields, planted))
		},
		"a planted pre-session cookie with another browser's pre-session token": func() page {
			anon := newBrowser(t, s)
			token := anon.loginForm(t, "").Get("_csrf")
			var pre *http.Cookie
			for _, c := range anon.http.Jar.Cookies(base) {
				if c.Name == "stacklens_presession" {
					pre = c
				}
			}
			if pre == nil {
				t.Fatalf("GET /login set no stacklens_presession cookie")
			}
			victim.http.Jar.SetCookies(base, []*http.Cookie{{Name: "stacklens_presession", Value: pre.Value, Path: "/"}})
			return victim.postForm(t, mine.Action, resolve(mine.Fields, token))
		},
	}
	for name, attempt := range attempts {
		if p := attempt(); p.Status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, p.Status)
		} else if !strings.Contains(pageText(t, p.Body), "did not come from stacklens") {
			t.Errorf("%s: the 403 page does not say why:\n%s", name, truncate(pageText(t, p.Body), 500))
		}
	}
	if got, err := newAPI(s).issue(t.Context(), id); err != nil || got.Status != "active" {
		t.Fatalf("issue after refused posts: status %q (err %v), want active", got.Status, err)
	}

	// A good token from a cross-site page is refused too (login CSRF included).
	for _, h := range [][2]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "http://evil.example"}} {
		req, _ := http.NewRequest(http.MethodPost, s.URL+mine.Action, strings.NewReader(resolve(mine.Fields, mine.Fields.Get("_csrf")).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(h[0], h[1])
		if p := victim.do(t, req); p.Status != http.StatusForbidden {
			t.Errorf("status form with %s: %s: status %d, want 403", h[0], h[1], p.Status)
		}
		anon := newBrowser(t, s)
		if p := anon.signIn(t, adminEmail, adminPassword, h[0], h[1]); p.Status != http.StatusForbidden {
			t.Errorf("login with %s: %s: status %d, want 403", h[0], h[1], p.Status)
		}
	}

	// The session's own token, same-origin, still works.
	req, _ := http.NewRequest(http.MethodPost, s.URL+mine.Action, strings.NewReader(resolve(mine.Fields, mine.Fields.Get("_csrf")).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", s.URL)
	if p := victim.do(t, req); p.Status != http.StatusSeeOther {
		t.Errorf("status form with the session's own token: status %d, want 303:\n%s", p.Status, truncate(pageText(t, p.Body), 500))
	}
	if got, err := newAPI(s).issue(t.Context(), id); err != nil || got.Status != "resolved" {
		t.Errorf("issue after the good post: status %q (err %v), want resolved", got.Status, err)
	}
}
