package db

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/internal/testkit"
)

// idTables are the tables whose integer ids must never be handed out twice
// (projects keep their own scheme: see CreateProject).
var idTables = []string{"users", "api_keys", "inbox", "issues", "events", "inbox_rejected", "symbol_sets",
	"symbol_set_uploads", "issue_activity", "notification_channels", "notification_deliveries", "notification_outbox"}

// insertRow adds one row to a table the way stacklens does, leaving the id
// to SQLite; its one parameter is a time in unix milliseconds.
var insertRow = map[string]string{
	"users":                   "INSERT INTO users(email, password_hash, created_at) VALUES ('u' || random() || '@x.test', 'h', ?1)",
	"api_keys":                "INSERT INTO api_keys(user_id, label, key_hash, mask, created_at) VALUES (1, 'k', 'h' || random(), 'm', ?1)",
	"inbox":                   "INSERT INTO inbox(project_id, format, received_at, uuid) VALUES (1, 'posthog', ?1, 'u' || random())",
	"issues":                  "INSERT INTO issues(project_id, name, first_seen, last_seen, created_at, updated_at) VALUES (1, 'I', ?1, ?1, ?1, ?1)",
	"events":                  "INSERT INTO events(project_id, issue_id, uuid, fingerprint, timestamp, received_at, data, raw) VALUES (1, 1, 'u' || random(), 'fp', ?1, ?1, '{}', '{}')",
	"inbox_rejected":          "INSERT INTO inbox_rejected(project_id, format, received_at, payload, error, failed_at) VALUES (1, 'posthog', ?1, '{}', 'bad', ?1)",
	"symbol_sets":             "INSERT INTO symbol_sets(project_id, ref, ref_kind, state, created_at, updated_at) VALUES (1, 'https://x.test/' || random(), 'url', 'missing', ?1, ?1)",
	"symbol_set_uploads":      "INSERT INTO symbol_set_uploads(project_id, symbol_set_id, created_at, expires_at) VALUES (1, 1, ?1, ?1)",
	"issue_activity":          "INSERT INTO issue_activity(project_id, issue_id, at, actor, kind) VALUES (1, 1, ?1, 'a@x.test', 'status')",
	"notification_channels":   "INSERT INTO notification_channels(project_id, name, kind, created_at, updated_at) VALUES (1, 'c', 'webhook', ?1, ?1)",
	"notification_deliveries": "INSERT INTO notification_deliveries(project_id, channel_id, trigger, attempt, ok, attempted_at) VALUES (1, 1, 'test', 1, 1, ?1)",
	"notification_outbox":     "INSERT INTO notification_outbox(project_id, issue_id, regression, event, created_at) VALUES (1, 1, 0, '{}', ?1)",
}

