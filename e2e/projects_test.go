package e2e

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestSeveralProjects creates a second project, captures with each token and
// checks that every list, page and API call shows only its own project's
// issues; then the switcher, a rename, CSRF on the new forms, and a deletion
// that needs the name typed and takes the issues and the token with it.
func TestSeveralProjects(t *testing.T) {
	s := startServer(t, serverOptions{})
	b := newBrowser(t, s)
	b.login(t)

	// Create "Storefront": its settings page shows a new token.
	list := b.get(t, "/settings/projects")
	create, ok := findForm(t, list.Body, func(f form) bool { return f.Action == "/settings/projects" && f.has("name") })
	if !ok {
		t.Fatalf("GET /settings/projects: no create form in:\n%s", truncate(list.Body, 2000))
	}
	create.Fields.Set("name", "Storefront")
	got := b.postForm(t, create.Action, create.Fields)
	if got.Status != http.StatusSeeOther || got.Location != "/settings/project?created=1&project=2" {
		t.Fatalf("create project: %d → %q, want 303 → the new project's settings", got.Status, got.Location)
	}
	settings := b.get(t, got.Location).Body
	token2 := tokenOn(t, settings)
	if !strings.HasPrefix(token2, "phc_") || token2 == s.Token {
		t.Fatalf("new project's token %q: want a new phc_ token", token2)
	}
	create.Fields.Set("name", "storefront")
	if got := b.postForm(t, create.Action, create.Fields); got.Status != http.StatusBadRequest || !strings.Contains(pageText(t, got.Body), "already called") {
		t.Errorf("create a second Storefront: status %d, want 400 saying the name is taken", got.Status)
	}

	// One exception per project; each API lists only its own.
	postException(t, s, s.Token, newException("DefaultProjectError", "belongs to project 1"))
	postException(t, s, token2, newException("StorefrontError", "belongs to project 2"))
	api1, api2 := newAPI(s), projectAPI(s, 2)
	one := waitForIssues(t, api1, 1)
	two := waitForIssues(t, api2, 1)
	if one[0].Name != "DefaultProjectError" || two[0].Name != "StorefrontError" {
		t.Fatalf("project 1 has %s, project 2 has %s", describeIssues(one), describeIssues(two))
	}
	id1, id2 := one[0].ID.String(), two[0].ID.String()
	if _, err := api1.issue(t.Context(), id2); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Errorf("project 2's issue through project 1's API: %v, want 404", err)
	}
	if _, err := projectAPI(s, 99).issues(t.Context()); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Errorf("issues of project 99: %v, want 404", err)
	}
	if err := api2.do(t.Context(), http.MethodPatch, "/issues/"+id1, map[string]string{"status": "resolved"}, nil); err == nil {
		t.Errorf("PATCH project 1's issue through project 2's API succeeded")
	}

	// Lists follow the `project` parameter, then the cookie it leaves.
	wantList(t, b, "/issues?project=2", "StorefrontError", "DefaultProjectError")
	wantList(t, b, "/issues", "StorefrontError", "DefaultProjectError")
	if p := b.get(t, "/issues?project=99"); p.Status != http.StatusNotFound {
		t.Errorf("GET /issues?project=99: status %d, want 404", p.Status)
	}
	// The switcher is a GET form with a select of the projects, the shown one selected.
	switcher, ok := findForm(t, b.get(t, "/issues").Body, func(f form) bool { return f.Method == http.MethodGet && f.has("project") && !f.has("q") })
	if !ok || switcher.Fields.Get("project") != "2" {
		t.Fatalf("switcher on /issues: %+v (found %v), want project 2 selected", switcher, ok)
	}
	switcher.Fields.Set("project", "1")
	wantList(t, b, switcher.Action+"?"+switcher.Fields.Encode(), "DefaultProjectError", "StorefrontError")
	wantList(t, b, "/issues", "DefaultProjectError", "StorefrontError")
	// An issue page shows its own project, whichever is selected, and selects it.
	issuePage := b.get(t, "/issues/"+id2)
	if issuePage.Status != http.StatusOK || !strings.Contains(pageText(t, issuePage.Body), "StorefrontError") {
		t.Fatalf("GET /issues/%s with project 1 selected: status %d", id2, issuePage.Status)
	}
	wantList(t, b, "/issues", "StorefrontError", "DefaultProjectError")
	if text := pageText(t, b.get(t, "/settings/project").Body); !strings.Contains(text, token2) || strings.Contains(text, s.Token) {
		t.Errorf("project settings with project 2 selected: want its token %s only", token2)
	}

	// Rename, through the row's form.
	list = b.get(t, "/settings/projects")
	rename, ok := findForm(t, list.Body, func(f form) bool { return f.Action == "/settings/projects/2/rename" })
	if !ok {
		t.Fatalf("GET /settings/projects: no rename form for project 2")
	}
	rename.Fields.Set("name", "Default project")
	if got := b.postForm(t, rename.Action, rename.Fields); got.Status != http.StatusBadRequest {
		t.Errorf("rename to the other project's name: status %d, want 400", got.Status)
	}
	rename.Fields.Set("name", "Shop")
	if got := b.postForm(t, rename.Action, rename.Fields); got.Status != http.StatusSeeOther {
		t.Fatalf("rename: status %d, want 303", got.Status)
	}
	if text := pageText(t, b.get(t, "/settings/projects").Body); !strings.Contains(text, "Shop") || strings.Contains(text, "Storefront") {
		t.Errorf("projects after rename: want Shop, not Storefront:\n%s", truncate(text, 1000))
	}

	// CSRF: every form of the projects pages refuses a missing or forged token.
	confirmPage := b.get(t, "/settings/projects/2/delete")
	if confirmPage.Status != http.StatusOK {
		t.Fatalf("GET /settings/projects/2/delete: status %d", confirmPage.Status)
	}
	checked := 0
	for path, doc := range map[string]string{"/settings/projects": b.get(t, "/settings/projects").Body, "/settings/projects/2/delete": confirmPage.Body} {
		for _, f := range forms(t, doc, path) {
			if f.Method != http.MethodPost || strings.HasSuffix(f.Action, "/logout") {
				continue
			}
			for name, fields := range withoutAndForgedCSRF(f.Fields) {
				fields.Set("name", "Forged")
				fields.Set("confirm_name", "Shop")
				if got := b.postForm(t, f.Action, fields); got.Status != http.StatusForbidden {
					t.Errorf("%s: POST %s %s: status %d, want 403", path, f.Action, name, got.Status)
				}
				checked++
			}
		}
	}
	t.Logf("checked %d forged posts on the projects pages", checked)
	if checked < 8 {
		t.Errorf("checked %d forged posts; want create, two renames and delete, each without and with a forged token", checked)
	}
	if text := pageText(t, b.get(t, "/settings/projects").Body); strings.Contains(text, "Forged") || !strings.Contains(text, "Shop") {
		t.Errorf("a forged post changed the projects:\n%s", truncate(text, 1000))
	}

	// Delete: the wrong name changes nothing; the right one takes issues and token.
	del, ok := findForm(t, confirmPage.Body, func(f form) bool { return f.has("confirm_name") })
	if !ok {
		t.Fatalf("confirmation page: no form asking for the name")
	}
	del.Fields.Set("confirm_name", "shop")
	if got := b.postForm(t, del.Action, del.Fields); got.Status != http.StatusBadRequest || !strings.Contains(pageText(t, got.Body), "nothing was deleted") {
		t.Errorf("delete with a wrong name: status %d, want 400 saying nothing was deleted", got.Status)
	}
	if issues, err := api2.issues(t.Context()); err != nil || len(issues) != 1 {
		t.Fatalf("project 2 after a refused delete: %v, %v; want its issue kept", describeIssues(issues), err)
	}
	del.Fields.Set("confirm_name", "Shop")
	if got := b.postForm(t, del.Action, del.Fields); got.Status != http.StatusSeeOther {
		t.Fatalf("delete: status %d, want 303", got.Status)
	}
	if _, err := api2.issues(t.Context()); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Errorf("API of the deleted project: %v, want 404", err)
	}
	if p := b.get(t, "/issues/"+id2); p.Status != http.StatusGone || !strings.Contains(pageText(t, p.Body), "Issue "+id2+" was deleted along with its project.") {
		t.Errorf("GET /issues/%s of the deleted project: status %d (%s), want 410 saying it was deleted", id2, p.Status, truncate(pageText(t, p.Body), 300))
	}
	if status, body := rawCall(t, http.MethodGet, newAPI(s).base+"/issues/"+id2, nil); status != http.StatusGone || !strings.Contains(string(body), "was deleted") {
		t.Errorf("API GET issues/%s of the deleted project, asked in project 1: %d %s, want 410 saying it was deleted", id2, status, truncate(string(body), 300))
	}
	status, body := postCapture(t, s, "/batch/", map[string]string{"Content-Type": "application/json"},
		batchBody(t, token2, newException("LateError", "sent with a deleted token")))
	if status != http.StatusUnauthorized {
		t.Errorf("capture with the deleted project's token: status %d (%s), want 401", status, truncate(string(body), 200))
	}
	// The selection falls back to the project left; it cannot be deleted.
	wantList(t, b, "/issues", "DefaultProjectError", "StorefrontError")
	if issues, err := api1.issues(t.Context()); err != nil || len(issues) != 1 || issues[0].ID.String() != id1 {
		t.Errorf("project 1 after deleting project 2: %s, %v", describeIssues(issues), err)
	}
	last := b.get(t, "/settings/projects/1/delete")
	lastDel, ok := findForm(t, last.Body, func(f form) bool { return f.has("confirm_name") })
	if !ok {
		t.Fatalf("GET /settings/projects/1/delete: no confirmation form")
	}
	lastDel.Fields.Set("confirm_name", "Default project")
	if got := b.postForm(t, lastDel.Action, lastDel.Fields); got.Status != http.StatusBadRequest {
		t.Errorf("delete the only project: status %d, want 400", got.Status)
	}
	if p := b.get(t, "/issues"); p.Status != http.StatusOK {
		t.Errorf("GET /issues after refusing to delete the last project: status %d", p.Status)
	}
}

// projectAPI is the JSON API of another project than 1.
func projectAPI(s *server, project int) *api {
	a := newAPI(s)
	a.base = fmt.Sprintf("%s/api/projects/%d/error_tracking", s.URL, project)
	return a
}

var projectTokenRE = regexp.MustCompile(`id="project-token" class="token">([^<]+)<`)

func tokenOn(t *testing.T, doc string) string {
	t.Helper()
	m := projectTokenRE.FindStringSubmatch(doc)
	if m == nil {
		t.Fatalf("no project token on the page:\n%s", truncate(doc, 2000))
	}
	return m[1]
}

// wantList checks that an issue list page shows want and not other.
func wantList(t *testing.T, b *browser, path, want, other string) {
	t.Helper()
	p := b.get(t, path)
	text := pageText(t, p.Body)
	if p.Status != http.StatusOK || !strings.Contains(text, want) || strings.Contains(text, other) {
		t.Errorf("GET %s: status %d; want %s listed and not %s:\n%s", path, p.Status, want, other, truncate(text, 1500))
	}
}
