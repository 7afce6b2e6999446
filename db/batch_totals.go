package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/stacklens/stacklens/event"
)

// batchTotals gathers what the events of one StoreBatch add to their
// issues' counters (occurrences, first and last seen, hourly counts, value
// counts, users, search text), so each issue row, hour and value is written
// once per batch instead of once per event: the same issues, values and
// hours recur within a batch, and every write of an issue row also rewrites
// the entries of its indexes.
type batchTotals struct {
	issues  []issueTotal
	issueAt map[int64]int
	hours   map[issueHour]int64
	hourSeq []issueHour
	values  map[issueValue]*valueTotal
	valSeq  []issueValue
	// resolved holds each frame's latest resolution in the batch: the same
	// frames recur in most events, and one upsert per raw id is enough.
	resolved   map[projectFrame]int
	frameSeq   []projectFrame
	frameFound []event.Frame
	// newEvents are the batch's event rows, written several per statement;
	// eventFrames tie them to the frames they hold (event_frames).
	newEvents   []eventRow
	eventFrames []eventFrame
}

// eventRow is an event to store in the issue storeEvent chose.
type eventRow struct {
	ev        NewEvent
	issueID   int64
	timestamp int64
}

type eventFrame struct {
	projectID int64
	rawID     string
	eventID   int64
}

type projectFrame struct {
	projectID int64
	rawID     string
}

type issueTotal struct {
	id                int64
	occurrences       int64
	first, last       int64
	searchText        string // the issue's search text as this batch leaves it
	searchTextChanged bool
}

type issueHour struct{ issue, hour int64 }

type issueValue struct {
	issue      int64
	key, value string
}

type valueTotal struct {
	projectID   int64
	count       int64
	first, last int64
}

func newBatchTotals() *batchTotals {
	return &batchTotals{issueAt: map[int64]int{}, hours: map[issueHour]int64{}, values: map[issueValue]*valueTotal{},
		resolved: map[projectFrame]int{}}
}

// frames notes an event's resolved frames; a later event's resolution of the same frame wins.
func (b *batchTotals) frames(projectID int64, frames []event.Frame) {
	for _, f := range frames {
		if f.Resolution == nil || f.RawID == "" {
			continue
		}
		k := projectFrame{projectID, f.RawID}
		if i, ok := b.resolved[k]; ok {
			b.frameFound[i] = f
			continue
		}
		b.resolved[k] = len(b.frameSeq)
		b.frameSeq = append(b.frameSeq, k)
		b.frameFound = append(b.frameFound, f)
	}
}

// issue returns the totals of an issue, starting them with its stored search text.
func (b *batchTotals) issue(id int64, storedSearchText string, ts int64) *issueTotal {
	if i, ok := b.issueAt[id]; ok {
		return &b.issues[i]
	}
	b.issueAt[id] = len(b.issues)
	b.issues = append(b.issues, issueTotal{id: id, first: ts, last: ts, searchText: storedSearchText})
	return &b.issues[len(b.issues)-1]
}

// counted adds one event to its issue's occurrences and seen times.
func (b *batchTotals) counted(issueID int64, storedSearchText string, ts int64) {
	t := b.issue(issueID, storedSearchText, ts)
	t.occurrences++
	t.first, t.last = min(t.first, ts), max(t.last, ts)
}

// stored adds a stored event's hour, values and search terms.
func (b *batchTotals) stored(ev NewEvent, issueID int64, ts int64, terms []string) {
	h := issueHour{issueID, hourOf(ts)}
	if _, ok := b.hours[h]; !ok {
		b.hourSeq = append(b.hourSeq, h)
	}
	b.hours[h]++
	for _, kv := range append(eventValues(ev), tagValues(ev)...) {
		value := cutValue(kv[1])
		if value == "" {
			continue
		}
		k := issueValue{issueID, kv[0], value}
		v, ok := b.values[k]
		if !ok {
			v = &valueTotal{projectID: ev.ProjectID, first: ts, last: ts}
			b.values[k] = v
			b.valSeq = append(b.valSeq, k)
		}
		v.count++
		v.first, v.last = min(v.first, ts), max(v.last, ts)
	}
	t := &b.issues[b.issueAt[issueID]]
	next := withTerms(t.searchText, terms)
	if next != t.searchText && !(t.searchText == "" && next == "\n") {
		t.searchText, t.searchTextChanged = next, true
	}
}

