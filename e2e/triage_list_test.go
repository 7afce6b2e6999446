package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// seedList sends four issues whose orders differ by every sort:
//
//	issue          events  users  first seen  last seen  release  library
//	CheckoutError  3       1      50 min ago  5 min ago  2.0.0    posthog-node
//	TimeoutError   2       2      2 h ago     20 min ago 1.0.0    posthog-js
//	RenderError    1       0      10 min ago  10 min ago 2.0.0    posthog-node
//	KeyError       1       1      3 days ago  3 days ago 0.9      posthog-node
func seedList(t *testing.T, s *server, a *api) map[string]string {
	t.Helper()
	now := time.Now()
	checkout := triageSpec{Type: "CheckoutError", Value: "card declined for order", Function: "chargeCard", File: "src/payments.js",
		Release: "2.0.0", User: "u1", Lib: "posthog-node", URL: "https://shop.test/cart"}
	timeout := triageSpec{Type: "TimeoutError", Value: "search backend timed out", Function: "querySearch", File: "lib/search.js",
		Release: "1.0.0", Lib: "posthog-js", URL: "https://shop.test/search"}
	render := triageSpec{Type: "RenderError", Value: "template missing", Function: "renderPage", File: "views/page.js",
		Release: "2.0.0", Lib: "posthog-node"}
	key := triageSpec{Type: "KeyError", Value: "missing key", Function: "loadConfig", File: "lib/config.js",
		Release: "0.9", User: "u9", Lib: "posthog-node"}
	var events []captureEvent
	for _, ago := range []time.Duration{50, 30, 5} {
		checkout.At = now.Add(-ago * time.Minute)
		events = append(events, triageEvent(checkout))
	}
	for i, ago := range []time.Duration{120, 20} {
		timeout.At, timeout.User = now.Add(-ago*time.Minute), fmt.Sprintf("t%d", i)
		events = append(events, triageEvent(timeout))
	}
	render.At = now.Add(-10 * time.Minute)
	key.At = now.Add(-72 * time.Hour)
	events = append(events, triageEvent(render), triageEvent(key))
	postException(t, s, s.Token, events...)
	ids := map[string]string{}
	for name, is := range waitForTotal(t, a, 7) {
		ids[name] = fmt.Sprint(is.ID)
	}
	return ids
}