// openAtVersion builds a database the way a stacklens that knew migrations
// up to last left it, and returns its writer pool for filling it.
func openAtVersion(t *testing.T, path string, last int) *sql.DB {
	t.Helper()
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	write.SetMaxOpenConns(1)
	old := &DB{write: &pool{db: write, dialect: newDialect(engineSQLite), writer: true}, dialect: newDialect(engineSQLite)}
	if err := old.migrateUpTo(context.Background(), last); err != nil {
		t.Fatalf("migrate to %d: %v", last, err)
	}
	return write
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// fillVersion8 stores, with the schema of migration 0008, a little of
// everything, then deletes the newest rows (and merges the newest issue), so
// their ids are the ones SQLite would hand out again. It returns, per
// table, the highest id ever handed out.
func fillVersion8(t *testing.T, w *sql.DB) map[string]int64 {
	t.Helper()
	now := time.Now().UnixMilli()
	mustExec(t, w, "INSERT INTO projects(id, name, token, created_at) VALUES (1, 'One', 'phc_one', ?), (2, 'Two', 'phc_two', ?)", now, now)
	mustExec(t, w, "INSERT INTO users(id, email, password_hash, is_admin, created_at) VALUES (1, 'a@x.test', 'h', 1, ?), (2, 'b@x.test', 'h', 0, ?)", now, now)
	mustExec(t, w, "INSERT INTO sessions(token_hash, user_id, created_at, expires_at) VALUES ('s1', 1, ?, ?)", now, now+1e9)
	for i := 1; i <= 3; i++ {
		mustExec(t, w, "INSERT INTO api_keys(user_id, label, key_hash, mask, created_at) VALUES (1, ?, ?, 'phx_…', ?)", fmt.Sprint("key", i), fmt.Sprint("hash", i), now)
	}
	for i := 1; i <= 4; i++ {
		mustExec(t, w, `INSERT INTO issues(project_id, name, first_seen, last_seen, occurrences, created_at, updated_at, assignee_id, search_text)
			VALUES (1, ?, ?, ?, 1, ?, ?, 2, 'text')`, fmt.Sprint("Issue", i), now, now, now, now)
		mustExec(t, w, "INSERT INTO issue_fingerprints(project_id, fingerprint, issue_id, created_at) VALUES (1, ?, ?, ?)", fmt.Sprint("fp", i), i, now)
		mustExec(t, w, `INSERT INTO events(project_id, issue_id, uuid, fingerprint, timestamp, received_at, data, raw)
			VALUES (1, ?, ?, ?, ?, ?, '{}', '{}')`, i, fmt.Sprint("uuid-", i), fmt.Sprint("fp", i), now, now)
		mustExec(t, w, "INSERT INTO event_frames(project_id, raw_id, event_id) VALUES (1, 'raw', ?)", i)
		mustExec(t, w, "INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen) VALUES (1, ?, 'os', 'Linux', 1, ?, ?)", i, now, now)
		mustExec(t, w, "INSERT INTO issue_activity(project_id, issue_id, at, actor, kind) VALUES (1, ?, ?, 'a@x.test', 'status')", i, now)
	}
	// Merge #4 into #1 the way stacklens did then: the row of #4 goes away.
	mustExec(t, w, "UPDATE issue_fingerprints SET issue_id = 1 WHERE project_id = 1 AND issue_id = 4")
	mustExec(t, w, "UPDATE events SET issue_id = 1 WHERE project_id = 1 AND issue_id = 4")
	mustExec(t, w, "UPDATE issues SET occurrences = occurrences + 1 WHERE id = 1")
	mustExec(t, w, `INSERT INTO issue_merges(project_id, issue_id, merged_issue_id, merged_name, merged_occurrences, merged_at)
		VALUES (1, 1, 4, 'Issue4', 1, ?)`, now)
	mustExec(t, w, "DELETE FROM issues WHERE id = 4")
	for i := 1; i <= 3; i++ {
		mustExec(t, w, `INSERT INTO symbol_sets(project_id, ref, ref_kind, state, created_at, updated_at, release)
			VALUES (1, ?, 'url', 'missing', ?, ?, 'v1')`, fmt.Sprint("https://x.test/", i, ".js"), now, now)
		mustExec(t, w, "INSERT INTO notification_channels(project_id, name, kind, url, format, created_at, updated_at) VALUES (1, ?, 'webhook', 'https://hooks.test', 'json', ?, ?)", fmt.Sprint("ch", i), now, now)
	}
	mustExec(t, w, `INSERT INTO frame_resolutions(project_id, raw_id, symbol_set_id, frame, resolution, updated_at)
		VALUES (1, 'raw', 1, '{}', '{"resolved":true,"symbol_set_id":1}', ?), (1, 'raw3', 3, '{}', '{"resolved":true,"symbol_set_id":3}', ?)`, now, now)
	mustExec(t, w, "INSERT INTO symbol_set_uploads(project_id, symbol_set_id, created_at, expires_at) VALUES (1, 1, ?, ?), (1, 2, ?, ?)", now, now, now, now)
	mustExec(t, w, "INSERT INTO notification_deliveries(project_id, channel_id, trigger, issue_id, attempt, ok, attempted_at) VALUES (1, 1, 'issue.created', 4, 1, 1, ?), (1, 3, 'test', NULL, 1, 1, ?)", now, now)
	mustExec(t, w, "INSERT INTO notification_outbox(project_id, issue_id, regression, event, created_at) VALUES (1, 1, 0, '{}', ?), (1, 2, 0, '{}', ?)", now, now)
	mustExec(t, w, "INSERT INTO inbox(project_id, format, received_at, payload) VALUES (1, 'posthog', ?, '{\"event\":\"$exception\"}'), (1, 'posthog', ?, '{}'), (1, 'posthog', ?, '{}')", now, now, now)
	mustExec(t, w, "INSERT INTO inbox_rejected(project_id, format, received_at, payload, error, failed_at) VALUES (1, 'posthog', ?, '{}', 'bad', ?), (1, 'posthog', ?, '{}', 'bad', ?)", now, now, now, now)

	// Rows go the ways stacklens deletes them: the newest symbol set (its
	// frame resolution keeps its id in the resolution's JSON), the newest
	// channel, the outbox and the inbox drained. Other tables had no
	// deleting code before the migration.
	mustExec(t, w, "DELETE FROM symbol_sets WHERE id = 3")
	mustExec(t, w, "DELETE FROM symbol_set_uploads WHERE id = 2")
	mustExec(t, w, "DELETE FROM notification_channels WHERE id = 2") // and its deliveries
	mustExec(t, w, "DELETE FROM notification_outbox WHERE id = 1")
	mustExec(t, w, "DELETE FROM inbox WHERE id IN (1, 2)")
	// The ids the migration must never give out again, per table: every id
	// still in use or named by another row.
	return map[string]int64{"users": 2, "api_keys": 3, "inbox": 3, "issues": 4, "events": 4, "inbox_rejected": 2,
		"symbol_sets": 3, "symbol_set_uploads": 1, "issue_activity": 3, // 4 went with merged issue #4, leaving no trace
		"notification_channels":   3,
		"notification_deliveries": 2, "notification_outbox": 2}
}

// schemaOf describes a table's columns, foreign keys and indexes, leaving
// out only whether its id is AUTOINCREMENT.
func schemaOf(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	var b strings.Builder
	collect := func(query string) {
		rows, err := db.Query(query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, query, vals)
		}
	}
	collect("PRAGMA table_xinfo(" + table + ")")
	collect("PRAGMA foreign_key_list(" + table + ")")
	rows, err := db.Query("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? ORDER BY name", table)
	if err != nil {
		t.Fatal(err)
	}
	var indexes []string
	for rows.Next() {
		var name string
		var ddl sql.NullString
		if err := rows.Scan(&name, &ddl); err != nil {
			t.Fatal(err)
		}
		if ddl.Valid { // automatic indexes (UNIQUE) are named after the table's position, described by index_xinfo below
			fmt.Fprintln(&b, "index", ddl.String)
		}
		indexes = append(indexes, name)
	}
	rows.Close()
	collect("SELECT \"unique\", origin, partial FROM pragma_index_list('" + table + "') ORDER BY origin, \"unique\"")
	for _, ix := range indexes {
		collect("SELECT seqno, cid, name, \"desc\", coll, key FROM pragma_index_xinfo('" + ix + "')")
	}
	return b.String()
}

