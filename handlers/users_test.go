package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/internal/testserver"
)

// The team page and invitations (handlers/users.go), as the admin and as
// the member who accepted an invitation.
func TestUsersAndInvites(t *testing.T) {
	s := testserver.New(t)
	s.SignIn()
	for _, c := range []struct {
		form url.Values
		says string
	}{
		{url.Values{"email": {"nobody"}, "role": {"member"}}, "Enter the email address of the person to invite"},
		{url.Values{"email": {"ana@example.test"}, "role": {"owner"}}, "Choose the role Admin or Member."},
		{url.Values{"email": {testserver.AdminEmail}, "role": {"member"}}, "already has an account."},
	} {
		if res := s.PostForm("/settings/users/invites", c.form); res.Status != http.StatusUnprocessableEntity || !res.Has(c.says) {
			t.Errorf("invite %v: %d, want 422 saying %q", c.form, res.Status, c.says)
		}
	}
	res := s.PostForm("/settings/users/invites", url.Values{"email": {"ana@example.test"}, "role": {"member"}})
	link := regexp.MustCompile(`/invite/[A-Za-z0-9_-]{43}`).FindString(res.Body)
	if res.Status != http.StatusCreated || link == "" {
		t.Fatalf("invite: %d, link %q", res.Status, link)
	}

	ana := s.Browser()
	page := ana.Get(link)
	if page.Status != http.StatusOK || !page.Has("ana@example.test") {
		t.Fatalf("invitation page: %d", page.Status)
	}
	token := testserver.CSRFFrom(page.Body)
	if res := ana.PostFormWithoutCSRF(link, url.Values{"_csrf": {token}, "password": {"short"}, "password_confirm": {"short"}}); res.Status != http.StatusUnprocessableEntity || !res.Has("at least 8 characters") {
		t.Errorf("accept with a short password: %d", res.Status)
	}
	if res := ana.PostFormWithoutCSRF(link, url.Values{"_csrf": {token}, "password": {"ana's long password"}, "password_confirm": {"ana's long password"}}); res.Status != http.StatusSeeOther || res.Location() != "/issues" {
		t.Fatalf("accept: %d → %q", res.Status, res.Location())
	}
	if res := ana.Get(link); res.Status != http.StatusGone {
		t.Errorf("the link once used: %d, want 410", res.Status)
	}
	settings := ana.Get("/settings/project")
	anaToken := testserver.CSRFFrom(settings.Body)
	if res := ana.PostFormWithoutCSRF("/settings/users/invites", url.Values{"_csrf": {anaToken}, "email": {"bo@example.test"}, "role": {"admin"}}); res.Status != http.StatusForbidden || !res.Has("Only admins can invite people.") {
		t.Errorf("a member invites: %d, want 403", res.Status)
	}

	users := s.Get("/settings/users")
	if users.Status != http.StatusOK || !users.Has("ana@example.test") {
		t.Fatalf("team page: %d", users.Status)
	}
	anaID := regexpFind(`/settings/users/(\d+)/role`, strings.ReplaceAll(users.Body, `/settings/users/1/role`, ""))
	if res := s.PostForm("/settings/users/"+anaID+"/role", url.Values{"role": {"boss"}}); res.Status != http.StatusUnprocessableEntity || !res.Has("Choose the role Admin or Member.") {
		t.Errorf("bad role: %d", res.Status)
	}
	if res := s.PostForm("/settings/users/1/role", url.Values{"role": {"member"}}); res.Status != http.StatusConflict || !res.Has("is the only admin") {
		t.Errorf("demote the only admin: %d", res.Status)
	}
	if res := s.PostForm("/settings/users/1/delete", nil); res.Status != http.StatusConflict || !res.Has("You cannot remove yourself") {
		t.Errorf("remove yourself: %d", res.Status)
	}
	if res := s.PostForm("/settings/users/"+anaID+"/delete", nil); res.Status != http.StatusSeeOther || !strings.Contains(res.Location(), "done=removed") {
		t.Errorf("remove ana: %d → %q", res.Status, res.Location())
	}
	if res := s.PostForm("/settings/users/"+anaID+"/delete", nil); res.Status != http.StatusNotFound {
		t.Errorf("remove ana again: %d, want 404", res.Status)
	}
}

// Notification channels (handlers/notifications.go).
func TestNotificationChannelForms(t *testing.T) {
	s := testserver.New(t)
	s.SignIn()
	if res := s.PostForm("/settings/notifications", url.Values{"kind": {"pager"}}); res.Status != http.StatusBadRequest || !res.Has("Choose a webhook or an email channel.") {
		t.Errorf("unknown kind: %d", res.Status)
	}
	if res := s.PostForm("/settings/notifications", url.Values{"kind": {"webhook"}, "name": {"Ops"}, "url": {"https://hooks.example/stacklens"}}); res.Status != http.StatusBadRequest || !res.Has("Choose the webhook format: Slack-compatible or plain JSON.") {
		t.Errorf("webhook without a format: %d, want 400 asking for one", res.Status)
	}
	if res := s.PostForm("/settings/notifications", url.Values{"kind": {"webhook"}, "name": {"Ops"}, "url": {"ftp://hooks.example"}, "format": {"json"}}); res.Status != http.StatusBadRequest {
		t.Errorf("webhook to an ftp URL: %d, want 400", res.Status)
	}
	if res := s.Get("/settings/notifications"); !res.Has("No channels yet.") {
		t.Errorf("a refused channel was stored")
	}
	res := s.PostForm("/settings/notifications", url.Values{"kind": {"webhook"}, "name": {"Ops"}, "url": {"https://hooks.example/stacklens"}, "format": {"slack"}, "on_new_issue": {"on"}})
	if res.Status != http.StatusSeeOther || !strings.Contains(res.Location(), "done=added") {
		t.Fatalf("add webhook: %d → %q %s", res.Status, res.Location(), res.Body)
	}
	list := s.Get("/settings/notifications")
	id := regexpFind(`/settings/notifications/(\d+)`, list.Body)
	if list.Status != http.StatusOK || id == "" || !list.Has("Ops") {
		t.Fatalf("list: %d, id %q", list.Status, id)
	}
	if res := s.Get("/settings/notifications/" + id); res.Status != http.StatusOK || !res.Has("https://hooks.example/stacklens") {
		t.Errorf("channel page: %d", res.Status)
	}
	if res := s.PostForm("/settings/notifications/"+id+"/enabled", url.Values{"enabled": {"maybe"}}); res.Status != http.StatusBadRequest || !res.Has("Say enabled=true or enabled=false.") {
		t.Errorf("enabled=maybe: %d", res.Status)
	}
	if res := s.PostForm("/settings/notifications/"+id+"/delete", nil); res.Status != http.StatusSeeOther {
		t.Errorf("delete: %d", res.Status)
	}
	if res := s.Get("/settings/notifications/" + id); res.Status != http.StatusNotFound {
		t.Errorf("deleted channel's page: %d, want 404", res.Status)
	}
}
