package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// InboxLimits say how much may wait in the inbox, and how much free disk
// space must remain under the database, before capture is refused. Without
// them a flood fills memory and disk faster than the pipeline drains it.
type InboxLimits struct {
	// MaxEvents and MaxBytes cap the events (and their payload bytes) waiting
	// for the pipeline; 0 means no cap.
	MaxEvents int64
	MaxBytes  int64
	// MinFreeDiskBytes is the free space the file system holding the
	// database must keep; 0 means no check.
	MinFreeDiskBytes uint64
}

// DefaultInboxLimits fit a small box: 200,000 waiting events (about an hour
// of a busy app's errors) or 1 GiB of payloads, and 256 MiB of free disk kept.
func DefaultInboxLimits() InboxLimits {
	return InboxLimits{MaxEvents: 200_000, MaxBytes: 1 << 30, MinFreeDiskBytes: 256 << 20}
}

// Reasons a capture is refused by the inbox (RefusedError.Reason).
const (
	RefusedInboxFull = "inbox_full"
	RefusedDiskLow   = "disk_low"
)

// Retry-After of a refused capture: a full inbox drains in seconds; a full
// disk needs a person.
const (
	inboxFullRetry = 10 * time.Second
	diskLowRetry   = 60 * time.Second
)

// RefusedError says why the inbox takes no more events right now and when a
// client should try again.
type RefusedError struct {
	Reason     string // RefusedInboxFull or RefusedDiskLow
	Detail     string // a sentence a person understands
	RetryAfter time.Duration
}

func (e *RefusedError) Error() string { return e.Detail }

// IsRefused tells whether err is a refusal by the inbox's limits, and which.
func IsRefused(err error) (*RefusedError, bool) {
	var r *RefusedError
	ok := errors.As(err, &r)
	return r, ok
}

// inboxLoad counts the events and payload bytes in the inbox, plus those
// being appended, so admission is a few atomic operations instead of a
// COUNT(*) per request. stored is what the table holds: set from it at open
// and again every inboxRecountEvery by the writer's Run (other nodes append
// and drain the same table), raised by this node's commits and lowered by
// its drains in between. pending is what Append reserved and Run has not
// committed yet (given back if the commit fails).
//
// The bound this gives with several nodes: a node's counters miss at most
// what other nodes appended or drained during the last inboxRecountEvery.
// So the inbox can exceed MaxEvents (MaxBytes) by what the other nodes
// accept in one interval, and a node may go on refusing for up to one
// interval after another node drained the inbox.
type inboxLoad struct {
	storedEvents, storedBytes   atomic.Int64
	pendingEvents, pendingBytes atomic.Int64
}

// inboxRecountEvery is how often a running InboxWriter recounts the inbox.
// The recount reads the payload_bytes index (a few bytes a row), on a
// reader: 68 ms for a full inbox of 200,000 rows of 3 KB on a busy
// two-core machine (summing length(payload) took 1.3 s), nothing for an
// empty one.
const inboxRecountEvery = 2 * time.Second

// load sets the stored counters from the table, through q.
func (l *inboxLoad) load(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) error {
	var events, bytes int64
	if err := q.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(payload_bytes), 0) FROM inbox").Scan(&events, &bytes); err != nil {
		return fmt.Errorf("measure inbox: %w", err)
	}
	l.storedEvents.Store(events)
	l.storedBytes.Store(bytes)
	return nil
}

// current is what waits, stored or being appended.
func (l *inboxLoad) current() InboxLoad {
	return InboxLoad{Events: l.storedEvents.Load() + l.pendingEvents.Load(), Bytes: l.storedBytes.Load() + l.pendingBytes.Load()}
}

// reserve counts events and bytes in as pending if they fit under the limits.
func (l *inboxLoad) reserve(events, bytes int64, lim InboxLimits) error {
	e := l.pendingEvents.Add(events) + l.storedEvents.Load()
	b := l.pendingBytes.Add(bytes) + l.storedBytes.Load()
	if (lim.MaxEvents > 0 && e > lim.MaxEvents) || (lim.MaxBytes > 0 && b > lim.MaxBytes) {
		l.unreserve(events, bytes)
		return inboxFull(InboxLoad{Events: e - events, Bytes: b - bytes})
	}
	return nil
}

// unreserve gives back a reservation that was not committed.
func (l *inboxLoad) unreserve(events, bytes int64) {
	l.pendingEvents.Add(-events)
	l.pendingBytes.Add(-bytes)
}

// committed moves a reservation from pending to stored (stored first, so a
// reader never sees it missing).
func (l *inboxLoad) committed(events, bytes int64) {
	l.storedEvents.Add(events)
	l.storedBytes.Add(bytes)
	l.unreserve(events, bytes)
}

func inboxFull(load InboxLoad) *RefusedError {
	return &RefusedError{Reason: RefusedInboxFull, RetryAfter: inboxFullRetry,
		Detail: fmt.Sprintf("This server has %d events (%d bytes) waiting to be processed, as many as it is set to hold; it takes no more until some are done. Retry in a few seconds.", load.Events, load.Bytes)}
}

// drained lowers the stored counters by rows taken out of the table.
func (l *inboxLoad) drained(events, bytes int64) {
	l.storedEvents.Add(-events)
	l.storedBytes.Add(-bytes)
}

// InboxLoad is what waits in the inbox (and is being appended) right now.
type InboxLoad struct {
	Events int64
	Bytes  int64
}

// InboxLoad tells how much waits for the pipeline, from the counters (no
// query; see inboxLoad for how far they may lag other nodes).
func (d *DB) InboxLoad() InboxLoad { return d.inbox.current() }

// takeInboxRow deletes inbox row id inside tx if this node holds its claim,
// tells whether it did, and counts what went for the counters (after commit).
func (d *DB) takeInboxRow(ctx context.Context, tx txRunner, id int64, gone *InboxLoad) (bool, error) {
	var size int64
	err := tx.QueryRowContext(ctx, "DELETE FROM inbox WHERE id = ? AND claimed_by = ? RETURNING payload_bytes", id, d.node).Scan(&size)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remove inbox row %d: %w", id, err)
	}
	gone.Events++
	gone.Bytes += size
	return true, nil
}

// takeInboxRows is takeInboxRow for many rows, a few statements in all: it
// tells which of ids this node held (and now removed).
func (d *DB) takeInboxRows(ctx context.Context, tx txRunner, ids []int64, gone *InboxLoad) (map[int64]bool, error) {
	held := make(map[int64]bool, len(ids))
	for start := 0; start < len(ids); start += lookupChunk {
		chunk := ids[start:min(start+lookupChunk, len(ids))]
		args, in := paddedIn([]any{d.node}, chunk)
		rows, err := tx.QueryContext(ctx, "DELETE FROM inbox WHERE claimed_by = ? AND id IN "+in+" RETURNING id, payload_bytes", args...)
		if err != nil {
			return nil, fmt.Errorf("remove inbox rows: %w", err)
		}
		for rows.Next() {
			var id, size int64
			if err := rows.Scan(&id, &size); err != nil {
				rows.Close()
				return nil, fmt.Errorf("remove inbox rows: %w", err)
			}
			held[id] = true
			gone.Events++
			gone.Bytes += size
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("remove inbox rows: %w", err)
		}
	}
	return held, nil
}

// inboxDrained lowers the counters by rows a committed transaction removed.
func (d *DB) inboxDrained(gone InboxLoad) {
	if gone.Events != 0 || gone.Bytes != 0 {
		d.inbox.drained(gone.Events, gone.Bytes)
	}
}