// TestMigrationStopsIDReuse builds a database with the schema of 0008, uses
// and deletes ids the old way, migrates it and checks that the data, the
// schema and the foreign keys survived and that no id comes back.
func TestMigrationStopsIDReuse(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	w := openAtVersion(t, path, 8)
	highest := fillVersion8(t, w)
	before := map[string]string{}
	counts := map[string]int64{}
	var tables []string
	rows, err := w.Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	for _, table := range tables {
		before[table] = schemaOf(t, w, table)
		counts[table] = count(t, w, "SELECT count(*) FROM "+table)
	}
	// Without the migration SQLite would give these ids out again.
	if next := count(t, w, "SELECT max(id) + 1 FROM issues"); next != 4 {
		t.Fatalf("test setup: the old schema would give issue id %d next, want 4 (the merged one)", next)
	}
	w.Close()

	// The schema is compared as the migrations before 0015 leave it (0015
	// adds the issue list's indexes to issues); the rest runs on all of them.
	mid := openAtVersion(t, path, 14)
	afterSchema := map[string]string{}
	for _, table := range tables {
		afterSchema[table] = schemaOf(t, mid, table)
	}
	mid.Close()
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	defer d.Close()

	for _, table := range tables {
		if got := count(t, d.write.db, "SELECT count(*) FROM "+table); got != counts[table] && table != "schema_migrations" {
			t.Errorf("%s has %d rows after the migration, had %d", table, got, counts[table])
		}
		after := afterSchema[table]
		if table == "inbox" {
			after = strings.ReplaceAll(after, "PRAGMA table_xinfo(inbox) [6 uuid TEXT 1 <nil> 0 0]\n", "")
		}
		if table == "projects" { // 0010 adds a project's own rate limit
			after = strings.ReplaceAll(after, "PRAGMA table_xinfo(projects) [5 capture_rate_limit INTEGER 0 <nil> 0 0]\n", "")
			// 0017 adds its retention settings
			for _, col := range []string{"6 retention_event_days", "7 retention_max_events_per_issue", "8 retention_symbol_set_days"} {
				after = strings.ReplaceAll(after, "PRAGMA table_xinfo(projects) ["+col+" INTEGER 0 <nil> 0 0]\n", "")
			}
		}
		if after != before[table] && table != "schema_migrations" {
			t.Errorf("schema of %s changed:\nbefore:\n%s\nafter:\n%s", table, before[table], after)
		}
	}
	var name, assignee sql.NullString
	if err := d.write.QueryRow("SELECT name, assignee_id FROM issues WHERE id = 3").Scan(&name, &assignee); err != nil || name.String != "Issue3" || assignee.String != "2" {
		t.Errorf("issue 3 after the migration: %v %v %v", name, assignee, err)
	}
	if n := count(t, d.write.db, "SELECT count(*) FROM inbox WHERE length(uuid) = 36"); n != 1 {
		t.Errorf("%d waiting inbox rows got a uuid, want 1", n)
	}
	var fk int
	if err := d.write.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign keys after the migration: %d, %v", fk, err)
	}

	// New rows, as stacklens inserts them, get ids above every id handed out.
	now := time.Now()
	ms := now.UnixMilli()
	stored, err := d.StoreBatch(ctx, []NewEvent{{ProjectID: 1, UUID: "uuid-new", Fingerprint: "fp-new", IssueName: "New",
		Timestamp: now, ReceivedAt: now, Data: []byte("{}"), Raw: []byte("{}")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{"issues": stored[0].IssueID}
	got["events"] = count(t, d.write.db, "SELECT id FROM events WHERE uuid = 'uuid-new'")
	key, err := d.CreateAPIKey(ctx, 1, "new", "hash-new", "phx_…")
	if err != nil {
		t.Fatal(err)
	}
	got["api_keys"] = key.ID
	if got["notification_channels"], err = d.CreateNotificationChannel(ctx, NotificationChannel{ProjectID: 1, Name: "new", Kind: ChannelWebhook,
		URL: "https://hooks.test", Format: WebhookJSON, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	inbox := d.NewInboxWriter(InboxLimits{})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { inbox.Run(runCtx); close(done) }()
	if err := inbox.Append(ctx, []InboxRow{{ProjectID: 1, Format: "posthog", ReceivedAt: now, Payload: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	stop()
	<-done
	got["inbox"] = count(t, d.write.db, "SELECT max(id) FROM inbox")
	for _, table := range []string{"users", "symbol_sets", "symbol_set_uploads", "notification_deliveries", "notification_outbox", "inbox_rejected", "issue_activity"} {
		mustExec(t, d.write.db, insertRow[table], ms)
		got[table] = count(t, d.write.db, "SELECT max(id) FROM "+table)
	}
	for _, table := range idTables {
		if got[table] <= highest[table] {
			t.Errorf("%s: the new row got id %d, but ids up to %d were handed out before", table, got[table], highest[table])
		}
	}
	// And from now on a deleted newest row's id does not come back either.
	for _, table := range idTables {
		newest := count(t, d.write.db, "SELECT max(id) FROM "+table)
		mustExec(t, d.write.db, "DELETE FROM "+table+" WHERE id = ?", newest)
		mustExec(t, d.write.db, insertRow[table], ms)
		if next := count(t, d.write.db, "SELECT max(id) FROM "+table); next <= newest {
			t.Errorf("%s: after deleting row %d the next row got id %d", table, newest, next)
		}
	}

	// The foreign keys still act: deleting project 1 takes everything of it along.
	mustExec(t, d.write.db, "INSERT INTO projects(id, name, token, created_at) VALUES (3, 'Three', 'phc_three', ?)", ms)
	mustExec(t, d.write.db, "DELETE FROM projects WHERE id = 1")
	for _, table := range []string{"issues", "events", "event_frames", "issue_values", "symbol_sets", "notification_channels", "inbox"} {
		if n := count(t, d.write.db, "SELECT count(*) FROM "+table); n != 0 {
			t.Errorf("%s keeps %d rows of a deleted project: foreign keys lost in the rebuild", table, n)
		}
	}
	mustExec(t, d.write.db, "DELETE FROM users WHERE id = 1")
	if n := count(t, d.write.db, "SELECT count(*) FROM sessions"); n != 0 {
		t.Errorf("sessions keeps %d rows of a deleted user", n)
	}
}

// TestEveryIntegerIDIsAutoincrement guards the rule for tables added later:
// a table whose rows are known by an integer id must not reuse it.
func TestEveryIntegerIDIsAutoincrement(t *testing.T) {
	testkit.SQLiteOnly(t, "checks SQLite AUTOINCREMENT (PostgreSQL identities never reuse)")
	d := openTest(t)
	rows, err := d.read.Query(`SELECT m.name, m.sql FROM sqlite_master m, pragma_table_info(m.name) c
		WHERE m.type = 'table' AND c.pk = 1 AND upper(c.type) = 'INTEGER'
		AND (SELECT count(*) FROM pragma_table_info(m.name) WHERE pk > 0) = 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	exempt := map[string]string{
		"projects":          "ids follow projects and deleted_projects (CreateProject)",
		"deleted_projects":  "holds ids of projects",
		"capture_usage":     "holds ids of projects",
		"inbox_payloads":    "holds ids of inbox rows",
		"schema_migrations": "version numbers",
	}
	for rows.Next() {
		var name, ddl string
		if err := rows.Scan(&name, &ddl); err != nil {
			t.Fatal(err)
		}
		if _, ok := exempt[name]; ok {
			continue
		}
		if strings.HasPrefix(name, "issue_search_") {
			continue // FTS5's own tables behind issue_search, whose rowids are issue ids
		}
		if !strings.Contains(strings.ToUpper(ddl), "AUTOINCREMENT") {
			t.Errorf("table %s has an INTEGER PRIMARY KEY without AUTOINCREMENT: SQLite would hand out a deleted row's id again", name)
		}
	}
}

// TestIDsNotReusedAfterDelete deletes the newest issue (by merging it), symbol
// set, channel and API key on a new database and checks the next ones get new ids.
func TestIDsNotReusedAfterDelete(t *testing.T) {
	testkit.SQLiteOnly(t, "upgrades SQLite files from older migrations")
	ctx := context.Background()
	d := openTest(t)
	if _, err := d.CreateFirstAdmin(ctx, "a@x.test", "h"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var issues []int64
	for i := range 4 {
		st, err := d.StoreBatch(ctx, []NewEvent{{ProjectID: 1, UUID: fmt.Sprint("u", i), Fingerprint: fmt.Sprint("fp", i), IssueName: "E",
			Timestamp: now, ReceivedAt: now, Data: []byte("{}"), Raw: []byte("{}")}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		issues = append(issues, st[0].IssueID)
	}
	if _, err := d.MergeIssuesBy(ctx, 1, issues[0], []int64{issues[3]}, "a@x.test"); err != nil {
		t.Fatal(err)
	}
	st, err := d.StoreBatch(ctx, []NewEvent{{ProjectID: 1, UUID: "u-next", Fingerprint: "fp-next", IssueName: "E",
		Timestamp: now, ReceivedAt: now, Data: []byte("{}"), Raw: []byte("{}")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st[0].IssueID <= issues[3] {
		t.Errorf("after merging #%d away the next issue got #%d", issues[3], st[0].IssueID)
	}
	fate, err := d.IssueFate(ctx, 1, issues[3])
	if err != nil || fate.MergedInto != issues[0] {
		t.Errorf("fate of merged #%d: %+v, %v", issues[3], fate, err)
	}

	ch := NotificationChannel{ProjectID: 1, Name: "c", Kind: ChannelWebhook, URL: "https://hooks.test", Format: WebhookJSON, Enabled: true}
	first, err := d.CreateNotificationChannel(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteNotificationChannel(ctx, 1, first); err != nil {
		t.Fatal(err)
	}
	second, err := d.CreateNotificationChannel(ctx, ch)
	if err != nil || second <= first {
		t.Errorf("channel after deleting #%d got #%d (%v)", first, second, err)
	}
	key, err := d.CreateAPIKey(ctx, 1, "k", "h1", "m")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, d.write.db, "DELETE FROM api_keys WHERE id = ?", key.ID) // keys are revoked, not deleted, today
	again, err := d.CreateAPIKey(ctx, 1, "k", "h2", "m")
	if err != nil || again.ID <= key.ID {
		t.Errorf("api key after deleting #%d got #%d (%v)", key.ID, again.ID, err)
	}
}
