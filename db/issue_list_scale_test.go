package db

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/internal/testkit"
)

// eventsOccurrences counts an issue's stored events per bucket straight from
// the events table: what the hourly counts must always add up to.
func eventsOccurrences(t *testing.T, d *DB, issueID int64, b Buckets) []int64 {
	t.Helper()
	out := make([]int64, b.N)
	rows, err := d.read.Query("SELECT timestamp FROM events WHERE issue_id = ?", issueID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var ts int64
		rows.Scan(&ts)
		if at := fromMillis(ts); !at.Before(b.Start) && at.Before(b.End()) {
			out[at.Sub(b.Start)/b.Step]++
		}
	}
	return out
}

func TestHourlyCountsFollowEventsThroughMerges(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	now := time.Now()
	var batch []NewEvent
	for i := range 40 {
		fp := fmt.Sprint("fp-", i%3)
		batch = append(batch, triageEvent(fmt.Sprint("h", i), fp, now.Add(-time.Duration(i*97)*time.Minute), "1.0", "u", "posthog-js"))
	}
	// A duplicate counts nothing, on the issue or in its hours.
	batch = append(batch, triageEvent("h0", "fp-0", now, "1.0", "u", "posthog-js"))
	stored, err := d.StoreBatch(ctx, batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	issues := []int64{stored[0].IssueID, stored[1].IssueID, stored[2].IssueID}
	spans := []Buckets{BucketsEndingAt(now, time.Hour, 24), BucketsEndingAt(now, 24*time.Hour, 14), BucketsEndingAt(now, 6*time.Hour, 28)}
	check := func(when string, ids []int64) {
		t.Helper()
		for _, b := range spans {
			got, err := d.IssuesOccurrences(ctx, 1, ids, b, EventFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				want := eventsOccurrences(t, d, id, b)
				if g := got[id]; g == nil && slices.Max(want) > 0 || g != nil && !slices.Equal(g, want) {
					t.Errorf("%s: issue %d, buckets of %s: %v, the events say %v", when, id, b.Step, g, want)
				}
			}
		}
	}
	check("stored", issues)
	if _, err := d.MergeIssues(ctx, 1, issues[0], issues[1:]); err != nil {
		t.Fatal(err)
	}
	check("merged", issues[:1])
	var left int64
	d.read.QueryRow("SELECT count(*) FROM issue_hourly WHERE issue_id != ?", issues[0]).Scan(&left)
	if left != 0 {
		t.Errorf("%d hourly rows left on merged issues", left)
	}
	// Another project's issue id gets nothing.
	if got, _ := d.IssuesOccurrences(ctx, 2, issues[:1], spans[0], EventFilter{}); len(got) != 0 {
		t.Errorf("project 2 sees issue %d's counts: %v", issues[0], got)
	}
}

func TestSearchIndexFollowsRenamesMergesAndNewText(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	checkout, search, old := seedTriage(t, d)
	find := func(q string) []int64 { return listIDs(t, d, IssueQuery{Search: q}) }
	if got := find("backend timed"); !slices.Equal(got, []int64{search}) {
		t.Fatalf("search before any change: %v", got)
	}
	if got := find("capacitor"); got != nil {
		t.Fatalf("search before the rename: %v", got)
	}
	if err := d.UpdateIssueText(ctx, 1, old, "ConfigurationMissing", "the flux capacitor"); err != nil {
		t.Fatal(err)
	}
	if got := find("capacitor"); !slices.Equal(got, []int64{old}) {
		t.Errorf("search for the new description: %v", got)
	}
	if err := d.AddSearchText(ctx, 1, checkout, []byte(`{"exception_list":[{"type":"X","frames":[{"function":"renderBasketTotals"}]}]}`)); err != nil {
		t.Fatal(err)
	}
	if got := find("basketTotals"); !slices.Equal(got, []int64{checkout}) {
		t.Errorf("search for text added later: %v", got)
	}
	if _, err := d.MergeIssuesBy(ctx, 1, checkout, []int64{search}, "a@x.test"); err != nil {
		t.Fatal(err)
	}
	if got := find("backend timed"); !slices.Equal(got, []int64{checkout}) {
		t.Errorf("search after the merge: %v (want the kept issue %d)", got, checkout)
	}
	// Terms too short for trigrams still match, through the LIKE alone.
	if got := find("ca"); !slices.Contains(got, old) {
		t.Errorf("two-letter search: %v", got)
	}
	if got := find(`"flux ca"`); !slices.Equal(got, []int64{old}) {
		t.Errorf("phrase search: %v", got)
	}
	if err := d.UpdateIssueText(ctx, 1, old, "ÜberweisungFehler", "the flux capacitor"); err != nil {
		t.Fatal(err)
	}
	if got := find("überweisung"); !slices.Equal(got, []int64{old}) {
		t.Errorf("search ignoring the case of a non-ASCII letter: %v", got)
	}
}

// TestIssueListPlansUseIndexes checks with EXPLAIN QUERY PLAN that the
// list's unfiltered queries (each order, with and without a status, the
// count, the sparklines, a search) never scan the issues or events table
// and never sort: at a million events a scan is seconds.
func TestIssueListPlansUseIndexes(t *testing.T) {
	testkit.SQLiteOnly(t, "reads SQLite query plans")
	d := openTest(t)
	seedTriage(t, d)
	explain := func(query string, args ...any) string {
		t.Helper()
		rows, err := d.read.Query("EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var id, parent, unused int
			var detail string
			rows.Scan(&id, &parent, &unused, &detail)
			b.WriteString(detail + "\n")
		}
		return b.String()
	}
	forEachIssueListQuery(d, func(q IssueQuery, sql string, args []any) {
		plan := explain(sql, args...)
		if strings.Contains(plan, "SCAN i\n") || strings.Contains(plan, "SCAN i ") || strings.Contains(plan, "SCAN events") ||
			(q.Search == "" && strings.Contains(plan, "TEMP B-TREE")) {
			t.Errorf("%+v: %s\n%s", q, sql, plan)
		}
	})
	b := BucketsEndingAt(time.Now(), time.Hour, 24)
	plan := explain(`SELECT h.issue_id, (h.hour - ?) / ? AS bucket, sum(h.count) FROM issue_hourly h
		WHERE h.issue_id IN (SELECT id FROM issues WHERE project_id = ? AND id IN (?, ?))
		AND h.hour >= ? AND h.hour < ? GROUP BY h.issue_id, bucket`, millis(b.Start), int64(3600000), 1, 1, 2, millis(b.Start), millis(b.End()))
	if strings.Contains(plan, "SCAN") {
		t.Errorf("sparkline plan scans:\n%s", plan)
	}
}

// TestOneBatchCountsLikeOneEventAtATime stores the same events once as one
// batch and once an event per batch: the issues' counters, value counts,
// hourly counts and search text must come out the same.
func TestOneBatchCountsLikeOneEventAtATime(t *testing.T) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	var events []NewEvent
	for i := range 30 {
		ev := triageEvent(fmt.Sprint("b", i), fmt.Sprint("fp-", i%4), now.Add(-time.Duration(i*53)*time.Minute),
			fmt.Sprint("1.", i%3), fmt.Sprint("u", i%5), "posthog-js")
		ev.Data = []byte(fmt.Sprintf(`{"exception_list":[{"type":"E%d","value":"message %d","frames":[{"function":"f%d"}]}]}`, i%4, i%7, i%2))
		if i%3 == 0 {
			ev.SearchTerms = SearchTerms(event.Event{Exceptions: []event.Exception{{Type: fmt.Sprint("E", i%4), Value: fmt.Sprint("message ", i%7),
				Frames: []event.Frame{{Function: fmt.Sprint("f", i%2)}}}}})
		}
		events = append(events, ev)
	}
	snapshot := func(d *DB) string {
		var b strings.Builder
		for _, q := range []string{
			"SELECT id, occurrences, users_affected, first_seen, last_seen, search_text FROM issues ORDER BY id",
			"SELECT issue_id, key, value, count, first_seen, last_seen FROM issue_values ORDER BY 1, 2, 3",
			"SELECT issue_id, hour, count FROM issue_hourly ORDER BY 1, 2",
		} {
			rows, err := d.read.Query(q)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				rows.Scan(ptrs...)
				fmt.Fprintln(&b, vals...)
			}
			rows.Close()
		}
		return b.String()
	}
	together := openTest(t)
	if _, err := together.StoreBatch(ctx, events, nil); err != nil {
		t.Fatal(err)
	}
	apart := openTest(t)
	for _, ev := range events {
		if _, err := apart.StoreBatch(ctx, []NewEvent{ev}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := snapshot(together), snapshot(apart); a != b {
		t.Errorf("one batch:\n%s\none event per batch:\n%s", a, b)
	}
	if got := listIDs(t, together, IssueQuery{Search: "message 6"}); len(got) == 0 {
		t.Error("search for a batch's text finds nothing")
	}
}

func TestSearchTermsOfAnEventMatchItsStoredForm(t *testing.T) {
	ev := event.Event{Exceptions: []event.Exception{{Type: "TypeError", Value: "  x is\tnot a function ",
		Frames: []event.Frame{{Function: "Og", Filename: "app.js", AbsPath: "http://h/app.js", Module: "?",
			Resolution: &event.Resolution{Name: "handleClick", Source: "src/App.tsx"}}}}}}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := SearchTerms(ev), searchTerms(data); !slices.Equal(got, want) || len(got) != 7 {
		t.Errorf("SearchTerms = %q, from the stored JSON %q", got, want)
	}
}

// TestRawEventsStoredCompressedReadAsSent stores an event, checks its raw
// form is kept compressed and comes back byte for byte, and that a row
// stored uncompressed (before compression) still reads.
func TestRawEventsStoredCompressedReadAsSent(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	raw := []byte(`{"event":"$exception","properties":{"$current_url":"https://shop.test/checkout","pad":"` + strings.Repeat("abc", 400) + `"}}`)
	ev := triageEvent("raw-1", "fp-raw", time.Now(), "1", "u", "posthog-js")
	ev.Raw = raw
	st, err := d.StoreBatch(ctx, []NewEvent{ev}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var stored []byte
	if err := d.read.QueryRow("SELECT raw FROM events WHERE uuid = 'raw-1'").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if len(stored) >= len(raw)/2 || !strings.HasPrefix(string(stored), string(zstdMagic)) {
		t.Errorf("raw stored as %d bytes (sent %d), not compressed", len(stored), len(raw))
	}
	mustExecDB(t, d, "UPDATE events SET raw = ? WHERE uuid = 'raw-1'", []byte(`{"old":true}`))
	ev2 := triageEvent("raw-2", "fp-raw", time.Now(), "1", "u", "posthog-js")
	ev2.Raw = raw
	if _, err := d.StoreBatch(ctx, []NewEvent{ev2}, nil); err != nil {
		t.Fatal(err)
	}
	events, err := d.IssueEvents(ctx, 1, st[0].IssueID, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range events {
		got[e.UUID] = string(e.Raw)
	}
	if got["raw-2"] != string(raw) || got["raw-1"] != `{"old":true}` {
		t.Errorf("raw events read back: %q", got)
	}
}

func mustExecDB(t *testing.T, d *DB, q string, args ...any) {
	t.Helper()
	if _, err := d.write.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

// TestIssueListPlansUseIndexesOnPostgres is TestIssueListPlansUseIndexes for
// PostgreSQL's planner. With sequential scans and sorts priced out (a test
// database is too small for the planner to prefer an index on its own), the
// list's queries must find an index for every filter and sort: none may
// scan the issues or events table or sort the issues.
func TestIssueListPlansUseIndexesOnPostgres(t *testing.T) {
	ctx := context.Background()
	d, err := OpenPostgres(ctx, testkit.PostgresDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.EnsureDefaultProject(ctx, "phc_test", "phc_generated"); err != nil {
		t.Fatal(err)
	}
	seedTriage(t, d)
	conn, err := d.read.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, set := range []string{"SET enable_seqscan = off", "SET enable_sort = off"} {
		if _, err := conn.ExecContext(ctx, set); err != nil {
			t.Fatal(err)
		}
	}
	explain := func(query string, args ...any) string {
		t.Helper()
		rows, err := conn.QueryContext(ctx, "EXPLAIN "+Rebind(query), args...)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var line string
			rows.Scan(&line)
			b.WriteString(line + "\n")
		}
		return b.String()
	}
	forEachIssueListQuery(d, func(q IssueQuery, sql string, args []any) {
		plan := explain(sql, args...)
		if strings.Contains(plan, "Seq Scan on issues") || strings.Contains(plan, "Seq Scan on events") || strings.Contains(plan, "Sort  (") {
			t.Errorf("%+v: %s\n%s", q, sql, plan)
		}
	})
}

// forEachIssueListQuery calls check with each query the issue list runs
// (a page and its count) for every status, sort and a search.
func forEachIssueListQuery(d *DB, check func(q IssueQuery, sql string, args []any)) {
	for _, q := range []IssueQuery{
		{Status: StatusActive}, {Status: StatusActive, Sort: SortOccurrences}, {Status: StatusActive, Sort: SortUsers},
		{Status: StatusActive, Sort: SortFirstSeen}, {Status: "all"}, {Status: "all", Sort: SortOccurrences},
		{Status: "all", Sort: SortUsers}, {Status: "all", Sort: SortFirstSeen},
		{Status: StatusActive, Search: "payment declined"}, {Status: StatusActive, Sort: SortOccurrences, Search: "checkout"},
	} {
		q.ProjectID = 1
		where, args := q.filter(d.dialect.sql)
		order := sortColumn(q.Sort) + " DESC, i.id DESC"
		check(q, "SELECT i.id"+issueFrom+"WHERE "+where+" ORDER BY "+order+" LIMIT 51", args)
		check(q, "SELECT count(*) FROM issues i WHERE "+where, args)
	}
}
