package db

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Keys of the per-issue value counts (issue_values).
const (
	ValueURL     = "url"
	ValueBrowser = "browser"
	ValueOS      = "os"
	ValueRelease = "release"
	ValueLib     = "lib"
	// ValueEnvironment is Sentry's environment (a PostHog event's $environment).
	ValueEnvironment = "environment"
	valueUser        = "user" // distinct_id: only counted, for users affected
	// tagKeyPrefix starts the key of a tag's counts: tag "route" with value
	// "/cart" is key "tag:route", value "/cart".
	tagKeyPrefix = "tag:"
)

// maxValueLen caps a counted value, in characters (URLs can be long);
// longer ones are cut.
const maxValueLen = 500

// ValueCount is how often one value occurred in an issue's events.
type ValueCount struct {
	Value     string
	Count     int64
	FirstSeen time.Time
	LastSeen  time.Time
}

func eventValues(ev NewEvent) [][2]string {
	return [][2]string{{ValueURL, ev.URL}, {ValueBrowser, ev.Browser}, {ValueOS, ev.OS}, {ValueRelease, ev.Release},
		{ValueLib, ev.Lib}, {valueUser, ev.DistinctID}, {ValueEnvironment, ev.Environment}}
}

// tagValues are an event's tags as issue_values keys and values, in key
// order (a fixed order of upserts: no two batches lock rows in opposite orders).
func tagValues(ev NewEvent) [][2]string {
	keys := make([]string, 0, len(ev.Tags))
	for k := range ev.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][2]string, 0, len(keys))
	for _, k := range keys {
		if v := ev.Tags[k]; v != "" {
			out = append(out, [2]string{TagKey(k), cutValue(v)})
		}
	}
	return out
}

// tagRowsPerStatement is how many tag counts one upsert statement writes.
// With one statement per value, storing events of 10 tags was about 4
// times slower than without tags; chunks of rows halve that
// (BenchmarkStoreEventTags), and their few shapes keep the statement
// cache small.
const tagRowsPerStatement = 16

// cutValue keeps v's first maxValueLen characters, as substr(v, 1,
// maxValueLen) does in the queries that filter and recount values: a cut
// in bytes could end in half a character, which PostgreSQL refuses to
// store and which would never equal what those queries compare.
func cutValue(v string) string {
	if len(v) <= maxValueLen {
		return v
	}
	n := 0
	for i := range v {
		if n == maxValueLen {
			return v[:i]
		}
		n++
	}
	return v
}

// TagKey is the issue_values key that counts the values of tag name.
func TagKey(name string) string { return tagKeyPrefix + name }

// tagsColumn is the tags column of a new event: their JSON object, NULL when none.
func tagsColumn(tags map[string]string) any {
	if len(tags) == 0 {
		return nil
	}
	b, err := json.Marshal(tags)
	if err != nil {
		return nil
	}
	return string(b)
}

