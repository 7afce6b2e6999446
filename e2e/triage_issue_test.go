package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTriageMergeMovesFingerprints merges two issues through the list's bulk
// form and the merge page, and checks that a later event of the merged
// issue lands in the one kept.
func TestTriageMergeMovesFingerprints(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	b := newBrowser(t, s)
	b.login(t)
	keep := triageSpec{Type: "LedgerError", Value: "ledger out of balance", User: "u1"}
	gone := triageSpec{Type: "BalanceError", Value: "balance below zero", User: "u2"}
	postException(t, s, s.Token, triageEvent(keep), triageEvent(gone))
	byName := waitForTotal(t, a, 2)
	keepID, goneID := fmt.Sprint(byName["LedgerError"].ID), fmt.Sprint(byName["BalanceError"].ID)

	bulk := bulkForm(t, b, "/issues")
	bulk.Set("action", "merge")
	bulk["ids"] = []string{keepID}
	if got := b.postForm(t, "/issues/bulk", bulk); got.Status != http.StatusBadRequest || !strings.Contains(got.Body, "at least two") {
		t.Errorf("merging one issue: %d %s", got.Status, truncate(pageText(t, got.Body), 200))
	}
	bulk["ids"] = []string{keepID, goneID}
	confirm := b.postForm(t, "/issues/bulk", bulk)
	if confirm.Status != http.StatusOK {
		t.Fatalf("bulk merge: %d %s", confirm.Status, truncate(pageText(t, confirm.Body), 300))
	}
	mf, ok := findForm(t, confirm.Body, func(f form) bool { return f.Action == "/issues/merge" })
	if !ok {
		t.Fatalf("the merge page has no form:\n%s", truncate(pageText(t, confirm.Body), 1000))
	}
	if !slices.Equal(mf.Fields["ids"], []string{keepID, goneID}) {
		t.Fatalf("merge form %v: want both ticked issues", mf.Fields)
	}
	mf.Fields.Set("into", keepID) // as the person picks it
	got := b.postForm(t, "/issues/merge", mf.Fields)
	if got.Status != http.StatusSeeOther || got.Location != "/issues/"+keepID {
		t.Fatalf("merge: %d → %q", got.Status, got.Location)
	}
	if got := b.get(t, "/issues/"+goneID); got.Status != http.StatusPermanentRedirect || got.Location != "/issues/"+keepID {
		t.Errorf("the merged issue's page: %d → %q, want 308 to /issues/%s", got.Status, got.Location, keepID)
	}
	kept := getTriage(t, a, id64(keepID))
	if kept.Occurrences != 2 || kept.UsersAffected != 2 {
		t.Errorf("kept issue after merge: %+v, want 2 events by 2 users", kept)
	}
	text := pageText(t, b.get(t, "/issues/"+keepID).Body)
	for _, want := range []string{"Merged into this issue", "#" + goneID + " BalanceError",
		adminEmail + " merged #" + goneID + " “BalanceError” (1 event) into it"} {
		if !strings.Contains(text, want) {
			t.Errorf("issue page lacks %q:\n%s", want, truncate(text, 2000))
		}
	}

	// The merged issue's fingerprint now belongs to the kept issue.
	again := triageEvent(gone)
	postException(t, s, s.Token, again)
	after := waitForTotal(t, a, 3)
	if len(after) != 1 || after["LedgerError"].Occurrences != 3 {
		t.Fatalf("after a new BalanceError: %+v, want only LedgerError with 3 events", after)
	}
	events, err := a.events(t.Context(), keepID, 10)
	if err != nil || len(events) != 3 || events[0].UUID != again.UUID {
		t.Errorf("events of the kept issue: %d (err %v), want the new BalanceError first", len(events), err)
	}
}

