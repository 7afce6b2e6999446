package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPagesNeedLogin checks that every page redirects to /login?next=<page>
// without a session, that a wrong password is refused with the form again,
// and that logging in leads back to the page asked for.
func TestPagesNeedLogin(t *testing.T) {
	s := startServer(t, serverOptions{})
	postException(t, s, s.Token, newException("LoginPageError", "shown after login"))
	waitForIssues(t, newAPI(s), 1)

	b := newBrowser(t, s)
	for _, path := range []string{"/issues", "/issues/1", "/settings/project"} {
		p := b.get(t, path)
		if p.Status != http.StatusSeeOther {
			t.Errorf("GET %s without a session: status %d, want 303", path, p.Status)
			continue
		}
		if next := loginNext(p.Location); next != path {
			t.Errorf("GET %s without a session: Location %q, want /login?next=%s", path, p.Location, path)
		}
	}

	// Wrong password: 401, the form again with the message, no session.
	login := b.get(t, "/login")
	f, ok := findForm(t, login.Body, func(f form) bool { return f.has("password") })
	if !ok {
		t.Fatalf("GET /login: no login form in:\n%s", truncate(login.Body, 2000))
	}
	for _, name := range []string{"email", "password", "_csrf"} {
		if !f.has(name) {
			t.Errorf("GET /login: the form has no field %q (fields %v)", name, f.Fields)
		}
	}
	wrong := cloneValues(f.Fields)
	wrong.Set("email", adminEmail)
	wrong.Set("password", adminPassword+"-wrong")
	p := b.postForm(t, "/login", wrong)
	if p.Status != http.StatusUnauthorized {
		t.Errorf("POST /login with a wrong password: status %d, want 401", p.Status)
	}
	if !strings.Contains(pageText(t, p.Body), "Wrong email or password.") {
		t.Errorf("POST /login with a wrong password: page lacks %q:\n%s", "Wrong email or password.", truncate(p.Body, 2000))
	}
	if _, ok := findForm(t, p.Body, func(f form) bool { return f.has("password") }); !ok {
		t.Errorf("POST /login with a wrong password: the answer shows no login form again")
	}
	if p := b.get(t, "/issues"); p.Status != http.StatusSeeOther {
		t.Errorf("GET /issues after a wrong password: status %d, want 303 to /login", p.Status)
	}

	// Right password from the page a redirect pointed at: back to that page.
	login = b.get(t, "/login?next="+url.QueryEscape("/settings/project"))
	f, ok = findForm(t, login.Body, func(f form) bool { return f.has("password") })
	if !ok {
		t.Fatalf("GET /login?next=…: no login form")
	}
	fields := cloneValues(f.Fields)
	fields.Set("email", adminEmail)
	fields.Set("password", adminPassword)
	action := f.Action
	if action == "" || strings.HasPrefix(action, "?") {
		action = "/login" + action
	}
	p = b.postForm(t, action, fields)
	if p.Status != http.StatusSeeOther || p.Location != "/settings/project" {
		t.Errorf("POST %s from /login?next=/settings/project: status %d Location %q, want 303 to /settings/project", action, p.Status, p.Location)
	}
	if p := b.get(t, "/settings/project"); p.Status != http.StatusOK {
		t.Errorf("GET /settings/project after login: status %d, want 200", p.Status)
	}
	issues := b.get(t, "/issues")
	if issues.Status != http.StatusOK || !strings.Contains(pageText(t, issues.Body), "LoginPageError") {
		t.Errorf("GET /issues after login: status %d, want 200 naming LoginPageError:\n%s", issues.Status, truncate(issues.Body, 2000))
	}
}

