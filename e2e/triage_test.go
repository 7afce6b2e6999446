package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// triageSpec describes one $exception event as posthog-node sends it, with
// the properties triage filters and counts by.
type triageSpec struct {
	Type, Value string
	Function    string // the crash-site function
	File        string
	Release     string
	User        string
	Lib         string
	URL         string
	Fingerprint string    // $exception_fingerprint, to group events with different stacks
	At          time.Time // zero: now
}

func triageEvent(sp triageSpec) captureEvent {
	ev := newException(sp.Type, sp.Value)
	ev.DistinctID = sp.User
	if !sp.At.IsZero() {
		ev.Timestamp = sp.At.UTC().Format(time.RFC3339Nano)
	}
	p := ev.Properties
	set := func(k, v string) {
		if v != "" {
			p[k] = v
		}
	}
	set("$release_id", sp.Release)
	set("$lib", sp.Lib)
	set("$current_url", sp.URL)
	set("$exception_fingerprint", sp.Fingerprint)
	p["$browser"], p["$browser_version"], p["$os"] = "Chrome", "120", "Mac OS X"
	if sp.Function != "" {
		frames := p["$exception_list"].([]any)[0].(map[string]any)["stacktrace"].(map[string]any)["frames"].([]any)
		f := frames[0].(map[string]any)
		f["function"], f["filename"] = sp.Function, sp.File
	}
	return ev
}

// triageIssue is an issue as the API shows it, with the triage fields.
type triageIssue struct {
	ID                int64   `json:"id"`
	Name              string  `json:"name"`
	Description       string  `json:"description"`
	Status            string  `json:"status"`
	ResolvedInRelease *string `json:"resolved_in_release"`
	RegressedAt       *string `json:"regressed_at"`
	Occurrences       int     `json:"occurrences"`
	UsersAffected     int     `json:"users_affected"`
	Assignee          *struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
	} `json:"assignee"`
}

func listTriage(ctx context.Context, a *api, query string) ([]triageIssue, error) {
	var page struct {
		Results []triageIssue `json:"results"`
	}
	err := a.do(ctx, http.MethodGet, "/issues?"+query, nil, &page)
	return page.Results, err
}

func getTriage(t *testing.T, a *api, id int64) triageIssue {
	t.Helper()
	var is triageIssue
	if err := a.do(t.Context(), http.MethodGet, fmt.Sprintf("/issues/%d", id), nil, &is); err != nil {
		t.Fatalf("GET issue %d: %v", id, err)
	}
	return is
}

// waitForTotal waits until the project's issues count total occurrences
// (suppressed events are counted too) and returns the issues by name.
func waitForTotal(t *testing.T, a *api, total int) map[string]triageIssue {
	t.Helper()
	var byName map[string]triageIssue
	waitFor(t, fmt.Sprintf("%d occurrences in all", total), func(ctx context.Context) (bool, string, error) {
		issues, err := listTriage(ctx, a, "status=all&limit=500")
		if err != nil {
			return false, "", err
		}
		byName = map[string]triageIssue{}
		n := 0
		for _, is := range issues {
			byName[is.Name] = is
			n += is.Occurrences
		}
		return n == total, fmt.Sprintf("%d occurrences: %+v", n, issues), nil
	})
	return byName
}

// issueLinkRE matches a row's link; under an event filter (release=…) the
// link carries it to the issue page.
var issueLinkRE = regexp.MustCompile(`<a class="issue-link" href="/issues/(\d+)(?:\?[^"]*)?">`)