// TestMergeKeepsTheBiggestOldestIssueByDefault ticks a newer issue with one
// event first: the merge page must still pre-select the issue with the most
// events, and of two with as many, the one seen first.
func TestMergeKeepsTheBiggestOldestIssueByDefault(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	b := newBrowser(t, s)
	b.login(t)
	old := triageSpec{Type: "OldError", Value: "seen for weeks", User: "u1", At: time.Now().Add(-72 * time.Hour)}
	postException(t, s, s.Token, triageEvent(old), triageEvent(triageSpec{Type: "OldError", Value: "seen for weeks", User: "u2"}))
	waitForTotal(t, a, 2)
	same := triageSpec{Type: "SameSizeError", Value: "as many events, newer", User: "u3", At: time.Now().Add(-time.Hour)}
	postException(t, s, s.Token, triageEvent(same), triageEvent(triageSpec{Type: "SameSizeError", Value: "as many events, newer", User: "u3"}))
	postException(t, s, s.Token, triageEvent(triageSpec{Type: "NewError", Value: "just once", User: "u4"}))
	byName := waitForTotal(t, a, 5)
	oldID, sameID, newID := fmt.Sprint(byName["OldError"].ID), fmt.Sprint(byName["SameSizeError"].ID), fmt.Sprint(byName["NewError"].ID)

	pick := func(ids ...string) string {
		t.Helper()
		bulk := bulkForm(t, b, "/issues")
		bulk.Set("action", "merge")
		bulk["ids"] = ids
		confirm := b.postForm(t, "/issues/bulk", bulk)
		mf, ok := findForm(t, confirm.Body, func(f form) bool { return f.Action == "/issues/merge" })
		if confirm.Status != http.StatusOK || !ok {
			t.Fatalf("bulk merge %v: %d %s", ids, confirm.Status, truncate(pageText(t, confirm.Body), 300))
		}
		return mf.Fields.Get("into")
	}
	if got := pick(newID, oldID); got != oldID {
		t.Errorf("ticked new (1 event) then old (2 events): keeps %s, want the old issue %s", got, oldID)
	}
	if got := pick(newID, sameID, oldID); got != oldID {
		t.Errorf("ticked new, same-size newer, old: keeps %s, want the old issue %s (as many events as %s, seen first)", got, oldID, sameID)
	}
	if got := pick(newID, sameID); got != sameID {
		t.Errorf("ticked new then same-size: keeps %s, want %s (more events)", got, sameID)
	}
}

var barRE = regexp.MustCompile(`<rect class="bar[^"]*" x="[^"]*" y="[^"]*" width="[^"]*" height="[^"]*" data-count="(\d+)">`)

