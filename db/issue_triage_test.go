package db

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// triageEvent is an event with the properties triage looks at and a stack
// whose names search must find.
func triageEvent(uuid, fp string, ts time.Time, release, user, lib string) NewEvent {
	ev := newEvent(0, uuid, fp, ts)
	ev.Release, ev.DistinctID, ev.Lib = release, user, lib
	ev.URL, ev.Browser, ev.OS = "https://shop.test/cart", "Chrome 120", "Mac OS X"
	ev.Data = []byte(`{"exception_list":[{"type":"CheckoutError","value":"card declined for order 7","frames":[
		{"function":"Og","filename":"https://shop.test/app.js","resolution":{"resolved":true,"name":"chargeCard","source":"src/payments.js"}},
		{"function":"submitOrder","filename":"src/checkout.js"}]}]}`)
	return ev
}

func storeOne(t *testing.T, d *DB, ev NewEvent) Stored {
	t.Helper()
	got, err := d.StoreBatch(context.Background(), []NewEvent{ev}, nil)
	if err != nil {
		t.Fatalf("store %s: %v", ev.UUID, err)
	}
	return got[0]
}

func TestResolvedInReleaseReopensOnlyForThatReleaseOrNewer(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	id := storeOne(t, d, triageEvent("a", "fp", t0, "1.9.0", "u1", "posthog-node")).IssueID
	if err := d.ChangeIssueStatus(ctx, 1, id, StatusChange{Status: StatusResolved, ResolvedInRelease: "2.0.0", Actor: "dev@test"}); err != nil {
		t.Fatal(err)
	}
	if st := storeOne(t, d, triageEvent("b", "fp", t0.Add(time.Minute), "1.9", "u1", "posthog-node")); st.Regression {
		t.Fatalf("an event of release 1.9 reopened an issue resolved in 2.0.0: %+v", st)
	}
	is, _ := d.Issue(ctx, 1, id)
	if is.Status != StatusResolved || is.ResolvedInRelease != "2.0.0" || is.Occurrences != 2 || !is.RegressedAt.IsZero() {
		t.Fatalf("after a 1.9 event: %+v, want still resolved in 2.0.0 with 2 occurrences", is)
	}
	if st := storeOne(t, d, triageEvent("c", "fp", t0.Add(2*time.Minute), "2.0.1", "u2", "posthog-node")); !st.Regression {
		t.Fatalf("an event of release 2.0.1 did not reopen the issue: %+v", st)
	}
	is, _ = d.Issue(ctx, 1, id)
	if is.Status != StatusActive || is.RegressedAt.IsZero() || is.ResolvedInRelease != "" {
		t.Fatalf("after a 2.0.1 event: %+v, want active and regressed", is)
	}
	// Resolved without a release: an event without a release reopens too.
	if err := d.ChangeIssueStatus(ctx, 1, id, StatusChange{Status: StatusResolved, Actor: "dev@test"}); err != nil {
		t.Fatal(err)
	}
	if st := storeOne(t, d, triageEvent("d", "fp", t0.Add(3*time.Minute), "", "u2", "posthog-node")); !st.Regression {
		t.Fatalf("an event without release did not reopen: %+v", st)
	}
	timeline, err := d.IssueTimeline(ctx, 1, id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range timeline {
		got = append(got, fmt.Sprintf("%s %s %s→%s %s", a.Actor, a.Kind, a.From, a.To, a.Detail))
	}
	want := []string{
		"stacklens regression resolved→active ",
		"dev@test status active→resolved ",
		"stacklens regression resolved→active 2.0.1",
		"dev@test status active→resolved 2.0.0",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("timeline (newest first):\n%q\nwant\n%q", got, want)
	}
	// Suppressing records the change; events are then counted, not stored.
	if err := d.ChangeIssueStatus(ctx, 1, id, StatusChange{Status: StatusSuppressed, Actor: "dev@test"}); err != nil {
		t.Fatal(err)
	}
	if st := storeOne(t, d, triageEvent("e", "fp", t0.Add(4*time.Minute), "3.0", "u3", "posthog-node")); !st.Suppressed || st.Regression {
		t.Fatalf("event on a suppressed issue: %+v", st)
	}
	is, _ = d.Issue(ctx, 1, id)
	if is.Status != StatusSuppressed || is.Occurrences != 5 || is.UsersAffected != 2 {
		t.Fatalf("suppressed issue: %+v, want 5 occurrences, 2 users (the suppressed event's user not stored)", is)
	}
	// Setting the same status again is no change and no timeline entry.
	if err := d.ChangeIssueStatus(ctx, 1, id, StatusChange{Status: StatusSuppressed, Actor: "dev@test"}); err != nil {
		t.Fatal(err)
	}
	if again, _ := d.IssueTimeline(ctx, 1, id); len(again) != 5 {
		t.Fatalf("timeline has %d entries after a no-op, want 5", len(again))
	}
}

func TestCompareReleases(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.9", "2.0.0", -1}, {"2.0.1", "2.0.0", 1}, {"2.0", "2.0.0", 0}, {"v2.0.0", "2.0.0", 0},
		{"1.10.0", "1.9.3", 1}, {"2.0.0-rc.1", "2.0.0", -1}, {"2.0.0-rc.2", "2.0.0-rc.10", -1},
		{"2.0.0-alpha", "2.0.0-beta", -1}, {"2.0.0+build.7", "2.0.0", 0},
		{"abc123", "abd000", -1}, {"2024-05-01", "2024-06-01", -1},
	} {
		if got := CompareReleases(c.a, c.b); got != c.want {
			t.Errorf("CompareReleases(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestParseSearch(t *testing.T) {
	got := ParseSearch(`  Checkout "card   DECLINED" payments.js "unclosed phrase`)
	want := []string{"checkout", "card declined", "payments.js", "unclosed phrase"}
	if !slices.Equal(got, want) {
		t.Fatalf("ParseSearch = %q, want %q", got, want)
	}
}

// seedTriage stores three issues with distinct counts, users, releases and libraries.
func seedTriage(t *testing.T, d *DB) (checkout, search, old int64) {
	t.Helper()
	now := time.Now().Truncate(time.Millisecond)
	var batch []NewEvent
	// checkout: 3 events, 1 user, release 2.0.0, posthog-js, last seen 10 minutes ago.
	for i := range 3 {
		batch = append(batch, triageEvent(fmt.Sprintf("co%d", i), "fp-checkout", now.Add(-time.Duration(40-i*15)*time.Minute), "2.0.0", "u1", "posthog-js"))
	}
	// search: 2 events, 2 users, release 1.0.0, posthog-node, last seen 1 minute ago, first seen 2 hours ago.
	for i, at := range []time.Duration{2 * time.Hour, time.Minute} {
		ev := triageEvent(fmt.Sprintf("se%d", i), "fp-search", now.Add(-at), "1.0.0", fmt.Sprintf("u%d", i+2), "posthog-node")
		ev.IssueName, ev.IssueDescription = "TimeoutError", "search backend timed out"
		ev.Data = []byte(`{"exception_list":[{"type":"TimeoutError","value":"search backend timed out","frames":[{"function":"querySearch","filename":"lib/search.py"}]}]}`)
		batch = append(batch, ev)
	}
	// old: 1 event three days ago, no user.
	ev := triageEvent("old", "fp-old", now.Add(-72*time.Hour), "0.9", "", "posthog-node")
	ev.IssueName, ev.IssueDescription = "KeyError", "missing key"
	ev.Data = []byte(`{"exception_list":[{"type":"KeyError","value":"missing key","frames":[{"function":"load","filename":"lib/config.py"}]}]}`)
	batch = append(batch, ev)
	got, err := d.StoreBatch(context.Background(), batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	return got[0].IssueID, got[3].IssueID, got[5].IssueID
}

func listIDs(t *testing.T, d *DB, q IssueQuery) []int64 {
	t.Helper()
	q.ProjectID = 1
	page, err := d.ListIssues(context.Background(), q)
	if err != nil {
		t.Fatalf("list %+v: %v", q, err)
	}
	var ids []int64
	for _, is := range page.Issues {
		ids = append(ids, is.ID)
	}
	if page.Total < len(ids) {
		t.Fatalf("total %d < %d rows", page.Total, len(ids))
	}
	return ids
}

func TestListIssuesSearchFiltersAndSorts(t *testing.T) {
	d := openTest(t)
	checkout, search, old := seedTriage(t, d)
	for _, c := range []struct {
		name string
		q    IssueQuery
		want []int64
	}{
		{"default order is last seen", IssueQuery{}, []int64{search, checkout, old}},
		{"first seen", IssueQuery{Sort: SortFirstSeen}, []int64{checkout, search, old}},
		{"occurrences", IssueQuery{Sort: SortOccurrences}, []int64{checkout, search, old}},
		{"users affected", IssueQuery{Sort: SortUsers}, []int64{search, checkout, old}},
		{"search by resolved function name", IssueQuery{Search: "chargecard"}, []int64{checkout}},
		{"search by raw function and file", IssueQuery{Search: "submitOrder checkout.js"}, []int64{checkout}},
		{"every word must match", IssueQuery{Search: "timeout checkout"}, nil},
		{"quoted phrase", IssueQuery{Search: `"backend timed out"`}, []int64{search}},
		{"phrase words out of order do not match", IssueQuery{Search: `"timed backend"`}, nil},
		{"search by file name", IssueQuery{Search: "config.py"}, []int64{old}},
		{"search by type", IssueQuery{Search: "KeyError"}, []int64{old}},
		{"LIKE wildcards are literal", IssueQuery{Search: "%"}, nil},
		{"release", IssueQuery{Release: "1.0.0"}, []int64{search}},
		{"library", IssueQuery{Lib: "posthog-node"}, []int64{search, old}},
		{"since a day ago", IssueQuery{Since: time.Now().Add(-24 * time.Hour)}, []int64{search, checkout}},
		{"status", IssueQuery{Status: StatusResolved}, nil},
	} {
		if got := listIDs(t, d, c.q); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestListIssuesKeysetPagesEverySort(t *testing.T) {
	d := openTest(t)
	checkout, search, old := seedTriage(t, d)
	want := map[string][]int64{
		SortLastSeen: {search, checkout, old}, SortFirstSeen: {checkout, search, old},
		SortOccurrences: {checkout, search, old}, SortUsers: {search, checkout, old},
	}
	for sort, order := range want {
		var got []int64
		q := IssueQuery{ProjectID: 1, Sort: sort, Limit: 1}
		for range 5 {
			page, err := d.ListIssues(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			for _, is := range page.Issues {
				got = append(got, is.ID)
			}
			if !page.HasMore {
				break
			}
			c := CursorOf(sort, page.Issues[0])
			q.After = ParseIssueCursor(sort, c.Format(sort))
		}
		if !slices.Equal(got, order) {
			t.Errorf("sort %s paged one at a time: %v, want %v", sort, got, order)
		}
		// And back: the page before the last row is the one before it.
		last := IssueQuery{ProjectID: 1, Sort: sort, Limit: 1, Before: ParseIssueCursor(sort, CursorOf(sort, mustIssue(t, d, order[2])).Format(sort))}
		page, err := d.ListIssues(context.Background(), last)
		if err != nil || len(page.Issues) != 1 || page.Issues[0].ID != order[1] {
			t.Errorf("sort %s: page before %d = %+v (%v), want %d", sort, order[2], page.Issues, err, order[1])
		}
	}
}

func mustIssue(t *testing.T, d *DB, id int64) Issue {
	t.Helper()
	is, err := d.Issue(context.Background(), 1, id)
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func TestMergeMovesFingerprintsAndKeepsTriageData(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	checkout, search, _ := seedTriage(t, d)
	n, err := d.MergeIssuesBy(ctx, 1, checkout, []int64{search}, "dev@test")
	if err != nil || n != 1 {
		t.Fatalf("merge: %d, %v", n, err)
	}
	if _, err := d.Issue(ctx, 1, search); err != ErrNotFound {
		t.Fatalf("merged issue still exists: %v", err)
	}
	is := mustIssue(t, d, checkout)
	if is.Occurrences != 5 || is.UsersAffected != 3 {
		t.Fatalf("merged issue: %+v, want 5 occurrences and 3 users", is)
	}
	// A new event with the merged issue's fingerprint lands in the target.
	st := storeOne(t, d, triageEvent("after", "fp-search", time.Now(), "1.0.0", "u9", "posthog-node"))
	if st.IssueID != checkout || st.NewIssue {
		t.Fatalf("event after merge: %+v, want issue %d", st, checkout)
	}
	if got := listIDs(t, d, IssueQuery{Search: `"backend timed out"`}); !slices.Equal(got, []int64{checkout}) {
		t.Fatalf("search for the merged issue's message: %v, want [%d]", got, checkout)
	}
	if got := listIDs(t, d, IssueQuery{Release: "1.0.0"}); !slices.Equal(got, []int64{checkout}) {
		t.Fatalf("release filter after merge: %v", got)
	}
	releases, err := d.IssueReleases(ctx, 1, checkout)
	if err != nil || len(releases) != 2 || releases[0].Value != "2.0.0" || releases[1].Count != 3 {
		t.Fatalf("releases: %+v %v, want 2.0.0 then 1.0.0 (3 events)", releases, err)
	}
	timeline, err := d.IssueTimeline(ctx, 1, checkout)
	if err != nil || len(timeline) != 1 || timeline[0].Kind != ActivityMerge || timeline[0].Actor != "dev@test" ||
		timeline[0].MergedIssueID != search || timeline[0].Detail != "TimeoutError" {
		t.Fatalf("timeline after merge: %+v %v", timeline, err)
	}
	if _, err := d.MergeIssuesBy(ctx, 1, checkout, []int64{search}, "dev@test"); err == nil {
		t.Fatal("merging an issue that no longer exists succeeded")
	}
}

func TestOccurrenceBuckets(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	now := time.Now()
	b := BucketsEndingAt(now, time.Hour, 24)
	// 3 events in the newest hour, 1 five hours before it, 1 outside the range.
	var batch []NewEvent
	for i, at := range []time.Time{b.End().Add(-time.Minute), b.End().Add(-2 * time.Minute), b.End().Add(-3 * time.Minute),
		b.End().Add(-5*time.Hour - time.Minute), b.Start.Add(-time.Minute)} {
		batch = append(batch, triageEvent(fmt.Sprintf("e%d", i), "fp", at, "", "", ""))
	}
	got, err := d.StoreBatch(ctx, batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := d.IssueOccurrences(ctx, 1, got[0].IssueID, b, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int64, 24)
	want[23], want[18] = 3, 1
	if !slices.Equal(counts, want) {
		t.Fatalf("buckets %v, want %v", counts, want)
	}
}

func TestEventNeighbors(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var batch []NewEvent
	for i := range 4 {
		batch = append(batch, triageEvent(fmt.Sprintf("n%d", i), "fp", t0.Add(time.Duration(i)*time.Minute), "", "", ""))
	}
	got, err := d.StoreBatch(ctx, batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := got[0].IssueID
	e, err := d.IssueEvent(ctx, 1, id, "n1")
	if err != nil {
		t.Fatal(err)
	}
	n, err := d.IssueEventNeighbors(ctx, 1, id, e, EventFilter{})
	if err != nil || n != (EventNeighbors{First: "n0", Previous: "n0", Next: "n2", Latest: "n3"}) {
		t.Fatalf("neighbors of n1: %+v %v", n, err)
	}
	list, more, err := d.IssueEventSummaries(ctx, 1, id, &EventCursor{Timestamp: e.Timestamp, ID: e.ID}, 10, EventFilter{})
	if err != nil || more || len(list) != 1 || list[0].UUID != "n0" || list[0].URL != "https://shop.test/cart" {
		t.Fatalf("events after n1: %+v %v %v", list, more, err)
	}
	if _, err := d.IssueEvent(ctx, 1, id+1, "n1"); err != ErrNotFound {
		t.Fatalf("event of another issue: %v", err)
	}
}