// TestFormsNeedCSRFToken posts /login, /logout and every POST form of the
// pages without the _csrf field and with a wrong one: each must be refused
// with 403 and change nothing; with the token, logout ends the session.
func TestFormsNeedCSRFToken(t *testing.T) {
	s := startServer(t, serverOptions{})
	postException(t, s, s.Token, newException("CSRFPageError", "an issue so the issue page has forms"))
	issues := waitForIssues(t, newAPI(s), 1)

	// /login without and with a forged token: refused even with the right password.
	b := newBrowser(t, s)
	login := b.get(t, "/login")
	f, ok := findForm(t, login.Body, func(f form) bool { return f.has("password") })
	if !ok {
		t.Fatalf("GET /login: no login form")
	}
	for name, fields := range withoutAndForgedCSRF(f.Fields) {
		fields.Set("email", adminEmail)
		fields.Set("password", adminPassword)
		if p := b.postForm(t, "/login", fields); p.Status != http.StatusForbidden {
			t.Errorf("POST /login %s: status %d, want 403", name, p.Status)
		}
	}
	if p := b.get(t, "/issues"); p.Status != http.StatusSeeOther {
		t.Fatalf("GET /issues after refused logins: status %d, want 303 (no session)", p.Status)
	}

	b.login(t)
	pages := []string{"/issues", "/issues/" + issues[0].ID.String(), "/settings/project", "/settings/symbol-sets"}
	checked := 0
	for _, path := range pages {
		p := b.get(t, path)
		if p.Status != http.StatusOK {
			t.Logf("GET %s: status %d; its forms are not checked", path, p.Status)
			continue
		}
		for _, f := range forms(t, p.Body, path) {
			if f.Method != http.MethodPost {
				continue
			}
			if !f.has("_csrf") {
				t.Errorf("%s: form posting to %s has no _csrf field", path, f.Action)
			}
			for name, fields := range withoutAndForgedCSRF(f.Fields) {
				var got page
				if strings.Contains(f.Enctype, "multipart") {
					got = b.postMultipart(t, f.Action, fields, f.Files)
				} else {
					got = b.postForm(t, f.Action, fields)
				}
				if got.Status != http.StatusForbidden {
					t.Errorf("%s: POST %s %s: status %d, want 403", path, f.Action, name, got.Status)
				}
				checked++
			}
		}
	}
	t.Logf("checked %d forged form posts", checked)

	// Still logged in after the refused logout attempts; a real logout ends it.
	if p := b.get(t, "/issues"); p.Status != http.StatusOK {
		t.Fatalf("GET /issues after refused posts: status %d, want 200 (the session must survive)", p.Status)
	}
	if issue, err := newAPI(s).issue(t.Context(), issues[0].ID.String()); err != nil || issue.Status != "active" || issue.Description != issues[0].Description {
		t.Errorf("issue after refused posts: %+v (err %v); want it unchanged and active", issue, err)
	}
	p := b.get(t, "/issues")
	logout, ok := findForm(t, p.Body, func(f form) bool { return strings.HasSuffix(f.Action, "/logout") })
	if !ok {
		t.Fatalf("GET /issues: no form posting to /logout")
	}
	if got := b.postForm(t, "/logout", logout.Fields); got.Status/100 != 3 && got.Status != http.StatusOK {
		t.Errorf("POST /logout with the token: status %d, want a redirect", got.Status)
	}
	if p := b.get(t, "/issues"); p.Status != http.StatusSeeOther {
		t.Errorf("GET /issues after logout: status %d, want 303 to /login", p.Status)
	}
}

// withoutAndForgedCSRF returns copies of fields: one without _csrf, one with a
// _csrf value the server never issued.
func withoutAndForgedCSRF(fields url.Values) map[string]url.Values {
	without := cloneValues(fields)
	without.Del("_csrf")
	forged := cloneValues(fields)
	forged.Set("_csrf", "forged-"+strings.Repeat("0", 32))
	return map[string]url.Values{"without _csrf": without, "with a forged _csrf": forged}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// loginNext returns the next parameter of a /login?next=… Location, or "".
func loginNext(location string) string {
	u, err := url.Parse(location)
	if err != nil || u.Path != "/login" {
		return ""
	}
	return u.Query().Get("next")
}