// chartCounts reads the issue page's occurrences chart: one count per bar.
func chartCounts(t *testing.T, body string) []int {
	t.Helper()
	_, chart, ok := strings.Cut(body, `<svg class="bars"`)
	if !ok {
		t.Fatalf("no occurrences chart on the page")
	}
	chart, _, _ = strings.Cut(chart, "</svg>")
	var out []int
	for _, m := range barRE.FindAllStringSubmatch(chart, -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}

// bucketsMatch compares a chart with the counts expected at the moment
// the events were sent; a bucket edge passing before the page was drawn
// shifts every bar one bucket older, which is the same distribution.
func bucketsMatch(got, want []int) bool {
	if slices.Equal(got, want) {
		return true
	}
	shifted := append(slices.Clone(want[1:]), 0)
	return want[0] == 0 && slices.Equal(got, shifted)
}

// TestTriageIssuePage checks the issue page on a seeded distribution: the
// chart has one bar per bucket for each range with the events where they
// happened, top values, stepping through events (each with its own stack),
// editing, assigning, and the API's PATCH of release and assignee.
func TestTriageIssuePage(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	b := newBrowser(t, s)
	b.login(t)
	now := time.Now()
	var sent []captureEvent
	for i, ago := range []time.Duration{40 * 24 * time.Hour, 10 * 24 * time.Hour, 3*24*time.Hour + time.Minute, 3 * 24 * time.Hour, 2 * time.Hour} {
		sent = append(sent, triageEvent(triageSpec{Type: "ChartError", Value: "bad bucket", Fingerprint: "chart-group",
			Function: fmt.Sprintf("step%d", i), File: "src/chart.js", User: fmt.Sprintf("u%d", i%2),
			Release: []string{"1.0.0", "1.0.0", "1.1.0", "1.1.0", "1.1.0"}[i], URL: fmt.Sprintf("https://app.test/p/%d", i%2),
			At: now.Add(-ago)}))
	}
	postException(t, s, s.Token, sent...)
	is := waitForTotal(t, a, 5)["ChartError"]
	path := fmt.Sprintf("/issues/%d", is.ID)

	want24 := make([]int, 24)
	want24[23-2] = 1 // two whole hours before the newest bucket
	want30 := make([]int, 30)
	want30[29], want30[29-3], want30[29-10] = 1, 2, 1 // 40 days ago is outside
	for _, c := range []struct {
		query string
		bars  int
		want  []int
		total int
	}{
		{"", 24, want24, 1},
		{"?range=24h", 24, want24, 1},
		{"?range=7d", 28, nil, 3},
		{"?range=30d", 30, want30, 4},
	} {
		page := b.get(t, path+c.query)
		counts := chartCounts(t, page.Body)
		sum := 0
		for _, n := range counts {
			sum += n
		}
		if len(counts) != c.bars || sum != c.total || (c.want != nil && !bucketsMatch(counts, c.want)) {
			t.Errorf("chart %s: %d bars %v (sum %d), want %d bars %v (sum %d)", c.query, len(counts), counts, sum, c.bars, c.want, c.total)
		}
	}
	if got := b.get(t, path+"?range=1y"); got.Status != http.StatusBadRequest {
		t.Errorf("range=1y: %d, want 400", got.Status)
	}

	latest := b.get(t, path)
	for _, want := range []string{
		// Top values: release 1.1.0 has 3 of the 5 stored events.
		`<li class="value-row" title="1.1.0: 3 events">`, `width="60.00" height="6" data-count="3">`,
		`<li class="value-row" title="Chrome 120: 5 events">`,
	} {
		if !strings.Contains(latest.Body, want) {
			t.Errorf("issue page lacks %s", want)
		}
	}
	text := pageText(t, latest.Body)
	if !strings.Contains(text, "step4 in src/chart.js") || strings.Contains(text, "step3 in") {
		t.Errorf("the latest event's own stack (step4) is not the one shown")
	}
	// Step to the next older event: its own stack trace and properties.
	older := regexp.MustCompile(`<a class="btn btn-sm" href="(/issues/\d+/events/[^"]+)" rel="prev">`).FindStringSubmatch(latest.Body)
	if older == nil {
		t.Fatalf("no link to the older event")
	}
	prev := b.get(t, older[1])
	text = pageText(t, prev.Body)
	if prev.Status != http.StatusOK || !strings.Contains(text, "step3 in src/chart.js") || !strings.Contains(text, sent[3].UUID) {
		t.Errorf("GET %s: %d; want event %s with its stack (step3)", older[1], prev.Status, sent[3].UUID)
	}
	for _, rel := range []string{"first", "next", "last"} {
		if !strings.Contains(prev.Body, `rel="`+rel+`"`) {
			t.Errorf("the second newest event has no %s link", rel)
		}
	}
	if first := b.get(t, path+"?event="+sent[0].UUID); !strings.Contains(pageText(t, first.Body), "step0 in src/chart.js") ||
		strings.Contains(first.Body, `rel="first"`) || strings.Contains(first.Body, `rel="prev"`) {
		t.Errorf("the oldest event (?event=) shows the wrong stack or links before itself")
	}
	if got := b.get(t, path+"/events/not-a-uuid"); got.Status != http.StatusNotFound {
		t.Errorf("unknown event: %d, want 404", got.Status)
	}
	if n := strings.Count(latest.Body, `<a href="`+path+`/events/`); n != 5 {
		t.Errorf("event list links %d events, want 5", n)
	}

	// Edit the name and description; assign to the admin.
	if got := postIssueForm(t, b, path, path+"/edit", url.Values{"name": {"Chart bucketing"}, "description": {"off by one"}}); got.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", got.Status, truncate(pageText(t, got.Body), 200))
	}
	if got := postIssueForm(t, b, path, path+"/edit", url.Values{"name": {"  "}}); got.Status != http.StatusBadRequest {
		t.Errorf("empty name: %d, want 400", got.Status)
	}
	page := b.get(t, path)
	f, ok := findForm(t, page.Body, func(f form) bool { return f.Action == path+"/assignee" })
	if !ok {
		t.Fatal("no assignee form")
	}
	adminID := regexp.MustCompile(`<option value="(\d+)">` + regexp.QuoteMeta(adminEmail)).FindStringSubmatch(page.Body)
	if adminID == nil {
		t.Fatalf("the assignee select does not offer %s", adminEmail)
	}
	f.Fields.Set("assignee", adminID[1])
	if got := b.postForm(t, path+"/assignee", f.Fields); got.Status != http.StatusSeeOther {
		t.Fatalf("assign: %d", got.Status)
	}
	f.Fields.Set("assignee", "424242")
	if got := b.postForm(t, path+"/assignee", f.Fields); got.Status != http.StatusBadRequest {
		t.Errorf("assign to an unknown user: %d, want 400", got.Status)
	}
	is = getTriage(t, a, is.ID)
	if is.Name != "Chart bucketing" || is.Description != "off by one" || is.Assignee == nil || is.Assignee.Email != adminEmail {
		t.Errorf("after edit and assign: %+v", is)
	}
	text = pageText(t, b.get(t, path).Body)
	for _, want := range []string{adminEmail + " assigned it to " + adminEmail,
		adminEmail + " renamed it from “ChartError” to “Chart bucketing” and changed the description"} {
		if !strings.Contains(text, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	if row := issueRowHTML(t, b.get(t, "/issues").Body, is.ID); !strings.Contains(row, `<span class="assignee" title="Assignee">`+adminEmail) {
		t.Errorf("the list row does not show the assignee")
	}
	// The renamed issue is found by its new name, and still by its stack.
	if rows := listOrder(t, b, "/issues?q=bucketing"); len(rows) != 1 {
		t.Errorf("search for the new name: %v", rows)
	}
	if rows := listOrder(t, b, "/issues?q=step2+chart.js"); len(rows) != 1 {
		t.Errorf("search for a function of an older event: %v", rows)
	}

	// PATCH through the API: resolve in a release, unassign.
	var patched triageIssue
	err := a.do(t.Context(), http.MethodPatch, path, map[string]any{"status": "resolved", "resolved_in_release": "1.2.0", "assignee": nil}, &patched)
	if err != nil || patched.Status != "resolved" || patched.ResolvedInRelease == nil || *patched.ResolvedInRelease != "1.2.0" || patched.Assignee != nil {
		t.Errorf("PATCH resolved in 1.2.0, unassigned: %+v %v", patched, err)
	}
	err = a.do(t.Context(), http.MethodPatch, path, map[string]any{"assignee": adminEmail}, &patched)
	if err != nil || patched.Assignee == nil || patched.Assignee.Email != adminEmail {
		t.Errorf("PATCH assignee by email: %+v %v", patched, err)
	}
	if err := a.do(t.Context(), http.MethodPatch, path, map[string]any{"status": "active", "resolved_in_release": "1.2.0"}, nil); err == nil ||
		!strings.Contains(err.Error(), "400") {
		t.Errorf("resolved_in_release with status active: %v, want 400", err)
	}
	if err := a.do(t.Context(), http.MethodPatch, path, map[string]any{"assignee": "nobody@example.com"}, nil); err == nil ||
		!strings.Contains(err.Error(), "400") {
		t.Errorf("unknown assignee: %v, want 400", err)
	}
	if is = getTriage(t, a, is.ID); is.Status != "resolved" || is.Assignee == nil {
		t.Errorf("rejected PATCHes changed the issue: %+v", is)
	}
}