// recountValuesTx counts an issue's values again from its stored events,
// after a merge brought it another issue's events.
func recountValuesTx(ctx context.Context, tx *txn, issueID int64) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM issue_values WHERE issue_id = ?", issueID); err != nil {
		return fmt.Errorf("recount values of issue %d: %w", issueID, err)
	}
	for key, column := range map[string]string{ValueURL: "url", ValueBrowser: "browser", ValueOS: "os",
		ValueRelease: "release", ValueLib: "lib", valueUser: "distinct_id"} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen)
			SELECT project_id, issue_id, ?1, substr(`+column+`, 1, ?2), count(*), min(timestamp), max(timestamp) FROM events
			WHERE issue_id = ?3 AND `+column+` != '' GROUP BY project_id, issue_id, substr(`+column+`, 1, ?2)`, key, maxValueLen, issueID); err != nil {
			return fmt.Errorf("recount %s of issue %d: %w", key, issueID, err)
		}
	}
	// Environment and tags of rows stored before they had columns are read
	// from the stored events' JSON (see engineSQL.storedEnvironment, tagRows).
	stmts := tx.dialect.sql
	if _, err := tx.ExecContext(ctx, `INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen)
		SELECT project_id, issue_id, ?1, substr(env, 1, ?2), count(*), min(timestamp), max(timestamp) FROM
			(SELECT project_id, issue_id, timestamp, `+stmts.storedEnvironment+` AS env FROM events WHERE issue_id = ?3) stored
		WHERE `+stmts.isText("env")+` GROUP BY project_id, issue_id, substr(env, 1, ?2)`, ValueEnvironment, maxValueLen, issueID); err != nil {
		return fmt.Errorf("recount environments of issue %d: %w", issueID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen)
		SELECT e.project_id, e.issue_id, ?1 || t.key, substr(t.value, 1, ?2), count(*), min(e.timestamp), max(e.timestamp)
		FROM events e, `+stmts.tagRows+`
		WHERE e.issue_id = ?3 AND `+stmts.tagIsText+` AND t.value != '' GROUP BY e.project_id, e.issue_id, t.key, substr(t.value, 1, ?2)`,
		tagKeyPrefix, maxValueLen, issueID); err != nil {
		return fmt.Errorf("recount tags of issue %d: %w", issueID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE issues SET users_affected = (SELECT count(*) FROM issue_values
		WHERE issue_id = ? AND key = 'user') WHERE id = ?`, issueID, issueID); err != nil {
		return fmt.Errorf("recount users of issue %d: %w", issueID, err)
	}
	return nil
}

// TopValues lists the most frequent values of key in an issue's events and
// the number of its events that had any value of key.
func (d *DB) TopValues(ctx context.Context, projectID, issueID int64, key string, limit int) ([]ValueCount, int64, error) {
	var total int64
	if err := d.read.QueryRowContext(ctx, "SELECT coalesce(sum(count), 0) FROM issue_values WHERE project_id = ? AND issue_id = ? AND key = ?",
		projectID, issueID, key).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("top %s of issue %d: %w", key, issueID, err)
	}
	out, err := d.values(ctx, "SELECT value, count, first_seen, last_seen FROM issue_values WHERE project_id = ? AND issue_id = ? AND key = ? "+
		"ORDER BY count DESC, value LIMIT ?", projectID, issueID, key, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("top %s of issue %d: %w", key, issueID, err)
	}
	return out, total, nil
}

// IssueReleases lists the releases an issue's events came from, newest release first.
func (d *DB) IssueReleases(ctx context.Context, projectID, issueID int64) ([]ValueCount, error) {
	out, err := d.values(ctx, "SELECT value, count, first_seen, last_seen FROM issue_values WHERE project_id = ? AND issue_id = ? AND key = 'release'",
		projectID, issueID)
	if err != nil {
		return nil, fmt.Errorf("releases of issue %d: %w", issueID, err)
	}
	sort.Slice(out, func(i, j int) bool { return CompareReleases(out[i].Value, out[j].Value) > 0 })
	return out, nil
}

// ProjectValues lists the distinct values of key over a project's issues
// (for the release and library filters), newest release first for releases.
func (d *DB) ProjectValues(ctx context.Context, projectID int64, key string) ([]string, error) {
	// A skip scan: each step seeks the (project_id, key, value) index past
	// the last value, so a release seen on 10,000 issues is read once, not
	// 10,000 times (DISTINCT read every row of the key: a tenth of the issue
	// list's time at a million events).
	rows, err := d.read.QueryContext(ctx, `WITH RECURSIVE v(value, n) AS (
			SELECT (SELECT min(value) FROM issue_values WHERE project_id = ?1 AND key = ?2), 1
			UNION ALL
			SELECT (SELECT min(value) FROM issue_values WHERE project_id = ?1 AND key = ?2 AND value > v.value), n + 1
			FROM v WHERE v.value IS NOT NULL AND n < 500)
		SELECT value FROM v WHERE value IS NOT NULL ORDER BY value`, projectID, key)
	if err != nil {
		return nil, fmt.Errorf("values of %s: %w", key, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("values of %s: %w", key, err)
		}
		out = append(out, v)
	}
	if key == ValueRelease {
		sort.Slice(out, func(i, j int) bool { return CompareReleases(out[i], out[j]) > 0 })
	}
	return out, rows.Err()
}

// Tag is one tag value over a project's issues, for the tag filter's choices.
type Tag struct {
	Key, Value string
}

// ProjectTags lists the tags (key and value) seen on a project's issues,
// at most limit of them, by key and value.
func (d *DB) ProjectTags(ctx context.Context, projectID int64, limit int) ([]Tag, error) {
	// The range on key keeps this on the (project_id, key, value) index.
	rows, err := d.read.QueryContext(ctx, `SELECT DISTINCT key, value FROM issue_values
		WHERE project_id = ? AND key >= ? AND key < ? ORDER BY key, value LIMIT ?`,
		projectID, tagKeyPrefix, tagKeyEnd, limit)
	if err != nil {
		return nil, fmt.Errorf("tags of project %d: %w", projectID, err)
	}
	defer rows.Close()
	var out []Tag
	for rows.Next() {
		var t Tag
		if err := rows.Scan(&t.Key, &t.Value); err != nil {
			return nil, fmt.Errorf("tags of project %d: %w", projectID, err)
		}
		t.Key = strings.TrimPrefix(t.Key, tagKeyPrefix)
		out = append(out, t)
	}
	return out, rows.Err()
}

// tagKeyEnd is the first key after every tagKeyPrefix key ("tag;": ';' follows ':').
const tagKeyEnd = "tag;"

func (d *DB) values(ctx context.Context, query string, args ...any) ([]ValueCount, error) {
	rows, err := d.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ValueCount
	for rows.Next() {
		var v ValueCount
		var first, last int64
		if err := rows.Scan(&v.Value, &v.Count, &first, &last); err != nil {
			return nil, err
		}
		v.FirstSeen, v.LastSeen = fromMillis(first), fromMillis(last)
		out = append(out, v)
	}
	return out, rows.Err()
}
