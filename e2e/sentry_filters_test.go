package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// sentryFactsIssues sends two errors through the real @sentry/node, each
// from its own process: one in production tagged region=eu and
// flow=checkout, one in staging tagged region=us. It returns their issues.
func sentryFactsIssues(t *testing.T, s *server, a *api) (prod, stage apiIssue) {
	t.Helper()
	dsn := dsnOf(t, s)
	runSentryNodeClient(t, s, dsn, "facts", "production", "checkout failed in production", "region=eu", "flow=checkout")
	runSentryNodeClient(t, s, dsn, "facts", "staging", "search failed in staging", "region=us")
	issues := waitForIssues(t, a, 2)
	prod, ok1 := issueNamed(issues, "Error", "checkout failed in production")
	stage, ok2 := issueNamed(issues, "Error", "search failed in staging")
	if !ok1 || !ok2 {
		t.Fatalf("no issues for the two Sentry errors in %s", describeIssues(issues))
	}
	return prod, stage
}

// TestSentryFactsOnPagesAndFilters sends two errors through the real
// @sentry/node (production, staging) and one through the real posthog-node
// (production, with browser, OS and device as properties). The issue pages
// show each one's breadcrumbs, highlights, tags, user and contexts in the
// same sections; the issue list, as a page and through the JSON API, keeps
// the issues of one environment or one tag, and the page's filter form
// offers the environments and tags seen.
func TestSentryFactsOnPagesAndFilters(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	prod, stage := sentryFactsIssues(t, s, a)
	if code, out := runNodeClient(t, s, "facts"); code != 0 {
		t.Fatalf("posthog-node-app.js facts exited %d:\n%s", code, out)
	}
	issues := waitForIssues(t, a, 3)
	ph, ok := issueNamed(issues, "Error", "posthog facts e2e boom")
	if !ok {
		t.Fatalf("no issue for the posthog-node error in %s", describeIssues(issues))
	}
	p, st, pp := prod.ID.String(), stage.ID.String(), ph.ID.String()

	b := newBrowser(t, s)
	b.login(t)
	t.Run("sentry issue page", func(t *testing.T) { checkSentryIssuePage(t, b, prod) })
	t.Run("posthog issue page", func(t *testing.T) { checkPostHogIssuePage(t, b, ph) })
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"environment=production", []string{pp, p}},
		{"environment=staging", []string{st}},
		{"environment=development", nil},
		{"tag=region:us", []string{st}},
		{"tag=" + url.QueryEscape("flow:checkout"), []string{p}},
		{"tag=region", []string{st, p}},
		{"tag=region:eu&environment=staging", nil},
		{"tag=region:eu&environment=production", []string{p}},
		{"tag=plan:pro", nil}, // a PostHog property is not a tag
	} {
		if got := listOrder(t, b, "/issues?"+c.query); !slices.Equal(got, c.want) {
			t.Errorf("page /issues?%s: rows %v, want %v (production %s, staging %s)", c.query, got, c.want, p, st)
		}
		var page struct {
			Results []apiIssue `json:"results"`
		}
		if err := a.do(t.Context(), http.MethodGet, "/issues?"+c.query, nil, &page); err != nil {
			t.Fatalf("API /issues?%s: %v", c.query, err)
		}
		var ids []string
		for _, is := range page.Results {
			ids = append(ids, is.ID.String())
		}
		if !slices.Equal(ids, c.want) {
			t.Errorf("API /issues?%s: %v, want %v", c.query, ids, c.want)
		}
	}

	list := b.get(t, "/issues?environment=staging&tag=region:us")
	f, ok := findForm(t, list.Body, func(f form) bool { return f.Action == "/issues" && f.has("environment") && f.has("tag") })
	if !ok {
		t.Fatal("the issue list has no filter form with environment and tag fields")
	}
	if f.Fields.Get("environment") != "staging" || f.Fields.Get("tag") != "region:us" {
		t.Errorf("the filter form shows environment %q, tag %q; want what the URL asks for", f.Fields.Get("environment"), f.Fields.Get("tag"))
	}
	for _, want := range []string{`<option value="production"`, `<option value="staging"`, `<option value="region:eu"`, `<option value="flow:checkout"`} {
		if !strings.Contains(list.Body, want) {
			t.Errorf("the filter form does not offer %s", want)
		}
	}
	if got := b.get(t, "/issues?tag=:eu"); got.Status != http.StatusBadRequest || !strings.Contains(got.Body, "names no tag") {
		t.Errorf("/issues?tag=:eu: status %d; want 400 saying the tag filter names no tag", got.Status)
	}
}