// write stores the batch's events and applies the totals in the batch's transaction.
func (b *batchTotals) write(ctx context.Context, tx txRunner) error {
	stmts := tx.statements()
	if err := b.insertEvents(ctx, tx); err != nil {
		return err
	}
	for i, k := range b.frameSeq {
		if err := saveFrameResolutions(ctx, tx, k.projectID, b.frameFound[i:i+1]); err != nil {
			return err
		}
	}
	var users, others []issueValue
	for _, k := range b.valSeq {
		if k.key == valueUser {
			users = append(users, k)
		} else {
			others = append(others, k)
		}
	}
	newUsers, err := b.countUsers(ctx, tx, users)
	if err != nil {
		return err
	}
	// The other values need no answer: several rows per statement (see tagRowsPerStatement).
	for len(others) > 0 {
		chunk := others[:min(len(others), tagRowsPerStatement)]
		others = others[len(chunk):]
		rows := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?),", len(chunk)), ",")
		args := make([]any, 0, 7*len(chunk))
		for _, k := range chunk {
			v := b.values[k]
			args = append(args, v.projectID, k.issue, k.key, k.value, v.count, v.first, v.last)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen)
			VALUES `+rows+` ON CONFLICT (issue_id, key, value) DO UPDATE SET count = issue_values.count + excluded.count,
			first_seen = `+stmts.least("issue_values.first_seen", "excluded.first_seen")+`,
			last_seen = `+stmts.greatest("issue_values.last_seen", "excluded.last_seen"), args...); err != nil {
			return fmt.Errorf("count values: %w", err)
		}
	}
	if err := insertRows(ctx, tx, len(b.hourSeq), 3, "INSERT INTO issue_hourly(issue_id, hour, count) VALUES ",
		" ON CONFLICT (issue_id, hour) DO UPDATE SET count = issue_hourly.count + excluded.count", func(i int, args []any) []any {
			h := b.hourSeq[i]
			return append(args, h.issue, h.hour, b.hours[h])
		}); err != nil {
		return fmt.Errorf("count hours: %w", err)
	}
	if err := insertRows(ctx, tx, len(b.eventFrames), 3, "INSERT INTO event_frames(project_id, raw_id, event_id) VALUES ", " ON CONFLICT DO NOTHING",
		func(i int, args []any) []any {
			f := b.eventFrames[i]
			return append(args, f.projectID, f.rawID, f.eventID)
		}); err != nil {
		return fmt.Errorf("record the events' frames: %w", err)
	}
	// Several issues per statement, as the inserts above: on PostgreSQL
	// each statement is a round trip, and one per issue was a quarter of a
	// batch's. The search text is set apart, only where it changed: SQLite's
	// search index is rewritten by any update naming the column.
	if err := updateRows(ctx, tx, len(b.issues), []string{"id", "occurrences", "users", "last", "first"},
		`UPDATE issues SET occurrences = issues.occurrences + v.occurrences, users_affected = issues.users_affected + v.users,
			last_seen = `+stmts.greatest("issues.last_seen", "v.last")+`, first_seen = `+stmts.least("issues.first_seen", "v.first")+`
			FROM v WHERE issues.id = v.id`, func(i int, args []any) []any {
			t := b.issues[i]
			return append(args, t.id, t.occurrences, newUsers[t.id], t.last, t.first)
		}); err != nil {
		return fmt.Errorf("count events of the batch's issues: %w", err)
	}
	var changed []issueTotal
	for _, t := range b.issues {
		if t.searchTextChanged {
			changed = append(changed, t)
		}
	}
	if err := updateRows(ctx, tx, len(changed), []string{"id", "search_text:text"},
		"UPDATE issues SET search_text = v.search_text FROM v WHERE issues.id = v.id", func(i int, args []any) []any {
			return append(args, changed[i].id, changed[i].searchText)
		}); err != nil {
		return fmt.Errorf("update the search text of the batch's issues: %w", err)
	}
	return nil
}

// insertEvents writes the batch's event rows, eventRowsPerStatement at a
// time, and ties each to the frames symbolication looked at.
func (b *batchTotals) insertEvents(ctx context.Context, tx txRunner) error {
	const cols = 17
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + "),"
	for start := 0; start < len(b.newEvents); start += eventRowsPerStatement {
		chunk := b.newEvents[start:min(len(b.newEvents), start+eventRowsPerStatement)]
		args := make([]any, 0, cols*len(chunk))
		byUUID := make(map[projectKey]*NewEvent, len(chunk))
		for i := range chunk {
			r := &chunk[i]
			ev := &r.ev
			args = append(args, ev.ProjectID, r.issueID, ev.UUID, ev.Fingerprint, r.timestamp, millis(ev.ReceivedAt),
				ev.DistinctID, ev.URL, ev.Lib, ev.LibVersion, ev.Release, ev.Browser, ev.OS, ev.Environment, tagsColumn(ev.Tags), ev.Data, ev.Raw)
			byUUID[projectKey{ev.ProjectID, ev.UUID}] = ev
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO events(project_id, issue_id, uuid, fingerprint, timestamp, received_at,
			distinct_id, url, lib, lib_version, release, browser, os, environment, tags, data, raw)
			VALUES `+strings.TrimSuffix(strings.Repeat(one, len(chunk)), ",")+` RETURNING project_id, uuid, id`, args...)
		if err != nil {
			return fmt.Errorf("store events: %w", err)
		}
		inserted := 0
		for rows.Next() {
			var key projectKey
			var eventID int64
			if err := rows.Scan(&key.projectID, &key.key, &eventID); err != nil {
				rows.Close()
				return fmt.Errorf("store events: %w", err)
			}
			inserted++
			ev := byUUID[key]
			if ev == nil {
				continue
			}
			for _, f := range ev.ResolvedFrames {
				// Frames tied to a symbol set, or to a ref that has none yet (a fetch
				// deferred by the hourly cap), are resolved again later: remember
				// which events hold them so those events are regrouped too.
				if f.RawID == "" || f.Resolution == nil || (f.Resolution.SymbolSetID == 0 && f.Resolution.SymbolSetRef == "") {
					continue
				}
				b.eventFrames = append(b.eventFrames, eventFrame{ev.ProjectID, f.RawID, eventID})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store events: %w", err)
		}
		if inserted != len(chunk) {
			return fmt.Errorf("store events: %d of %d rows written", inserted, len(chunk))
		}
	}
	return nil
}