// listOrder is the ids of the issue list's rows, top to bottom.
func listOrder(t *testing.T, b *browser, path string) []string {
	t.Helper()
	p := b.get(t, path)
	if p.Status != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, p.Status, truncate(pageText(t, p.Body), 500))
	}
	var ids []string
	for _, m := range issueLinkRE.FindAllStringSubmatch(p.Body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// issueRowHTML is the list row of one issue.
func issueRowHTML(t *testing.T, body string, id int64) string {
	t.Helper()
	for _, row := range strings.Split(body, `<tr class="issue-row">`)[1:] {
		row, _, _ = strings.Cut(row, "</tr>")
		if strings.Contains(row, fmt.Sprintf(`href="/issues/%d"`, id)) || strings.Contains(row, fmt.Sprintf(`href="/issues/%d?`, id)) {
			return row
		}
	}
	t.Fatalf("no row for issue %d in the list:\n%s", id, truncate(pageText(t, body), 1500))
	return ""
}

// postIssueForm submits the form of page path whose action is action, with changes applied.
func postIssueForm(t *testing.T, b *browser, path, action string, changes url.Values) page {
	t.Helper()
	p := b.get(t, path)
	f, ok := findForm(t, p.Body, func(f form) bool { return f.Action == action })
	if !ok {
		t.Fatalf("GET %s: no form posting to %s", path, action)
	}
	for k, v := range changes {
		f.Fields[k] = v
	}
	return b.postForm(t, action, f.Fields)
}

func id64(s string) int64 {
	var n int64
	fmt.Sscan(s, &n)
	return n
}

// TestTriageReleaseAwareStatuses walks one issue through every status
// change on the issue page: resolved in 2.0.0, an event of 1.9 leaves it
// resolved, one of 2.0.1 reopens it as a regression (shown on the list and
// the page), suppressing counts events without storing them, reopening.
func TestTriageReleaseAwareStatuses(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	b := newBrowser(t, s)
	b.login(t)
	spec := triageSpec{Type: "CartError", Value: "cart total is NaN", Release: "1.5.0", User: "u1", Lib: "posthog-node"}
	postException(t, s, s.Token, triageEvent(spec))
	is := waitForTotal(t, a, 1)["CartError"]
	path := fmt.Sprintf("/issues/%d", is.ID)
	statusURL := path + "/status"

	got := postIssueForm(t, b, path, statusURL, url.Values{"status": {"resolved"}, "resolved_in_release": {"2.0.0"}})
	if got.Status != http.StatusSeeOther || got.Location != path {
		t.Fatalf("resolve in 2.0.0: status %d → %q, want 303 → %s", got.Status, got.Location, path)
	}
	if is = getTriage(t, a, is.ID); is.Status != "resolved" || is.ResolvedInRelease == nil || *is.ResolvedInRelease != "2.0.0" {
		t.Fatalf("after resolving in 2.0.0: %+v", is)
	}

	spec.Release = "1.9"
	postException(t, s, s.Token, triageEvent(spec))
	waitForTotal(t, a, 2)
	if is = getTriage(t, a, is.ID); is.Status != "resolved" || is.RegressedAt != nil {
		t.Fatalf("an event of 1.9 changed an issue resolved in 2.0.0: %+v", is)
	}
	if ids := listOrder(t, b, "/issues?status=resolved"); !slices.Equal(ids, []string{fmt.Sprint(is.ID)}) {
		t.Fatalf("resolved list: %v, want [%d]", ids, is.ID)
	}
	if row := issueRowHTML(t, b.get(t, "/issues?status=resolved").Body, is.ID); strings.Contains(row, "badge-regressed") {
		t.Errorf("the row shows a regression while still resolved: %s", row)
	}

	spec.Release = "2.0.1"
	postException(t, s, s.Token, triageEvent(spec))
	waitForTotal(t, a, 3)
	if is = getTriage(t, a, is.ID); is.Status != "active" || is.RegressedAt == nil {
		t.Fatalf("an event of 2.0.1 did not reopen the issue as a regression: %+v", is)
	}
	if row := issueRowHTML(t, b.get(t, "/issues").Body, is.ID); !strings.Contains(row, `class="badge badge-regressed"`) || !strings.Contains(row, "Regressed") {
		t.Errorf("the list row does not show the regression: %s", row)
	}
	pg := b.get(t, path)
	text := pageText(t, pg.Body)
	for _, want := range []string{
		"stacklens reopened it as a regression: a new event came from release 2.0.1",
		adminEmail + " resolved it in release 2.0.0 (was active)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("issue page lacks %q:\n%s", want, truncate(text, 3000))
		}
	}
	releases := `<dd class="releases"><span class="badge badge-plain">2.0.1</span><span class="badge badge-plain">1.9</span><span class="badge badge-plain">1.5.0</span></dd>`
	if !strings.Contains(pg.Body, releases) {
		t.Errorf("issue page does not list releases 2.0.1, 1.9, 1.5.0 (newest first)")
	}
	if !strings.Contains(pg.Body, `class="badge badge-regressed"`) {
		t.Errorf("issue page has no regression badge")
	}

	got = postIssueForm(t, b, path, statusURL, url.Values{"status": {"suppressed"}})
	if got.Status != http.StatusSeeOther {
		t.Fatalf("suppress: status %d", got.Status)
	}
	postException(t, s, s.Token, triageEvent(spec))
	waitForTotal(t, a, 4)
	if is = getTriage(t, a, is.ID); is.Status != "suppressed" {
		t.Fatalf("an event reopened a suppressed issue: %+v", is)
	}
	if events, err := a.events(t.Context(), fmt.Sprint(is.ID), 10); err != nil || len(events) != 3 {
		t.Fatalf("suppressed issue has %d stored events (err %v), want 3: its new event is counted, not stored", len(events), err)
	}

	got = postIssueForm(t, b, path, statusURL, url.Values{"status": {"active"}})
	if got.Status != http.StatusSeeOther {
		t.Fatalf("reopen: status %d", got.Status)
	}
	if is = getTriage(t, a, is.ID); is.Status != "active" || is.RegressedAt != nil {
		t.Fatalf("after reopening by hand: %+v, want active and no longer marked regressed", is)
	}
	text = pageText(t, b.get(t, path).Body)
	for _, want := range []string{adminEmail + " suppressed it (was active)", adminEmail + " reopened it (was suppressed)"} {
		if !strings.Contains(text, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}

	// Bad input changes nothing and says why.
	if got := postIssueForm(t, b, path, statusURL, url.Values{"status": {"closed"}}); got.Status != http.StatusBadRequest ||
		!strings.Contains(got.Body, "Unknown status") {
		t.Errorf("status closed: %d %s", got.Status, truncate(pageText(t, got.Body), 300))
	}
	if is = getTriage(t, a, is.ID); is.Status != "active" {
		t.Errorf("a rejected form changed the status: %+v", is)
	}
}
