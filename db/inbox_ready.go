package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// checkDisk refuses capture while the disk under the database has less free
// space than the limits keep. SQLite needs room for the WAL and for
// checkpoints: a disk filled to the last byte fails every write, reads
// included when the WAL cannot be checkpointed. Where free space cannot be
// measured at all the check is skipped; a failing commit still answers 503.
func (w *InboxWriter) checkDisk() error {
	if w.limits.MinFreeDiskBytes == 0 {
		return nil
	}
	free, err := w.db.FreeDiskBytes()
	if err != nil {
		return nil
	}
	if free < w.limits.MinFreeDiskBytes {
		return &RefusedError{Reason: RefusedDiskLow, RetryAfter: diskLowRetry,
			Detail: fmt.Sprintf("The disk holding this server's database has %d bytes free, less than the %d it keeps free; it takes no events until space is made.", free, w.limits.MinFreeDiskBytes)}
	}
	return nil
}

// Readiness is what /readyz reports.
type Readiness struct {
	Ready bool
	// Reason is a short code when not ready: inbox_full, disk_low,
	// disk_not_writable, disk_unmeasurable, writer_stuck, writer_stopped.
	Reason string
	// Detail is a sentence a person understands.
	Detail string
	Inbox  InboxLoad
	Limits InboxLimits
	// DiskMeasured says FreeDiskBytes was measured: not where statfs is
	// missing, nor on PostgreSQL, whose disk is the database server's.
	DiskMeasured    bool
	FreeDiskBytes   uint64
	WriterRoundTrip time.Duration
}

// writerProbeTimeout is how long an empty transaction through the writer may
// take before the writer counts as stuck. Generous: under a flood a batch
// commit takes tens of milliseconds, not seconds.
const writerProbeTimeout = 5 * time.Second

// Ready tells whether capture can be accepted now: the inbox has room, the
// disk under the database is writable and above the free-space threshold,
// and the writer commits an (empty) transaction in time.
func (w *InboxWriter) Ready(ctx context.Context) Readiness {
	r := Readiness{Inbox: w.db.InboxLoad(), Limits: w.limits}
	notReady := func(reason, detail string) Readiness {
		r.Reason, r.Detail = reason, detail
		return r
	}
	if (w.limits.MaxEvents > 0 && r.Inbox.Events >= w.limits.MaxEvents) || (w.limits.MaxBytes > 0 && r.Inbox.Bytes >= w.limits.MaxBytes) {
		return notReady(RefusedInboxFull, fmt.Sprintf("The inbox holds %d events (%d bytes), as many as this server is set to hold (STACKLENS_INBOX_MAX_EVENTS, STACKLENS_INBOX_MAX_BYTES).", r.Inbox.Events, r.Inbox.Bytes))
	}
	free, err := w.db.FreeDiskBytes()
	switch {
	case errors.Is(err, errNoStatfs):
	case err != nil:
		return notReady("disk_unmeasurable", fmt.Sprintf("The free space could not be measured: %v.", err))
	default:
		r.DiskMeasured, r.FreeDiskBytes = true, free
		if free < w.limits.MinFreeDiskBytes {
			return notReady(RefusedDiskLow, fmt.Sprintf("The disk holding the database has %d bytes free, less than the %d this server keeps free (STACKLENS_MIN_FREE_DISK_BYTES).", free, w.limits.MinFreeDiskBytes))
		}
	}
	if err := w.db.CheckDiskWritable(); err != nil {
		return notReady("disk_not_writable", "The directory holding the database cannot be written: "+err.Error()+".")
	}
	probeCtx, cancel := context.WithTimeout(ctx, writerProbeTimeout)
	defer cancel()
	start := time.Now()
	err = w.probe(probeCtx)
	r.WriterRoundTrip = time.Since(start)
	switch {
	case errors.Is(err, ErrInboxClosed):
		return notReady("writer_stopped", "The inbox writer has stopped; the server is shutting down.")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return notReady("writer_stuck", fmt.Sprintf("The inbox writer did not commit an empty transaction within %s.", writerProbeTimeout))
	case err != nil:
		return notReady("writer_failed", "The inbox writer could not commit: "+err.Error()+".")
	}
	r.Ready = true
	return r
}

// probe sends an empty request through Run and waits for its commit, giving
// up when ctx ends (unlike Append, nothing durable depends on the answer).
func (w *InboxWriter) probe(ctx context.Context) error {
	req := appendRequest{done: make(chan error, 1)}
	select {
	case w.reqs <- req:
	case <-w.stopped:
		return ErrInboxClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Refusal is the refusal any append would get right now (the inbox full, or
// the disk below its threshold), or nil. It costs two atomic loads and a
// statfs: cheap enough to run before reading a request's body.
func (w *InboxWriter) Refusal() error {
	if err := w.checkDisk(); err != nil {
		return err
	}
	load := w.db.InboxLoad()
	if (w.limits.MaxEvents > 0 && load.Events >= w.limits.MaxEvents) || (w.limits.MaxBytes > 0 && load.Bytes >= w.limits.MaxBytes) {
		return inboxFull(load)
	}
	return nil
}

// OldestInboxRow tells when the row that has waited longest in the inbox
// was received (the processing lag on /metrics); ok is false when the inbox
// is empty. Rows are taken in id order, so the lowest id is the oldest.
func (d *DB) OldestInboxRow(ctx context.Context) (received time.Time, ok bool, err error) {
	var ms sql.NullInt64
	if err := d.read.QueryRowContext(ctx, "SELECT (SELECT received_at FROM inbox ORDER BY id LIMIT 1)").Scan(&ms); err != nil {
		return time.Time{}, false, fmt.Errorf("oldest inbox row: %w", err)
	}
	return nullMillis(ms), ms.Valid, nil
}
