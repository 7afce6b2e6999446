package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stacklens/stacklens/event"
)

// InboxRow is one accepted event waiting for the pipeline.
type InboxRow struct {
	ID         int64
	ProjectID  int64
	Format     string // how Payload is written: "posthog" or "sentry"
	ReceivedAt time.Time
	Payload    []byte
	Attempts   int
	// UUID is the event's identity: the client's uuid, or one assigned on
	// receipt. Append gives a row without one a random uuid (event.IdentityUUID),
	// so every accepted event has its own before it is answered.
	UUID string
}

// ErrInboxClosed is returned by Append after the writer has stopped.
var ErrInboxClosed = errors.New("inbox writer stopped")

// InboxWriter commits inbox rows from many concurrent requests in shared
// transactions (group commit): while one transaction waits on fsync, the next
// requests queue up and are committed together, so synchronous=FULL costs one
// fsync per batch instead of one per request.
type InboxWriter struct {
	db      *DB
	reqs    chan appendRequest
	stopped chan struct{}
	// maxBatch bounds how many requests share one transaction.
	maxBatch int
	limits   InboxLimits
}

type appendRequest struct {
	rows []InboxRow
	done chan error
}

// NewInboxWriter makes a writer that refuses rows beyond limits; call Run in its own goroutine.
func (d *DB) NewInboxWriter(limits InboxLimits) *InboxWriter {
	return &InboxWriter{db: d, reqs: make(chan appendRequest), stopped: make(chan struct{}), maxBatch: 256, limits: limits}
}

// Append durably stores rows; it returns after their transaction committed.
// A row without a UUID is given a random one (the caller's slice is updated).
// When the inbox is full or the disk nearly so it stores nothing and returns
// a *RefusedError (see IsRefused).
func (w *InboxWriter) Append(ctx context.Context, rows []InboxRow) error {
	if len(rows) == 0 {
		return nil
	}
	if err := w.checkDisk(); err != nil {
		return err
	}
	var size int64
	for _, r := range rows {
		size += int64(len(r.Payload))
	}
	if err := w.db.inbox.reserve(int64(len(rows)), size, w.limits); err != nil {
		return err
	}
	for i := range rows {
		// Chosen here, once: a retried commit keeps the same identity.
		rows[i].UUID = event.IdentityUUID(rows[i].UUID)
	}
	err := w.send(ctx, rows)
	if err != nil {
		w.db.inbox.release(int64(len(rows)), size)
	}
	return err
}

// send hands rows to Run and waits for their commit.
func (w *InboxWriter) send(ctx context.Context, rows []InboxRow) error {
	req := appendRequest{rows: rows, done: make(chan error, 1)}
	select {
	case w.reqs <- req:
	case <-w.stopped:
		return ErrInboxClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once handed over, the commit is waited for even if the client went away:
	// the request is answered only with the truth about durability.
	return <-req.done
}

// Run commits batches until ctx is done. Requests already handed over are
// always committed before it returns.
func (w *InboxWriter) Run(ctx context.Context) {
	defer close(w.stopped)
	for {
		var first appendRequest
		select {
		case first = <-w.reqs:
		case <-ctx.Done():
			return
		}
		batch := []appendRequest{first}
	gather:
		for len(batch) < w.maxBatch {
			select {
			case r := <-w.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		w.commit(context.WithoutCancel(ctx), batch)
	}
}

// commit stores a batch in one transaction and answers each request.
func (w *InboxWriter) commit(ctx context.Context, batch []appendRequest) {
	err := w.db.insertInbox(ctx, batch)
	if err != nil && len(batch) > 1 {
		// One request's bad row (say, for a project deleted a moment ago)
		// must not fail the others that shared its transaction.
		for _, r := range batch {
			r.done <- w.db.insertInbox(ctx, []appendRequest{r})
		}
		return
	}
	for _, r := range batch {
		r.done <- err
	}
}

func (d *DB) insertInbox(ctx context.Context, batch []appendRequest) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("append to inbox: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO inbox(project_id, format, received_at, payload, uuid) VALUES (?, ?, ?, ?, ?)")
	if err != nil {
		return fmt.Errorf("append to inbox: %w", err)
	}
	defer stmt.Close()
	for _, req := range batch {
		for _, r := range req.rows {
			if _, err := stmt.ExecContext(ctx, r.ProjectID, r.Format, millis(r.ReceivedAt), r.Payload, r.UUID); err != nil {
				return fmt.Errorf("append to inbox: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("append to inbox: %w", err)
	}
	return nil
}

// PendingInbox returns up to limit of the oldest inbox rows.
func (d *DB) PendingInbox(ctx context.Context, limit int) ([]InboxRow, error) {
	return d.PendingInboxAfter(ctx, 0, limit)
}

// PendingInboxAfter returns up to limit of the oldest inbox rows after the
// row afterID (0: from the oldest). Rows after a given one are read from a
// reader connection, so the pipeline reads its next batch while the writer
// stores the current one; they were committed before they could be read.
func (d *DB) PendingInboxAfter(ctx context.Context, afterID int64, limit int) ([]InboxRow, error) {
	conn := d.write
	if afterID > 0 {
		conn = d.read
	}
	rows, err := conn.QueryContext(ctx,
		"SELECT id, project_id, format, received_at, payload, attempts, uuid FROM inbox WHERE id > ? ORDER BY id LIMIT ?", afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("read inbox: %w", err)
	}
	defer rows.Close()
	var out []InboxRow
	for rows.Next() {
		var r InboxRow
		var received int64
		if err := rows.Scan(&r.ID, &r.ProjectID, &r.Format, &received, &r.Payload, &r.Attempts, &r.UUID); err != nil {
			return nil, fmt.Errorf("read inbox: %w", err)
		}
		r.ReceivedAt = fromMillis(received)
		out = append(out, r)
	}
	return out, rows.Err()
}

// CountInbox tells how many events wait for the pipeline.
func (d *DB) CountInbox(ctx context.Context) (int, error) {
	var n int
	if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM inbox").Scan(&n); err != nil {
		return 0, fmt.Errorf("count inbox: %w", err)
	}
	return n, nil
}
