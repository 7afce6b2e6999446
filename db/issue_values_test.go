package db

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stacklens/stacklens/internal/testkit"
)

// envEvent is an event of a Sentry SDK with an environment and tags, its
// JSON as the pipeline stores it (event.Event).
func envEvent(uuid, fp string, ts time.Time, env string, tags map[string]string) NewEvent {
	ev := newEvent(0, uuid, fp, ts)
	ev.Environment, ev.Tags = env, tags
	data := `{"environment":"` + env + `","tags":{`
	first := true
	for k, v := range tags {
		if !first {
			data += ","
		}
		first = false
		data += `"` + k + `":"` + v + `"`
	}
	ev.Data = []byte(data + "}}")
	return ev
}

func TestListIssuesFiltersByEnvironmentAndTag(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	got, err := d.StoreBatch(ctx, []NewEvent{
		envEvent("p1", "fp-prod", now.Add(-3*time.Minute), "production", map[string]string{"route": "/cart", "region": "eu"}),
		envEvent("p2", "fp-prod", now.Add(-2*time.Minute), "staging", map[string]string{"route": "/checkout"}),
		envEvent("s1", "fp-stage", now.Add(-time.Minute), "staging", map[string]string{"route": "https://shop.test:8443/cart"}),
		envEvent("n1", "fp-none", now, "", nil),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	prod, stage, none := got[0].IssueID, got[2].IssueID, got[3].IssueID
	for _, c := range []struct {
		name string
		q    IssueQuery
		want []int64
	}{
		{"no filter", IssueQuery{}, []int64{none, stage, prod}},
		{"production", IssueQuery{Environment: "production"}, []int64{prod}},
		{"staging: an issue with an event of it", IssueQuery{Environment: "staging"}, []int64{stage, prod}},
		{"unknown environment", IssueQuery{Environment: "dev"}, nil},
		{"tag value", IssueQuery{TagKey: "route", TagValue: "/cart"}, []int64{prod}},
		{"tag value with colons", IssueQuery{TagKey: "route", TagValue: "https://shop.test:8443/cart"}, []int64{stage}},
		{"any value of a tag", IssueQuery{TagKey: "region"}, []int64{prod}},
		{"environment and tag", IssueQuery{Environment: "staging", TagKey: "route", TagValue: "/checkout"}, []int64{prod}},
		{"environment and another's tag", IssueQuery{Environment: "production", TagKey: "route", TagValue: "https://shop.test:8443/cart"}, nil},
	} {
		if got := listIDs(t, d, c.q); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	envs, err := d.ProjectValues(ctx, 1, ValueEnvironment)
	if err != nil || !slices.Equal(envs, []string{"production", "staging"}) {
		t.Errorf("environments %v (%v)", envs, err)
	}
	tags, err := d.ProjectTags(ctx, 1, 10)
	want := []Tag{{"region", "eu"}, {"route", "/cart"}, {"route", "/checkout"}, {"route", "https://shop.test:8443/cart"}}
	if err != nil || !slices.Equal(tags, want) {
		t.Errorf("tags %v (%v), want %v", tags, err, want)
	}

	// A merge counts the values again from the events' JSON: the merged
	// issue answers both issues' environments and tags.
	if _, err := d.MergeIssuesBy(ctx, 1, stage, []int64{prod}, "dev@test"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []IssueQuery{{Environment: "production"}, {TagKey: "region", TagValue: "eu"}, {TagKey: "route", TagValue: "/checkout"}} {
		if got := listIDs(t, d, q); !slices.Equal(got, []int64{stage}) {
			t.Errorf("after the merge, %+v: got %v, want [%d]", q, got, stage)
		}
	}
	top, total, err := d.TopValues(ctx, 1, stage, TagKey("route"), 5)
	if err != nil || total != 3 || len(top) != 3 {
		t.Errorf("route counts after the merge: %v, total %d (%v)", top, total, err)
	}
}

// TestEnvironmentAndTagFiltersUseAnIndex: the filters find their issues
// through issue_values' (project_id, key, value) index, not by reading
// every event or scanning every value.
func TestEnvironmentAndTagFiltersUseAnIndex(t *testing.T) {
	testkit.SQLiteOnly(t, "reads SQLite query plans")
	d := openTest(t)
	for _, q := range []IssueQuery{{ProjectID: 1, Environment: "production"}, {ProjectID: 1, TagKey: "route", TagValue: "/cart"}, {ProjectID: 1, TagKey: "route"}} {
		where, args := q.filter(d.dialect.sql)
		rows, err := d.read.Query("EXPLAIN QUERY PLAN SELECT i.id FROM issues i WHERE "+where, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		t.Logf("%+v:\n%s", q, text)
		if !strings.Contains(text, "issue_values_project_key") || strings.Contains(text, "SCAN v") || strings.Contains(text, "events") {
			t.Errorf("filter %+v does not use the issue_values index:\n%s", q, text)
		}
	}
}

// TestMigration14CountsStoredEnvironmentsAndTags: events stored before the
// filters existed (a Sentry event with environment and tags, a PostHog
// event with $environment among its properties) are counted by migration 0014.
func TestMigration14CountsStoredEnvironmentsAndTags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	w := openAtVersion(t, path, 13)
	now := time.Now().UnixMilli()
	mustExec(t, w, "INSERT INTO projects(id, name, token, created_at) VALUES (1, 'One', 'phc_one', ?)", now)
	for i, fp := range []string{"sentry", "posthog", "plain"} {
		mustExec(t, w, `INSERT INTO issues(id, project_id, name, description, status, first_seen, last_seen, occurrences, created_at, updated_at)
			VALUES (?, 1, 'E', '', 'active', ?, ?, 1, ?, ?)`, i+1, now, now, now, now)
		mustExec(t, w, "INSERT INTO issue_fingerprints(project_id, fingerprint, issue_id, created_at) VALUES (1, ?, ?, ?)", fp, i+1, now)
	}
	insert := "INSERT INTO events(project_id, issue_id, uuid, fingerprint, timestamp, received_at, data, raw) VALUES (1, ?, ?, 'fp', ?, ?, ?, '{}')"
	mustExec(t, w, insert, 1, "s", now, now, []byte(`{"environment":"production","tags":{"route":"/cart","n":"7"}}`))
	mustExec(t, w, insert, 2, "p", now, now, []byte(`{"properties":{"$environment":"staging","plan":"pro"}}`))
	mustExec(t, w, insert, 3, "x", now, now, []byte(`not json`))
	w.Close()

	d, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, c := range []struct {
		q    IssueQuery
		want []int64
	}{
		{IssueQuery{Environment: "production"}, []int64{1}},
		{IssueQuery{Environment: "staging"}, []int64{2}},
		{IssueQuery{TagKey: "route", TagValue: "/cart"}, []int64{1}},
		{IssueQuery{TagKey: "n", TagValue: "7"}, []int64{1}},
	} {
		if got := listIDs(t, d, c.q); !slices.Equal(got, c.want) {
			t.Errorf("%+v: got %v, want %v", c.q, got, c.want)
		}
	}
}

// BenchmarkStoreEventTags measures what counting an event's tags costs the
// store path: batches of 100 events of 10 issues, with no tags and with 10.
func BenchmarkStoreEventTags(b *testing.B) {
	for _, n := range []int{0, 10} {
		b.Run(fmt.Sprintf("tags=%d", n), func(b *testing.B) {
			d, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			if _, err := d.EnsureDefaultProject(context.Background(), "phc_test", "phc_generated"); err != nil {
				b.Fatal(err)
			}
			tags := map[string]string{}
			for i := range n {
				tags[fmt.Sprintf("key%d", i)] = fmt.Sprintf("value%d", i)
			}
			now := time.Now()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				batch := make([]NewEvent, 100)
				for j := range batch {
					batch[j] = envEvent(fmt.Sprintf("e%d-%d", i, j), fmt.Sprintf("fp%d", j%10), now, "production", tags)
				}
				if _, err := d.StoreBatch(context.Background(), batch, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// TestLongValuesAreCutOnCharacters: values longer than maxValueLen are
// counted by their first maxValueLen characters, the way the queries that
// filter and count them again (substr) cut them, and never in the middle
// of a character.
func TestLongValuesAreCutOnCharacters(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	// Cut at 500 bytes, both would end in half an "é" (2 bytes); the URL's
	// 319 characters need no cut at all.
	short := "https://shop.test/x" + strings.Repeat("é", 300)
	long := "x" + strings.Repeat("é", maxValueLen+100)
	ev := envEvent("u1", "fp-long", time.Now(), "", map[string]string{"route": long})
	ev.URL = short
	got, err := d.StoreBatch(ctx, []NewEvent{ev}, nil)
	if err != nil {
		t.Fatalf("store an event with long non-ASCII values: %v", err)
	}
	issue := got[0].IssueID
	for _, c := range []struct{ key, want string }{
		{ValueURL, short},
		{TagKey("route"), "x" + strings.Repeat("é", maxValueLen-1)},
	} {
		top, _, err := d.TopValues(ctx, 1, issue, c.key, 5)
		if err != nil || len(top) != 1 {
			t.Fatalf("top %s: %v (%v)", c.key, top, err)
		}
		if v := top[0].Value; v != c.want {
			t.Errorf("top %s: %d bytes, valid UTF-8 %v; want the first %d characters (%d bytes)",
				c.key, len(v), utf8.ValidString(v), utf8.RuneCountInString(c.want), len(c.want))
		}
	}
	// The counted value is the one the tag filter matches.
	top, _, _ := d.TopValues(ctx, 1, issue, TagKey("route"), 5)
	if len(top) == 1 {
		if ids := listIDs(t, d, IssueQuery{TagKey: "route", TagValue: top[0].Value}); !slices.Equal(ids, []int64{issue}) {
			t.Errorf("issues with the counted route value: %v, want [%d]", ids, issue)
		}
	}
}

// TestProjectValuesListsEachValueOnceUpToACap: the release filter's choices
// come from every issue's values, each value once however many issues have
// it, newest release first, and at most 500 of them.
func TestProjectValuesListsEachValueOnceUpToACap(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	var batch []NewEvent
	for i := range 3 {
		batch = append(batch, newEvent(0, fmt.Sprint("uuid-", i), fmt.Sprint("fp-", i), now))
	}
	stored, err := d.StoreBatch(ctx, batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 510 {
		for _, s := range stored { // every release on every issue
			if _, err := d.write.ExecContext(ctx, `INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen)
				VALUES (1, ?, ?, ?, 1, 0, 0)`, s.IssueID, ValueRelease, fmt.Sprintf("1.%03d.0", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	releases, err := d.ProjectValues(ctx, 1, ValueRelease)
	if err != nil {
		t.Fatal(err)
	}
	// The first 500 values in order, listed newest first.
	if len(releases) != 500 || releases[0] != "1.499.0" || releases[499] != "1.000.0" {
		t.Errorf("%d releases, from %q to %q; want 500 from 1.499.0 to 1.000.0", len(releases), releases[0], releases[len(releases)-1])
	}
	if libs, err := d.ProjectValues(ctx, 1, ValueLib); err != nil || len(libs) != 0 {
		t.Errorf("libraries %v (%v), want none", libs, err)
	}
}
