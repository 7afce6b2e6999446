package db

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
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
	size int64 // payload bytes of rows, reserved by Append
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
	return w.send(ctx, rows, size)
}

// send hands rows (of size payload bytes, reserved) to Run and waits for
// their commit; Run's commit settles the reservation once handed over.
func (w *InboxWriter) send(ctx context.Context, rows []InboxRow, size int64) error {
	req := appendRequest{rows: rows, size: size, done: make(chan error, 1)}
	select {
	case w.reqs <- req:
	case <-w.stopped:
		w.db.inbox.unreserve(int64(len(rows)), size)
		return ErrInboxClosed
	case <-ctx.Done():
		w.db.inbox.unreserve(int64(len(rows)), size)
		return ctx.Err()
	}
	// Once handed over, the commit is waited for even if the client went away:
	// the request is answered only with the truth about durability.
	return <-req.done
}

// Run commits batches until ctx is done. Requests already handed over are
// always committed before it returns. Between commits it recounts the inbox
// every inboxRecountEvery, for what other nodes appended and drained.
func (w *InboxWriter) Run(ctx context.Context) {
	defer close(w.stopped)
	recount := time.NewTicker(inboxRecountEvery)
	defer recount.Stop()
	for {
		var first appendRequest
		select {
		case first = <-w.reqs:
		case <-recount.C:
			// No commit of this writer is under way, so the table holds every
			// row it committed and pending only what it has not. A recount
			// that fails keeps the counters as they were; the next corrects them.
			_ = w.db.inbox.load(ctx, w.db.read)
			continue
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
			w.settle(r, w.db.insertInbox(ctx, []appendRequest{r}))
		}
		return
	}
	for _, r := range batch {
		w.settle(r, err)
	}
}

// settle moves a request's reservation to the stored counters if its commit
// succeeded (gives it back if not) and answers it.
func (w *InboxWriter) settle(r appendRequest, err error) {
	if err == nil {
		w.db.inbox.committed(int64(len(r.rows)), r.size)
	} else {
		w.db.inbox.unreserve(int64(len(r.rows)), r.size)
	}
	r.done <- err
}

func (d *DB) insertInbox(ctx context.Context, batch []appendRequest) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("append to inbox: %w", err)
	}
	defer tx.Rollback()
	var rows []*InboxRow
	for _, req := range batch {
		for i := range req.rows {
			rows = append(rows, &req.rows[i])
		}
	}
	// The ids are chosen first, so that the rows and their payloads (a table
	// of their own, see migration 0025) go several per statement: one
	// statement per row was most of the inbox's time per event.
	ids, err := newInboxIDs(ctx, tx, len(rows))
	if err != nil {
		return fmt.Errorf("append to inbox: %w", err)
	}
	if err := insertRows(ctx, tx, len(rows), 6, "INSERT INTO inbox(id, project_id, format, received_at, payload_bytes, uuid) VALUES ", "",
		func(i int, args []any) []any {
			r := rows[i]
			return append(args, ids[i], r.ProjectID, r.Format, millis(r.ReceivedAt), len(r.Payload), r.UUID)
		}); err != nil {
		return fmt.Errorf("append to inbox: %w", err)
	}
	if err := insertRows(ctx, tx, len(rows), 2, "INSERT INTO inbox_payloads(inbox_id, payload) VALUES ", "",
		func(i int, args []any) []any { return append(args, ids[i], rows[i].Payload) }); err != nil {
		return fmt.Errorf("append to inbox: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("append to inbox: %w", err)
	}
	return nil
}

// newInboxIDs hands out n new inbox ids, ascending, inside the write
// transaction tx.
func newInboxIDs(ctx context.Context, tx txRunner, n int) ([]int64, error) {
	if n == 0 {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, tx.statements().newInboxIDs, n)
	if err != nil {
		return nil, fmt.Errorf("new inbox ids: %w", err)
	}
	defer rows.Close()
	ids := make([]int64, 0, n)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("new inbox ids: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("new inbox ids: %w", err)
	}
	if len(ids) != n {
		return nil, fmt.Errorf("new inbox ids: %d of %d", len(ids), n)
	}
	slices.Sort(ids)
	return ids, nil
}