// eventRowsPerStatement is how many events insertEvents writes per
// statement (17 values each).
const eventRowsPerStatement = 25

// updateRows runs "WITH v(columns) AS (VALUES (?, …), …) " + update for n
// rows, issueRowsPerStatement at a time; row appends the values of row i to
// args. A column is an integer unless named "name:text": PostgreSQL types
// the parameters of a VALUES list from these casts.
func updateRows(ctx context.Context, tx txRunner, n int, columns []string, update string, row func(i int, args []any) []any) error {
	names := make([]string, len(columns))
	casts := make([]string, len(columns))
	for i, c := range columns {
		name, kind, _ := strings.Cut(c, ":")
		names[i], casts[i] = name, "CAST(? AS BIGINT)"
		if kind == "text" {
			casts[i] = "CAST(? AS TEXT)"
		}
	}
	one := "(" + strings.Join(casts, ", ") + "),"
	head := "WITH v(" + strings.Join(names, ", ") + ") AS (VALUES "
	for start := 0; start < n; start += issueRowsPerStatement {
		end := min(n, start+issueRowsPerStatement)
		args := make([]any, 0, len(columns)*(end-start))
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		if _, err := tx.ExecContext(ctx, head+strings.TrimSuffix(strings.Repeat(one, end-start), ",")+") "+update, args...); err != nil {
			return err
		}
	}
	return nil
}

// issueRowsPerStatement is how many issues updateRows changes per
// statement. A batch is 100 events, often of as many issues.
const issueRowsPerStatement = 32

// countUsers upserts the batch's user values, several rows per statement,
// and says per issue how many of them the issue had not seen before.
func (b *batchTotals) countUsers(ctx context.Context, tx txRunner, users []issueValue) (map[int64]int64, error) {
	stmts := tx.statements()
	newUsers := map[int64]int64{}
	for start := 0; start < len(users); start += rowsPerStatement {
		chunk := users[start:min(len(users), start+rowsPerStatement)]
		args := make([]any, 0, 7*len(chunk))
		for _, k := range chunk {
			v := b.values[k]
			args = append(args, v.projectID, k.issue, k.key, k.value, v.count, v.first, v.last)
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen)
			VALUES `+strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?),", len(chunk)), ",")+`
			ON CONFLICT (issue_id, key, value) DO UPDATE SET count = issue_values.count + excluded.count,
			first_seen = `+stmts.least("issue_values.first_seen", "excluded.first_seen")+`,
			last_seen = `+stmts.greatest("issue_values.last_seen", "excluded.last_seen")+`
			RETURNING issue_id, value, count`, args...)
		if err != nil {
			return nil, fmt.Errorf("count users: %w", err)
		}
		for rows.Next() {
			var k issueValue
			var count int64
			if err := rows.Scan(&k.issue, &k.value, &count); err != nil {
				rows.Close()
				return nil, fmt.Errorf("count users: %w", err)
			}
			k.key = valueUser
			if v := b.values[k]; v != nil && count == v.count { // the row is new: a user not seen on the issue before
				newUsers[k.issue]++
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("count users: %w", err)
		}
	}
	return newUsers, nil
}

// insertRows runs head + "(?, …), (?, …)" + tail for n rows of cols
// values each, rowsPerStatement rows at a time (the few statement shapes
// stay prepared); row appends the values of row i to args.
func insertRows(ctx context.Context, tx txRunner, n, cols int, head, tail string, row func(i int, args []any) []any) error {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + "),"
	for start := 0; start < n; start += rowsPerStatement {
		end := min(n, start+rowsPerStatement)
		args := make([]any, 0, cols*(end-start))
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		if _, err := tx.ExecContext(ctx, head+strings.TrimSuffix(strings.Repeat(one, end-start), ",")+tail, args...); err != nil {
			return err
		}
	}
	return nil
}

// rowsPerStatement is how many rows insertRows writes per statement: one
// statement per row made the store path spend most of its time in
// statement overhead.
const rowsPerStatement = 16
