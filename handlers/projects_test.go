package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/internal/testserver"
)

// Projects: create, rename, delete (handlers/projects.go).
func TestProjectForms(t *testing.T) {
	s := testserver.New(t)
	s.SignIn()
	for _, c := range []struct {
		name, says string
	}{
		{"", "Give the project a name."},
		{strings.Repeat("n", 300), "A project name is limited to"},
		{"Default\x01", "A project name cannot contain control characters."},
	} {
		res := s.PostForm("/settings/projects", url.Values{"name": {c.name}})
		if res.Status != http.StatusBadRequest || !res.Has(c.says) {
			t.Errorf("create %q: %d, want 400 saying %q", c.name, res.Status, c.says)
		}
	}
	res := s.PostForm("/settings/projects", url.Values{"name": {"Shop"}})
	if res.Status != http.StatusSeeOther || !strings.Contains(res.Location(), "created=1") {
		t.Fatalf("create: %d → %q", res.Status, res.Location())
	}
	if res := s.PostForm("/settings/projects", url.Values{"name": {"Shop"}}); res.Status != http.StatusBadRequest || !res.Has(`Another project is already called "Shop".`) {
		t.Errorf("create a second Shop: %d", res.Status)
	}
	id := regexp.MustCompile(`project=(\d+)`).FindStringSubmatch(res.Location())[1]
	base := "/settings/projects/" + id
	if res := s.PostForm(base+"/rename", url.Values{"name": {"Storefront"}}); res.Status != http.StatusSeeOther {
		t.Errorf("rename: %d", res.Status)
	}
	if res := s.Get(base + "/delete"); res.Status != http.StatusOK || !res.Has("Storefront") {
		t.Errorf("delete page: %d", res.Status)
	}
	if res := s.PostForm(base+"/delete", url.Values{"confirm_name": {"Shop"}}); res.Status != http.StatusBadRequest || !res.Has(`The name typed is not "Storefront": nothing was deleted.`) {
		t.Errorf("delete with the wrong name: %d", res.Status)
	}
	if res := s.PostForm(base+"/delete", url.Values{"confirm_name": {"Storefront"}}); res.Status != http.StatusSeeOther {
		t.Errorf("delete: %d %s", res.Status, res.Body)
	}
	only, err := s.DB.Project(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if res := s.PostForm("/settings/projects/1/delete", url.Values{"confirm_name": {only.Name}}); res.Status != http.StatusBadRequest || !res.Has("This is the only project") {
		t.Errorf("delete the last project: %d", res.Status)
	}
	if res := s.PostForm(base+"/rename", url.Values{"name": {"Again"}}); res.Status != http.StatusNotFound {
		t.Errorf("rename a deleted project: %d, want 404", res.Status)
	}
}

// The project's settings (handlers/project.go): a form with one bad field
// saves none of it.
func TestProjectSettingsForm(t *testing.T) {
	s := testserver.New(t)
	s.SignIn()
	config := func() string { return s.Get("/array/" + testserver.ProjectToken + "/config").Body }
	if res := s.PostForm("/settings/project", url.Values{"autocapture_exceptions": {"on"}, "rate_limit": {"50"}}); res.Status != http.StatusSeeOther || !strings.Contains(res.Location(), "saved=1") {
		t.Fatalf("save: %d → %q", res.Status, res.Location())
	}
	before := config()
	if !strings.Contains(before, `"autocaptureExceptions":true`) {
		t.Fatalf("autocapture switched on, but the SDK config says %s", before)
	}
	res := s.PostForm("/settings/project", url.Values{"rate_limit": {"fast"}})
	if res.Status != http.StatusBadRequest || !res.Has(`"fast" is not. Nothing was saved.`) {
		t.Errorf("bad rate limit: %d, want 400 saying nothing was saved", res.Status)
	}
	if after := config(); after != before {
		t.Errorf("a refused settings form changed the SDK config:\n%s\n%s", before, after)
	}
	if page := s.Get("/settings/project"); page.Status != http.StatusOK || !page.Has(`value="50"`) {
		t.Errorf("settings page: %d, want the saved rate limit 50", page.Status)
	}
}

// API keys (handlers/apikeys.go): shown once, on the page, not in a URL.
func TestAPIKeyForms(t *testing.T) {
	s := testserver.New(t)
	s.SignIn()
	if res := s.PostForm("/settings/project/api-keys", url.Values{"label": {" "}}); res.Status != http.StatusUnprocessableEntity || !res.Has("Give the key a label of 1 to 100 characters") {
		t.Errorf("no label: %d", res.Status)
	}
	res := s.PostForm("/settings/project/api-keys", url.Values{"label": {"CI"}})
	key := regexp.MustCompile(`phx_[A-Za-z0-9_-]{43}`).FindString(res.Body)
	if res.Status != http.StatusCreated || key == "" || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d, key %q, Cache-Control %q", res.Status, key, res.Header.Get("Cache-Control"))
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/projects/1/error_tracking/issues", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if got := s.Do(req); got.Status != http.StatusOK {
		t.Errorf("the new key is refused: %d", got.Status)
	}
	if res := s.PostForm("/settings/project/api-keys/999/revoke", nil); res.Status != http.StatusNotFound {
		t.Errorf("revoke an unknown key: %d, want 404", res.Status)
	}
}