// ClaimInbox claims up to limit of the oldest inbox rows no node holds (never
// claimed, or their lease ended) for this node until lease from now, in one
// write transaction, and returns them oldest first. StoreBatch takes out only
// rows this node still holds; RenewInboxClaims keeps them while they are
// worked on.
func (d *DB) ClaimInbox(ctx context.Context, limit int, lease time.Duration) ([]InboxRow, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claim inbox rows: %w", err)
	}
	defer tx.Rollback()
	out, err := d.claimInbox(ctx, tx, limit, lease)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim inbox rows: %w", err)
	}
	return out, nil
}

// claimInbox is ClaimInbox inside the write transaction tx: the rows are
// this node's once tx commits.
func (d *DB) claimInbox(ctx context.Context, tx txRunner, limit int, lease time.Duration) ([]InboxRow, error) {
	now := time.Now()
	rows, err := tx.QueryContext(ctx, `UPDATE inbox SET claimed_by = ?, claimed_until = ?
		WHERE id IN (SELECT id FROM inbox WHERE claimed_until < ? ORDER BY id LIMIT ?)
		RETURNING id, project_id, format, received_at, attempts, uuid`,
		d.node, millis(now.Add(lease)), millis(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim inbox rows: %w", err)
	}
	defer rows.Close()
	var out []InboxRow
	for rows.Next() {
		var r InboxRow
		var received int64
		if err := rows.Scan(&r.ID, &r.ProjectID, &r.Format, &received, &r.Attempts, &r.UUID); err != nil {
			return nil, fmt.Errorf("claim inbox rows: %w", err)
		}
		r.ReceivedAt = fromMillis(received)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim inbox rows: %w", err)
	}
	rows.Close()
	// RETURNING gives no order.
	slices.SortFunc(out, func(a, b InboxRow) int { return cmp.Compare(a.ID, b.ID) })
	if err := readInboxPayloads(ctx, tx, out); err != nil {
		return nil, fmt.Errorf("claim inbox rows: %w", err)
	}
	return out, nil
}

// readInboxPayloads fills in the payloads of rows (sorted by id). A row
// whose payload is missing (written by something other than stacklens)
// gets an empty one, which the pipeline sets aside as unreadable.
func readInboxPayloads(ctx context.Context, tx txRunner, rows []InboxRow) error {
	for start := 0; start < len(rows); start += lookupChunk {
		chunk := rows[start:min(start+lookupChunk, len(rows))]
		ids := make([]int64, len(chunk))
		for i, r := range chunk {
			ids[i] = r.ID
		}
		args, in := paddedIn(nil, ids)
		payloads, err := tx.QueryContext(ctx, "SELECT inbox_id, payload FROM inbox_payloads WHERE inbox_id IN "+in, args...)
		if err != nil {
			return err
		}
		for payloads.Next() {
			var id int64
			var payload []byte
			if err := payloads.Scan(&id, &payload); err != nil {
				payloads.Close()
				return err
			}
			if i, found := slices.BinarySearchFunc(chunk, id, func(r InboxRow, id int64) int { return cmp.Compare(r.ID, id) }); found {
				chunk[i].Payload = payload
			}
		}
		payloads.Close()
		if err := payloads.Err(); err != nil {
			return err
		}
		for i := range chunk {
			if chunk[i].Payload == nil {
				chunk[i].Payload = []byte{}
			}
		}
	}
	return nil
}

// RenewInboxClaims extends this node's leases of the rows ids to lease from
// now and tells how many of them it still held.
func (d *DB) RenewInboxClaims(ctx context.Context, ids []int64, lease time.Duration) (int, error) {
	n, err := d.renewClaims(ctx, inboxTable, ids, lease)
	if err != nil {
		return 0, fmt.Errorf("renew claims of %d inbox rows: %w", len(ids), err)
	}
	return n, nil
}

// ReleaseInboxClaims gives up this node's claims of the rows ids (ones it
// will not process after all), so any node may claim them at once.
func (d *DB) ReleaseInboxClaims(ctx context.Context, ids []int64) error {
	if err := d.releaseClaims(ctx, inboxTable, ids); err != nil {
		return fmt.Errorf("release claims of %d inbox rows: %w", len(ids), err)
	}
	return nil
}

// CountInbox tells how many events wait for the pipeline.
func (d *DB) CountInbox(ctx context.Context) (int, error) {
	var n int
	if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM inbox").Scan(&n); err != nil {
		return 0, fmt.Errorf("count inbox: %w", err)
	}
	return n, nil
}
