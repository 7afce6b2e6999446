package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// elementTextByID is the text of the element with id in doc, or "".
func elementTextByID(t *testing.T, doc, id string) string {
	t.Helper()
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	var found string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && attr(n, "id") == id {
			found = textOf(n)
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return strings.TrimSpace(found)
}

// submit posts the first form of path that match accepts, with set applied.
func (b *browser) submit(t *testing.T, path string, match func(form) bool, set url.Values) page {
	t.Helper()
	p := b.get(t, path)
	if p.Status != http.StatusOK {
		t.Fatalf("GET %s: status %d:\n%s", path, p.Status, truncate(pageText(t, p.Body), 1000))
	}
	for _, f := range forms(t, p.Body, path) {
		if f.Method == http.MethodPost && match(f) {
			fields := cloneValues(f.Fields)
			for k, v := range set {
				fields[k] = v
			}
			return b.postForm(t, f.Action, fields)
		}
	}
	t.Fatalf("GET %s: no matching form", path)
	return page{}
}

func actionMatches(re string) func(form) bool {
	r := regexp.MustCompile(re)
	return func(f form) bool { return r.MatchString(f.Action) }
}

// apiStatus calls GET path of the JSON API with key and returns the status.
func apiStatus(t *testing.T, s *server, key, path string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestInvitedMemberLifecycle: an admin invites a member by link; the link
// works once; the member signs in, is refused deleting a project, revoking
// the admin's API key and managing users (403 with a sentence, and the
// controls are not shown); the admin removes the member, whose session and
// API key stop working at once.
func TestInvitedMemberLifecycle(t *testing.T) {
	s := startServer(t, serverOptions{})
	const memberEmail, memberPassword = "member@stacklens.test", "member password 123"
	admin := newBrowser(t, s)
	admin.login(t)
	if p := admin.submit(t, "/settings/projects", func(f form) bool { return f.Action == "/settings/projects" },
		url.Values{"name": {"Second"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("create a second project: status %d", p.Status)
	}

	// Invite.
	p := admin.submit(t, "/settings/users", actionMatches(`/settings/users/invites$`), url.Values{"email": {memberEmail}, "role": {"member"}})
	if p.Status != http.StatusCreated {
		t.Fatalf("invite: status %d:\n%s", p.Status, truncate(pageText(t, p.Body), 1000))
	}
	link := elementTextByID(t, p.Body, "new-invite-link")
	if !strings.HasPrefix(link, s.URL+"/invite/") {
		t.Fatalf("invite link %q, want %s/invite/…", link, s.URL)
	}
	invitePath := strings.TrimPrefix(link, s.URL)
	if again := admin.submit(t, "/settings/users", actionMatches(`/settings/users/invites$`), url.Values{"email": {adminEmail}, "role": {"member"}}); again.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(pageText(t, again.Body), "already has an account") {
		t.Errorf("inviting an existing user: status %d, want 422 saying so", again.Status)
	}
	if users := pageText(t, admin.get(t, "/settings/users").Body); !strings.Contains(users, memberEmail) {
		t.Errorf("/settings/users does not list the pending invitation of %s", memberEmail)
	}

	// Accept: a mismatch is refused, then the right form signs the person in.
	joining := newBrowser(t, s)
	if p := joining.submit(t, invitePath, func(f form) bool { return f.has("password") },
		url.Values{"password": {memberPassword}, "password_confirm": {"something else"}}); p.Status != http.StatusUnprocessableEntity {
		t.Errorf("accept with differing passwords: status %d, want 422", p.Status)
	}
	if p := joining.submit(t, invitePath, func(f form) bool { return f.has("password") },
		url.Values{"password": {memberPassword}, "password_confirm": {memberPassword}}); p.Status != http.StatusSeeOther {
		t.Fatalf("accept the invitation: status %d:\n%s", p.Status, truncate(pageText(t, p.Body), 1000))
	}
	if p := joining.get(t, "/issues"); p.Status != http.StatusOK {
		t.Errorf("GET /issues right after accepting: status %d, want 200", p.Status)
	}
	if p := newBrowser(t, s).get(t, invitePath); p.Status != http.StatusGone || !strings.Contains(pageText(t, p.Body), "Ask an admin for a new one") {
		t.Errorf("the invitation link a second time: status %d, want 410 with a sentence", p.Status)
	}

	// The member signs in with the chosen password and makes a key of their own.
	member := newBrowser(t, s)
	if p := member.signIn(t, memberEmail, memberPassword); p.Status != http.StatusSeeOther {
		t.Fatalf("member signs in: status %d", p.Status)
	}
	p = member.submit(t, "/settings/project", func(f form) bool { return f.has("label") }, url.Values{"label": {"member key"}})
	memberKey := elementTextByID(t, p.Body, "new-api-key")
	if p.Status != http.StatusCreated || memberKey == "" {
		t.Fatalf("member creates an API key: status %d, key %q", p.Status, memberKey)
	}
	if got := apiStatus(t, s, memberKey, "/api/projects/1/error_tracking/issues"); got != http.StatusOK {
		t.Fatalf("member's API key: status %d, want 200", got)
	}

	// Refused: deleting a project (page and post), with the control hidden.
	projects := member.get(t, "/settings/projects")
	if strings.Contains(projects.Body, "/delete\"") || !strings.Contains(pageText(t, projects.Body), "Only admins can delete projects.") {
		t.Errorf("member's /settings/projects shows delete links or does not say why not")
	}
	if p := member.get(t, "/settings/projects/2/delete"); p.Status != http.StatusForbidden {
		t.Errorf("member GET /settings/projects/2/delete: status %d, want 403", p.Status)
	}
	csrf := func(b *browser) string {
		f, _ := findForm(t, b.get(t, "/settings/project").Body, func(f form) bool { return f.has("_csrf") })
		return f.Fields.Get("_csrf")
	}
	p = member.postForm(t, "/settings/projects/2/delete", url.Values{"_csrf": {csrf(member)}, "confirm_name": {"Second"}})
	if p.Status != http.StatusForbidden || !strings.Contains(pageText(t, p.Body), "Only admins can delete projects") {
		t.Errorf("member deletes project 2: status %d, want 403 with a sentence:\n%s", p.Status, truncate(pageText(t, p.Body), 500))
	}
	if !strings.Contains(pageText(t, admin.get(t, "/settings/projects").Body), "Second") {
		t.Errorf("project Second is gone after the member's refused delete")
	}

	// Refused: revoking the admin's key.
	var adminKeyRevoke string
	for _, f := range forms(t, admin.get(t, "/settings/project").Body, "/settings/project") {
		if strings.Contains(f.Action, "/api-keys/") && strings.HasSuffix(f.Action, "/revoke") {
			adminKeyRevoke = f.Action
		}
	}
	if adminKeyRevoke == "" {
		t.Fatalf("the admin's /settings/project lists no key to revoke")
	}
	p = member.postForm(t, adminKeyRevoke, url.Values{"_csrf": {csrf(member)}})
	if p.Status != http.StatusForbidden || !strings.Contains(pageText(t, p.Body), "Only admins can revoke another person's API key") {
		t.Errorf("member revokes the admin's key: status %d, want 403 with a sentence", p.Status)
	}
	if got := apiStatus(t, s, apiKey, "/api/projects/1/error_tracking/issues"); got != http.StatusOK {
		t.Errorf("admin's API key after the member's refused revoke: status %d, want 200", got)
	}

	// Refused: managing users; the page shows no controls.
	users := member.get(t, "/settings/users")
	if users.Status != http.StatusOK {
		t.Fatalf("member GET /settings/users: status %d", users.Status)
	}
	for _, f := range forms(t, users.Body, "/settings/users") {
		if strings.HasPrefix(f.Action, "/settings/users") {
			t.Errorf("member's /settings/users shows a form posting to %s", f.Action)
		}
	}
	for path, fields := range map[string]url.Values{
		"/settings/users/invites":  {"email": {"x@stacklens.test"}, "role": {"admin"}},
		"/settings/users/1/role":   {"role": {"member"}},
		"/settings/users/1/delete": {},
	} {
		fields.Set("_csrf", csrf(member))
		if p := member.postForm(t, path, fields); p.Status != http.StatusForbidden || !strings.Contains(pageText(t, p.Body), "Only admins can") {
			t.Errorf("member POST %s: status %d, want 403 with a sentence", path, p.Status)
		}
	}

	// The admin removes the member: session and key stop working.
	if p := admin.submit(t, "/settings/users", actionMatches(`^/settings/users/\d+/delete$`), nil); p.Status != http.StatusSeeOther {
		t.Fatalf("admin removes the member: status %d:\n%s", p.Status, truncate(pageText(t, p.Body), 1000))
	}
	if p := member.get(t, "/issues"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login") {
		t.Errorf("removed member GET /issues: status %d Location %q, want 303 to /login", p.Status, p.Location)
	}
	if got := apiStatus(t, s, memberKey, "/api/projects/1/error_tracking/issues"); got != http.StatusUnauthorized {
		t.Errorf("removed member's API key: status %d, want 401", got)
	}
	if p := newBrowser(t, s).signIn(t, memberEmail, memberPassword); p.Status != http.StatusUnauthorized {
		t.Errorf("removed member signs in: status %d, want 401", p.Status)
	}
	if p := admin.get(t, "/issues"); p.Status != http.StatusOK {
		t.Errorf("admin after removing the member: status %d, want 200", p.Status)
	}
}

// TestTeamKeepsAnAdmin: the only admin cannot be made a member, and an
// invited admin can manage the team.
func TestTeamKeepsAnAdmin(t *testing.T) {
	s := startServer(t, serverOptions{})
	admin := newBrowser(t, s)
	admin.login(t)
	p := admin.submit(t, "/settings/users", actionMatches(`/settings/users/invites$`), url.Values{"email": {"second@stacklens.test"}, "role": {"admin"}})
	link := elementTextByID(t, p.Body, "new-invite-link")
	second := newBrowser(t, s)
	if p := second.submit(t, strings.TrimPrefix(link, s.URL), func(f form) bool { return f.has("password") },
		url.Values{"password": {"second admin pw"}, "password_confirm": {"second admin pw"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("accept the admin invitation: status %d", p.Status)
	}
	// The second admin demotes the first, then cannot demote themselves (no control), and the db refuses the last admin.
	if p := second.submit(t, "/settings/users", actionMatches(`^/settings/users/1/role$`), url.Values{"role": {"member"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("second admin makes the first a member: status %d", p.Status)
	}
	f, _ := findForm(t, second.get(t, "/settings/users").Body, func(f form) bool { return f.has("_csrf") })
	p = second.postForm(t, "/settings/users/2/role", url.Values{"_csrf": {f.Fields.Get("_csrf")}, "role": {"member"}})
	if p.Status != http.StatusConflict || !strings.Contains(pageText(t, p.Body), "only admin") {
		t.Errorf("the only admin makes themselves a member: status %d, want 409 saying why", p.Status)
	}
	mine, _ := findForm(t, admin.get(t, "/settings/users").Body, func(f form) bool { return f.has("_csrf") })
	if p := admin.postForm(t, "/settings/users/2/delete", url.Values{"_csrf": {mine.Fields.Get("_csrf")}}); p.Status != http.StatusForbidden ||
		!strings.Contains(pageText(t, p.Body), "Only admins can remove users") {
		t.Errorf("the demoted first admin removes the second: status %d, want 403", p.Status)
	}
}
