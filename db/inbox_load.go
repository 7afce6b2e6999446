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
// being appended, so admission is two atomic adds instead of a COUNT(*) per
// request. It is set from the table at open, raised by Append before the
// commit (a reservation, given back if the commit fails) and lowered when
// the pipeline or a project deletion removes rows.
type inboxLoad struct {
	events atomic.Int64
	bytes  atomic.Int64
}

// load sets the counters from the table.
func (l *inboxLoad) load(ctx context.Context, d *DB) error {
	var events, bytes int64
	if err := d.write.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(length(payload)), 0) FROM inbox").Scan(&events, &bytes); err != nil {
		return fmt.Errorf("measure inbox: %w", err)
	}
	l.events.Store(events)
	l.bytes.Store(bytes)
	return nil
}

// reserve counts events and bytes in if they fit under the limits.
func (l *inboxLoad) reserve(events, bytes int64, lim InboxLimits) error {
	e := l.events.Add(events)
	b := l.bytes.Add(bytes)
	if (lim.MaxEvents > 0 && e > lim.MaxEvents) || (lim.MaxBytes > 0 && b > lim.MaxBytes) {
		l.release(events, bytes)
		return inboxFull(InboxLoad{Events: e - events, Bytes: b - bytes})
	}
	return nil
}

func inboxFull(load InboxLoad) *RefusedError {
	return &RefusedError{Reason: RefusedInboxFull, RetryAfter: inboxFullRetry,
		Detail: fmt.Sprintf("This server has %d events (%d bytes) waiting to be processed, as many as it is set to hold; it takes no more until some are done. Retry in a few seconds.", load.Events, load.Bytes)}
}

func (l *inboxLoad) release(events, bytes int64) {
	l.events.Add(-events)
	l.bytes.Add(-bytes)
}

// InboxLoad is what waits in the inbox (and is being appended) right now.
type InboxLoad struct {
	Events int64
	Bytes  int64
}

// InboxLoad tells how much waits for the pipeline, from the counters (no query).
func (d *DB) InboxLoad() InboxLoad {
	return InboxLoad{Events: d.inbox.events.Load(), Bytes: d.inbox.bytes.Load()}
}

// removeInboxRow deletes one inbox row inside tx and tells how many rows and
// payload bytes went, for the counters (after commit).
func removeInboxRow(ctx context.Context, tx txRunner, id int64, gone *InboxLoad) error {
	var size int64
	err := tx.QueryRowContext(ctx, "DELETE FROM inbox WHERE id = ? RETURNING length(payload)", id).Scan(&size)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove inbox row %d: %w", id, err)
	}
	gone.Events++
	gone.Bytes += size
	return nil
}

// inboxDrained lowers the counters by rows a committed transaction removed.
func (d *DB) inboxDrained(gone InboxLoad) {
	if gone.Events != 0 || gone.Bytes != 0 {
		d.inbox.release(gone.Events, gone.Bytes)
	}
}