// TestTriageListSearchSortsFiltersAndBulk checks every sort, filter and
// search form of the issue list on a seeded data set, then the bulk
// actions, and the same query through the API.
func TestTriageListSearchSortsFiltersAndBulk(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	b := newBrowser(t, s)
	b.login(t)
	id := seedList(t, s, a)
	co, to, re, ke := id["CheckoutError"], id["TimeoutError"], id["RenderError"], id["KeyError"]
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{co, re, to, ke}},
		{"range=24h", []string{co, re, to}},
		{"range=24h&sort=last_seen", []string{co, re, to}},
		{"range=24h&sort=first_seen", []string{re, co, to}},
		{"range=24h&sort=occurrences", []string{co, to, re}},
		{"range=24h&sort=users", []string{to, co, re}},
		{"range=30d&sort=occurrences", []string{co, to, ke, re}},
		{"release=2.0.0", []string{co, re}},
		{"release=0.9", []string{ke}},
		{"lib=posthog-js", []string{to}},
		{"q=chargeCard", []string{co}},              // a function name
		{"q=payments.js", []string{co}},             // a file name
		{"q=TimeoutError", []string{to}},            // an exception type
		{"q=backend+timed", []string{to}},           // every word must match
		{"q=backend+checkout", nil},                 // …all of them
		{"q=%22backend+timed+out%22", []string{to}}, // a quoted phrase
		{"q=%22timed+backend%22", nil},              // the phrase's words in another order
		{"q=config.js+KeyError&range=24h", nil},     // search and range together
		{"q=config.js+KeyError", []string{ke}},
		{"status=resolved", nil},
	} {
		if got := listOrder(t, b, "/issues?"+c.query); !slices.Equal(got, c.want) {
			t.Errorf("/issues?%s: rows %v, want %v (checkout %s, timeout %s, render %s, key %s)", c.query, got, c.want, co, to, re, ke)
		}
	}
	// The filter form shows the query it came from, and the release and library choices.
	list := b.get(t, "/issues?q=%22timed+out%22&sort=users&release=1.0.0")
	f, ok := findForm(t, list.Body, func(f form) bool { return f.Method == http.MethodGet && f.has("q") })
	if !ok {
		t.Fatal("the list has no search form")
	}
	if f.Fields.Get("q") != `"timed out"` || f.Fields.Get("sort") != "users" || f.Fields.Get("release") != "1.0.0" || f.Fields.Get("status") != "active" {
		t.Errorf("filter form fields %v do not repeat the query", f.Fields)
	}
	for _, want := range []string{`<option value="2.0.0">`, `<option value="posthog-js">`} {
		if !strings.Contains(list.Body, want) {
			t.Errorf("filter form lacks %s", want)
		}
	}
	if got := b.get(t, "/issues?sort=loudest"); got.Status != http.StatusBadRequest || !strings.Contains(got.Body, "Unknown sort") {
		t.Errorf("unknown sort: %d %s", got.Status, truncate(pageText(t, got.Body), 200))
	}

	// Keyset pages keep the query: one page of 50 holds all, so check the rows' sparklines instead.
	if row := issueRowHTML(t, list.Body, id64(to)); strings.Count(row, `<rect class="bar`) != 24 {
		t.Errorf("24-hour sparkline has %d bars, want 24", strings.Count(row, `<rect class="bar`))
	}
	spark14 := b.get(t, "/issues?spark=14d")
	if row := issueRowHTML(t, spark14.Body, id64(ke)); strings.Count(row, `<rect class="bar`) != 14 || !strings.Contains(row, `data-count="1"`) {
		t.Errorf("14-day sparkline of the 3-day-old issue: %s", row)
	}

	// Bulk: resolve two ticked rows from a filtered list and come back to it.
	bulk := bulkForm(t, b, "/issues?range=24h")
	bulk.Set("action", "resolve")
	bulk["ids"] = []string{co, to}
	got := b.postForm(t, "/issues/bulk", bulk)
	if got.Status != http.StatusSeeOther || !strings.HasPrefix(got.Location, "/issues?") || !strings.Contains(got.Location, "range=24h") {
		t.Fatalf("bulk resolve: %d → %q", got.Status, got.Location)
	}
	if text := pageText(t, b.get(t, got.Location).Body); !strings.Contains(text, "2 issues resolved.") {
		t.Errorf("no confirmation after bulk resolve")
	}
	if rows := listOrder(t, b, "/issues?status=resolved"); !slices.Equal(rows, []string{co, to}) {
		t.Errorf("resolved after bulk: %v, want %v", rows, []string{co, to})
	}
	bulk["ids"] = []string{co, re}
	bulk.Set("action", "suppress")
	if got := b.postForm(t, "/issues/bulk", bulk); got.Status != http.StatusSeeOther {
		t.Fatalf("bulk suppress: %d", got.Status)
	}
	if rows := listOrder(t, b, "/issues?status=suppressed"); !slices.Equal(rows, []string{co, re}) {
		t.Errorf("suppressed after bulk: %v", rows)
	}
	bulk["ids"] = []string{co, to, re}
	bulk.Set("action", "reopen")
	if got := b.postForm(t, "/issues/bulk", bulk); got.Status != http.StatusSeeOther {
		t.Fatalf("bulk reopen: %d", got.Status)
	}
	if rows := listOrder(t, b, "/issues"); !slices.Equal(rows, []string{co, re, to, ke}) {
		t.Errorf("active after bulk reopen: %v", rows)
	}
	// Nothing ticked, or an unknown issue: a clear 400 and nothing changed.
	delete(bulk, "ids")
	if got := b.postForm(t, "/issues/bulk", bulk); got.Status != http.StatusBadRequest || !strings.Contains(got.Body, "Tick at least one issue") {
		t.Errorf("bulk without ids: %d %s", got.Status, truncate(pageText(t, got.Body), 200))
	}
	bulk["ids"] = []string{co, "99999"}
	bulk.Set("action", "resolve")
	if got := b.postForm(t, "/issues/bulk", bulk); got.Status != http.StatusBadRequest {
		t.Errorf("bulk with an unknown issue: %d", got.Status)
	}
	if rows := listOrder(t, b, "/issues?status=resolved"); len(rows) != 0 {
		t.Errorf("a rejected bulk action resolved %v", rows)
	}
	// Without a session cookie's CSRF token the form is refused.
	bad := url.Values{"ids": {co}, "action": {"resolve"}, "_csrf": {"forged"}}
	if got := b.postForm(t, "/issues/bulk", bad); got.Status != http.StatusForbidden {
		t.Errorf("bulk with a forged CSRF token: %d, want 403", got.Status)
	}

	// The API takes the same filters and sorts.
	issues, err := listTriage(t.Context(), a, "q=backend+timed")
	if err != nil || len(issues) != 1 || fmt.Sprint(issues[0].ID) != to || issues[0].UsersAffected != 2 {
		t.Errorf("API search: %+v %v", issues, err)
	}
	issues, err = listTriage(t.Context(), a, "sort=users&range=24h&limit=1")
	if err != nil || len(issues) != 1 || fmt.Sprint(issues[0].ID) != to {
		t.Errorf("API sort=users limit=1: %+v %v", issues, err)
	}
	var page struct {
		Next *string `json:"next"`
	}
	if err := a.do(t.Context(), http.MethodGet, "/issues?sort=users&range=24h&limit=1", nil, &page); err != nil || page.Next == nil ||
		!strings.Contains(*page.Next, "sort=users") || !strings.Contains(*page.Next, "after=") {
		t.Errorf("API next link keeps the query: %v %v", page.Next, err)
	}
	if err := a.do(t.Context(), http.MethodGet, "/issues?range=1y", nil, nil); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("API range=1y: %v, want a 400", err)
	}
}

// bulkForm is the fields the list's bulk form sends (CSRF token, return URL).
func bulkForm(t *testing.T, b *browser, path string) url.Values {
	t.Helper()
	f, ok := findForm(t, b.get(t, path).Body, func(f form) bool { return f.Action == "/issues/bulk" })
	if !ok {
		t.Fatalf("GET %s: no bulk form", path)
	}
	return f.Fields
}
