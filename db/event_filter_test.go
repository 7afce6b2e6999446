package db

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/internal/testkit"
)

func explain(t *testing.T, d *DB, query string, args ...any) string {
	t.Helper()
	rows, err := d.read.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "\n")
}

// TestEventFilterCountsTheEventsItKeeps: counts, users, buckets, the latest
// event, the event list, its neighbours and the top values of an issue
// under a release, environment or tag filter are those of the events kept.
func TestEventFilterCountsTheEventsItKeeps(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	ev := func(uuid, release, user string, at time.Time, env string) NewEvent {
		e := envEvent(uuid, "fp", at, env, map[string]string{"route": "/" + release})
		e.Release, e.DistinctID, e.URL = release, user, "https://shop.test/"+release
		return e
	}
	got, err := d.StoreBatch(ctx, []NewEvent{
		ev("a", "1.0.0", "u1", now.Add(-5*time.Minute), "production"),
		ev("b", "2.0.0", "u2", now.Add(-4*time.Minute), "staging"),
		ev("c", "1.0.0", "u3", now.Add(-3*time.Minute), "production"),
		ev("d", "2.0.0", "u2", now.Add(-2*time.Minute), "production"),
		ev("e", "2.0.0", "", now.Add(-time.Minute), "production"),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := got[0].IssueID
	for _, c := range []struct {
		f              EventFilter
		events, users  int64
		latest, oldest string
	}{
		{EventFilter{}, 5, 3, "e", "a"},
		{EventFilter{Release: "1.0.0"}, 2, 2, "c", "a"},
		{EventFilter{Release: "2.0.0"}, 3, 1, "e", "b"},
		{EventFilter{Environment: "staging"}, 1, 1, "b", "b"},
		{EventFilter{TagKey: "route", TagValue: "/1.0.0"}, 2, 2, "c", "a"},
		{EventFilter{TagKey: "route"}, 5, 3, "e", "a"},
		{EventFilter{Release: "2.0.0", Since: now.Add(-150 * time.Second)}, 2, 1, "e", "d"},
		{EventFilter{Release: "3.0.0"}, 0, 0, "", ""},
	} {
		counts, err := d.IssuesEventCounts(ctx, 1, []int64{id}, c.f)
		if err != nil {
			t.Fatal(err)
		}
		if counts[id].Events != c.events || counts[id].Users != c.users {
			t.Errorf("%+v: %+v, want %d events by %d users", c.f, counts[id], c.events, c.users)
		}
		b := BucketsEndingAt(now, time.Hour, 2)
		buckets, err := d.IssueOccurrences(ctx, 1, id, b, c.f)
		if err != nil || buckets[0]+buckets[1] != c.events {
			t.Errorf("%+v: buckets %v (%v), want %d in all", c.f, buckets, err, c.events)
		}
		latest, err := d.LatestIssueEvent(ctx, 1, id, c.f)
		if latest.UUID != c.latest || (c.latest == "" && err != ErrNotFound) {
			t.Errorf("%+v: latest %q (%v), want %q", c.f, latest.UUID, err, c.latest)
		}
		list, _, err := d.IssueEventSummaries(ctx, 1, id, nil, 10, c.f)
		if err != nil || int64(len(list)) != c.events {
			t.Errorf("%+v: %d events listed (%v), want %d", c.f, len(list), err, c.events)
		}
		if c.latest != "" {
			n, err := d.IssueEventNeighbors(ctx, 1, id, latest, c.f)
			if err != nil || (n.First != c.oldest && !(c.oldest == c.latest && n.First == "")) {
				t.Errorf("%+v: neighbours of %s %+v (%v), want the first %q", c.f, latest.UUID, n, err, c.oldest)
			}
		}
		top, total, err := d.FilteredTopValues(ctx, 1, id, ValueURL, 5, c.f)
		if err != nil || total != c.events || (c.f.Release != "" && c.events > 0 && (len(top) != 1 || top[0].Value != "https://shop.test/"+c.f.Release)) {
			t.Errorf("%+v: top URLs %+v of %d (%v)", c.f, top, total, err)
		}
	}
}

// TestFilteredCountsReadOnlyThePageIssuesEvents: counting under a filter
// reaches the page's issues' events through events_issue_time, never by
// scanning the events table; unfiltered, the list's own queries read no
// events at all (the issues' counters answer).
func TestFilteredCountsReadOnlyThePageIssuesEvents(t *testing.T) {
	testkit.SQLiteOnly(t, "reads SQLite query plans")
	d := openTest(t)
	for _, f := range []EventFilter{{Release: "1.0.0"}, {Environment: "production"}, {TagKey: "route", TagValue: "/cart"}, {Since: time.Now()}} {
		query, args := eventCountsQuery(&sqliteSQL, 1, []int64{1, 2, 3}, f)
		plan := explain(t, d, query, args...)
		if !strings.Contains(plan, "events_issue_time") || strings.Contains(plan, "SCAN events") {
			t.Errorf("counting under %+v does not go through events_issue_time:\n%s", f, plan)
		}
	}
	where, args := IssueQuery{ProjectID: 1, Status: StatusActive}.filter(&sqliteSQL)
	if plan := explain(t, d, "SELECT i.id FROM issues i WHERE "+where+" ORDER BY i.last_seen DESC, i.id DESC LIMIT 51", args...); strings.Contains(plan, "events") {
		t.Errorf("the unfiltered list reads events:\n%s", plan)
	}
	if (IssueQuery{ProjectID: 1, Status: StatusActive, Search: "boom", Sort: SortUsers}).Events().Any() {
		t.Errorf("search, status and sort alone count events under a filter: the unfiltered counters must answer")
	}
}

// TestFilteredEventQueriesUseTheIssueTimeIndex: sparklines and an issue
// page's events under a filter go through events_issue_time as the
// unfiltered queries do; a filter only adds conditions on the rows found.
func TestFilteredEventQueriesUseTheIssueTimeIndex(t *testing.T) {
	testkit.SQLiteOnly(t, "reads SQLite query plans")
	d := openTest(t)
	for _, f := range []EventFilter{{}, {Release: "1.0.0"}, {TagKey: "route"}} {
		cond, condArgs := f.where(&sqliteSQL)
		args := append([]any{0, 1, 1, 0, 10, 1, 2}, condArgs...)
		spark := explain(t, d, `SELECT issue_id, (timestamp - ?) / ? AS bucket, count(*) FROM events
		WHERE project_id = ? AND timestamp >= ? AND timestamp < ? AND issue_id IN (?,?)`+cond+`
		GROUP BY issue_id, bucket`, args...)
		latest := explain(t, d, "SELECT "+storedEventColumns+" FROM events WHERE project_id = ? AND issue_id = ?"+cond+
			" ORDER BY timestamp DESC, id DESC LIMIT 1", append([]any{1, 1}, condArgs...)...)
		for name, plan := range map[string]string{"sparklines": spark, "latest event": latest} {
			if !strings.Contains(plan, "events_issue_time") || strings.Contains(plan, "SCAN events") {
				t.Errorf("%s under %+v do not go through events_issue_time:\n%s", name, f, plan)
			}
		}
	}
}
