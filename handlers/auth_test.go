package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/internal/testserver"
)

func TestSetupFormRefusesBadInput(t *testing.T) {
	s := testserver.New(t)
	if res := s.Get("/issues"); res.Status != http.StatusSeeOther || res.Location() != "/setup" {
		t.Fatalf("GET /issues before any user: %d → %q, want 303 → /setup", res.Status, res.Location())
	}
	page := s.Get("/setup")
	token := testserver.CSRFFrom(page.Body)
	for _, c := range []struct {
		email, password, again, want string
	}{
		{"not-an-email", "correct horse battery", "correct horse battery", "Enter a valid email address."},
		{"a@example.test", "correct horse battery", "something else entirely", "The two passwords differ."},
		{"a@example.test", "short", "short", "Choose a password of at least 8 characters."},
	} {
		res := s.PostFormWithoutCSRF("/setup", url.Values{"_csrf": {token}, "email": {c.email}, "password": {c.password}, "password_confirm": {c.again}})
		if res.Status != http.StatusUnprocessableEntity || !res.Has(c.want) {
			t.Errorf("setup %q/%q: %d, want 422 saying %q", c.email, c.again, res.Status, c.want)
		}
	}
	s.SignIn()
	if res := s.Get("/setup"); res.Status != http.StatusSeeOther || res.Location() != "/login" {
		t.Errorf("GET /setup once an admin exists: %d → %q, want 303 → /login", res.Status, res.Location())
	}
}

func TestLogin(t *testing.T) {
	s := testserver.New(t)
	s.SignIn()
	if res := s.PostForm("/logout", nil); res.Status != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.Status)
	}
	if res := s.Get("/settings/project"); res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/login?next=") {
		t.Fatalf("after logout: %d → %q, want a redirect to /login with next", res.Status, res.Location())
	}
	page := s.Get("/login?next=/settings/project")
	token := testserver.CSRFFrom(page.Body)
	res := s.PostFormWithoutCSRF("/login", url.Values{"_csrf": {token}, "email": {testserver.AdminEmail}, "password": {"wrong"}, "next": {"/settings/project"}})
	if res.Status != http.StatusUnauthorized || !res.Has("Wrong email or password.") {
		t.Errorf("wrong password: %d, want 401 with the sentence", res.Status)
	}
	res = s.PostFormWithoutCSRF("/login", url.Values{"_csrf": {token}, "email": {testserver.AdminEmail}, "password": {testserver.AdminPassword}, "next": {"//evil.example"}})
	if res.Status != http.StatusSeeOther || res.Location() != "/issues" {
		t.Errorf("sign-in with next=//evil.example: %d → %q, want 303 → /issues", res.Status, res.Location())
	}
}

func TestFormsNeedTheSessionsCSRFToken(t *testing.T) {
	s := testserver.New(t)
	s.SignIn()
	other := s.Browser() // the same admin, signed in a second time
	other.SignIn()
	for name, res := range map[string]testserver.Response{
		"no token":                s.PostFormWithoutCSRF("/settings/projects", url.Values{"name": {"Forged"}}),
		"another session's token": s.PostFormWithoutCSRF("/settings/projects", url.Values{"name": {"Forged"}, "_csrf": {other.CSRF()}}),
	} {
		if res.Status != http.StatusForbidden || !res.Has("This form has expired or did not come from stacklens.") {
			t.Errorf("%s: %d, want 403 with the sentence", name, res.Status)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/settings/projects", strings.NewReader(url.Values{"name": {"Forged"}, "_csrf": {s.CSRF()}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := s.Do(req); res.Status != http.StatusForbidden {
		t.Errorf("cross-site post with a valid token: %d, want 403", res.Status)
	}
	if res := s.Get("/settings/projects"); res.Has("Forged") {
		t.Errorf("a refused form created a project")
	}
}
