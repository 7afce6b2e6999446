package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/triage"
)

// NewEvent is one processed event ready to be stored by StoreBatch.
type NewEvent struct {
	InboxID     int64 // the inbox row it came from, removed in the same transaction
	ProjectID   int64
	UUID        string
	Fingerprint string
	// IssueName and IssueDescription name the issue if this event creates one.
	IssueName        string
	IssueDescription string
	Timestamp        time.Time
	ReceivedAt       time.Time
	DistinctID       string
	URL              string
	Lib              string
	LibVersion       string
	Release          string
	Browser          string
	OS               string
	// Environment and Tags (Sentry's, or a PostHog event's $environment)
	// are counted in issue_values, so the list filters by them without
	// reading events.
	Environment string
	Tags        map[string]string
	Data        []byte // the stored form of the event (event.EncodeStored)
	Raw         []byte // the event as sent
	// packed says Data and Raw are compressed as stored (Pack).
	packed bool
	// SearchTerms are the event's searchable strings (SearchTerms of the
	// event); nil: read them from Data.
	SearchTerms []string
	// ResolvedFrames are the event's frames that symbolication looked at,
	// with their resolutions: recorded by raw id in the same transaction, and
	// tying the event to their symbol sets for later re-resolution.
	ResolvedFrames []event.Frame
}

// RejectedInbox is an inbox row the pipeline could not use; it is kept with its error.
type RejectedInbox struct {
	Row InboxRow
	Err string
}

// Stored says what happened to one event of a batch.
type Stored struct {
	IssueID    int64
	NewIssue   bool
	Regression bool // a resolved issue was reopened by this event
	Duplicate  bool // an event with this uuid was already stored: nothing counted
	Suppressed bool // counted on its suppressed issue, not stored
	// NotHeld: its inbox row was no longer this node's claim, so nothing
	// was done with it here (the node holding the row stores it).
	NotHeld bool
}

// Notifies tells whether the stored event is worth a notification
// (triage's rule); a duplicate never is.
func (s Stored) Notifies() bool {
	return !s.Duplicate && !s.NotHeld && triage.Outcome{NewIssue: s.NewIssue, Regression: s.Regression, Suppressed: s.Suppressed}.Notifies()
}

// StoreBatch stores processed events, groups them into issues and removes
// their inbox rows, all in one transaction: a crash anywhere leaves either
// nothing done (the inbox rows are processed again) or everything. An event
// or rejected row whose inbox row this node no longer holds (its lease ended
// and another node claimed it, or it was taken out already) is skipped:
// whoever holds the row stores it. Events without an inbox row (InboxID 0)
// are stored as they are; a uuid already stored is a Duplicate either way.
func (d *DB) StoreBatch(ctx context.Context, events []NewEvent, rejected []RejectedInbox) ([]Stored, error) {
	return d.StoreBatchClaimingNext(ctx, events, rejected, NextClaim{})
}

// NextClaim asks StoreBatchClaimingNext to claim the next batch of inbox
// rows in the batch's own transaction. A claim is a write: on its own it is
// one more transaction, commit and fsync per batch on the path that bounds
// processing.
type NextClaim struct {
	Limit int // 0: claim nothing
	Lease time.Duration
	// Claimed is called with the claimed rows as soon as they are read,
	// before the batch is written, so that they can be prepared meanwhile.
	// They are this node's only if StoreBatchClaimingNext then succeeds;
	// after an error nothing was claimed and they must not be stored.
	Claimed func([]InboxRow)
}

// StoreBatchClaimingNext is StoreBatch that also claims, as ClaimInbox
// would, up to next.Limit of the oldest inbox rows no node holds, in the
// same transaction.
func (d *DB) StoreBatchClaimingNext(ctx context.Context, events []NewEvent, rejected []RejectedInbox, next NextClaim) ([]Stored, error) {
	tx, err := d.beginCached(ctx)
	if err != nil {
		return nil, fmt.Errorf("store batch: %w", err)
	}
	defer tx.Rollback()
	if next.Limit > 0 {
		rows, err := d.claimInbox(ctx, tx, next.Limit, next.Lease)
		if err != nil {
			return nil, fmt.Errorf("store batch: %w", err)
		}
		next.Claimed(rows)
	}
	now := millis(time.Now())
	out := make([]Stored, len(events))
	var drained InboxLoad // inbox rows this transaction removes
	totals := newBatchTotals()
	lookups, err := loadBatchLookups(ctx, tx, events)
	if err != nil {
		return nil, fmt.Errorf("store batch: %w", err)
	}
	var inboxIDs []int64
	for _, ev := range events {
		if ev.InboxID != 0 {
			inboxIDs = append(inboxIDs, ev.InboxID)
		}
	}
	held, err := d.takeInboxRows(ctx, tx, inboxIDs, &drained)
	if err != nil {
		return nil, err
	}
	for i, ev := range events {
		if ev.InboxID != 0 && !held[ev.InboxID] {
			out[i] = Stored{NotHeld: true}
			continue
		}
		totals.frames(ev.ProjectID, ev.ResolvedFrames)
		stored := ev
		d.Pack(&stored)
		st, err := storeEvent(ctx, tx, stored, now, totals, lookups)
		if err != nil {
			return nil, fmt.Errorf("store event %s: %w", ev.UUID, err)
		}
		if st.Notifies() {
			if err := addNoticeTx(ctx, tx, ev, st, now); err != nil {
				return nil, err
			}
		}
		out[i] = st
	}
	if err := totals.write(ctx, tx); err != nil {
		return nil, fmt.Errorf("store batch: %w", err)
	}
	for _, r := range rejected {
		held, err := d.takeInboxRow(ctx, tx, r.Row.ID, &drained)
		if err != nil {
			return nil, err
		}
		if !held {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO inbox_rejected(project_id, format, received_at, payload, error, failed_at)
			VALUES (?, ?, ?, ?, ?, ?)`, r.Row.ProjectID, r.Row.Format, millis(r.Row.ReceivedAt), r.Row.Payload, r.Err, now); err != nil {
			return nil, fmt.Errorf("keep rejected inbox row %d: %w", r.Row.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store batch: %w", err)
	}
	d.inboxDrained(drained)
	return out, nil
}

func storeEvent(ctx context.Context, tx txRunner, ev NewEvent, now int64, totals *batchTotals, lookups *batchLookups) (Stored, error) {
	var st Stored
	if lookups.stored[projectKey{ev.ProjectID, ev.UUID}] {
		st.Duplicate = true
		return st, nil
	}
	ts := millis(ev.Timestamp)
	issue, err := lookups.issueOf(ctx, tx, ev.ProjectID, ev.Fingerprint)
	if err != nil {
		return st, err
	}
	st.IssueID = issue.id
	searchText := issue.searchText
	outcome := triage.Group(issue.current, ev.Release)
	if outcome.NewIssue || outcome.Regression {
		lookups.issueChanged(ev.ProjectID, ev.Fingerprint)
	}
	st.NewIssue, st.Regression, st.Suppressed = outcome.NewIssue, outcome.Regression, outcome.Suppressed
	if outcome.NewIssue {
		// A new issue starts with its first event's search text, so the
		// search index gets the issue once rather than once and again.
		if searchText = withTerms("", ev.searchTerms()); searchText == "\n" {
			searchText = ""
		}
		var newID int64
		err := tx.QueryRowContext(ctx, `INSERT INTO issues(project_id, name, description, status, first_seen, last_seen,
			occurrences, created_at, updated_at, search_text) VALUES (?, ?, ?, 'active', ?, ?, 0, ?, ?, ?) RETURNING id`,
			ev.ProjectID, ev.IssueName, ev.IssueDescription, ts, ts, now, now, searchText).Scan(&newID)
		if err != nil {
			return st, err
		}
		st.IssueID = newID
		if _, err := tx.ExecContext(ctx, "INSERT INTO issue_fingerprints(project_id, fingerprint, issue_id, created_at) VALUES (?, ?, ?, ?)",
			ev.ProjectID, ev.Fingerprint, st.IssueID, now); err != nil {
			return st, err
		}
	}
	if outcome.Regression {
		if err := reopenAsRegressionTx(ctx, tx, ev.ProjectID, st.IssueID, ev.Release, now); err != nil {
			return st, err
		}
	}
	// Counted on the issue even when suppressed; written once per batch (batchTotals).
	totals.counted(st.IssueID, searchText, ts)
	if !outcome.KeepsEvent() {
		return st, nil
	}
	// The row itself is written with the batch's others (batchTotals.write).
	lookups.stored[projectKey{ev.ProjectID, ev.UUID}] = true
	totals.newEvents = append(totals.newEvents, eventRow{ev, st.IssueID, ts})
	totals.stored(ev, st.IssueID, ts, ev.searchTerms())
	return st, nil
}

// searchTerms are the event's searchable strings: as the pipeline gave
// them, else read from its stored form.
func (ev NewEvent) searchTerms() []string {
	if ev.SearchTerms == nil {
		return searchTerms(ev.Data)
	}
	return ev.SearchTerms
}

// regroupTx gives a stored event a new fingerprint. If another issue already
// owns that fingerprint, the event's issue is merged into it (an issue is
// never left split across fingerprints that now mean the same error);
// otherwise the fingerprint is added to the event's issue. It returns the
// issue the event belongs to afterwards and whether a merge happened.
func regroupTx(ctx context.Context, tx *txn, projectID, eventID int64, fingerprint string) (issueID int64, merged bool, err error) {
	if issueID, err = eventIssueTx(ctx, tx, projectID, eventID); err != nil {
		return 0, false, err
	}
	var owner int64
	err = tx.QueryRowContext(ctx, "SELECT issue_id FROM issue_fingerprints WHERE project_id = ? AND fingerprint = ?", projectID, fingerprint).Scan(&owner)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, "INSERT INTO issue_fingerprints(project_id, fingerprint, issue_id, created_at) VALUES (?, ?, ?, ?)",
			projectID, fingerprint, issueID, millis(time.Now())); err != nil {
			return 0, false, fmt.Errorf("regroup event %d: %w", eventID, err)
		}
	case err != nil:
		return 0, false, fmt.Errorf("regroup event %d: %w", eventID, err)
	case owner != issueID:
		if _, err := mergeForTriageTx(ctx, tx, projectID, owner, []int64{issueID}); err != nil {
			return 0, false, err
		}
		issueID, merged = owner, true
	}
	if _, err := tx.ExecContext(ctx, "UPDATE events SET fingerprint = ? WHERE id = ?", fingerprint, eventID); err != nil {
		return 0, false, fmt.Errorf("regroup event %d: %w", eventID, err)
	}
	return issueID, merged, nil
}

// eventIssueTx is the issue a stored event belongs to now.
func eventIssueTx(ctx context.Context, tx *txn, projectID, eventID int64) (issueID int64, err error) {
	if err := tx.QueryRowContext(ctx, "SELECT issue_id FROM events WHERE project_id = ? AND id = ?", projectID, eventID).Scan(&issueID); err != nil {
		return 0, fmt.Errorf("regroup event %d: %w", eventID, err)
	}
	return issueID, nil
}

// StoredEvent is an event as read back for pages and the API.
type StoredEvent struct {
	ID          int64
	IssueID     int64
	UUID        string
	Fingerprint string
	Timestamp   time.Time
	ReceivedAt  time.Time
	DistinctID  string
	Data        []byte // the stored form (event.DecodeStored reads it with Raw)
	Raw         []byte // the event as sent
}

// IssueEvents returns an issue's newest events first.
func (d *DB) IssueEvents(ctx context.Context, projectID, issueID int64, limit int) ([]StoredEvent, error) {
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	rows, err := d.read.QueryContext(ctx, `SELECT id, issue_id, uuid, fingerprint, timestamp, received_at, distinct_id, data, raw
		FROM events WHERE project_id = ? AND issue_id = ? ORDER BY timestamp DESC, id DESC LIMIT ?`, projectID, issueID, limit)
	if err != nil {
		return nil, fmt.Errorf("list events of issue %d: %w", issueID, err)
	}
	defer rows.Close()
	var out []StoredEvent
	for rows.Next() {
		var e StoredEvent
		var ts, received int64
		if err := rows.Scan(&e.ID, &e.IssueID, &e.UUID, &e.Fingerprint, &ts, &received, &e.DistinctID, &e.Data, &e.Raw); err != nil {
			return nil, fmt.Errorf("list events of issue %d: %w", issueID, err)
		}
		e.Timestamp, e.ReceivedAt = fromMillis(ts), fromMillis(received)
		if err := d.unpackStored(&e); err != nil {
			return nil, fmt.Errorf("list events of issue %d: %w", issueID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
