// Package pipeline drains the durable inbox in the background: it parses
// each accepted event, symbolicates its frames, fingerprints it and stores it
// in its issue — one transaction per batch, inbox rows removed in it.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/metrics"
	"github.com/stacklens/stacklens/symbols"
)

// Symbolicator resolves minified frames (symbols.Resolver implements it).
// None of its methods waits on the network: symbol sets are fetched in the
// background, and their frames are resolved again when the fetch ends.
type Symbolicator interface {
	// Sync brings the caches up to date with the symbol sets in the store
	// (another process sharing it may have replaced some); once per batch.
	Sync(ctx context.Context) error
	// StartFetches starts the background fetches ev's frames need and
	// returns a channel per fetch it started, closed when that fetch ends.
	StartFetches(ctx context.Context, projectID int64, ev *event.Event) ([]<-chan struct{}, error)
	// Symbolicate sets the resolution of ev's frames in place (the pipeline
	// records them with the event); frames waiting on a fetch are marked pending.
	Symbolicate(ctx context.Context, projectID int64, ev *event.Event) error
	// Reresolve resolves again the frames last resolved with a symbol set;
	// with record false the caller records the answers (RecordResolutions).
	Reresolve(ctx context.Context, projectID, symbolSetID int64, record bool) ([]event.Frame, error)
	// ResolveFrames resolves frames afresh and records the answers.
	ResolveFrames(ctx context.Context, projectID int64, frames []event.Frame) ([]event.Frame, error)
	// RecordResolutions stores frames' answers.
	RecordResolutions(ctx context.Context, projectID int64, frames []event.Frame) error
	// Forget drops cached parses of a symbol set.
	Forget(symbolSetID int64)
	// TakeChanged reports symbol sets whose background fetch ended since the last call.
	TakeChanged() []symbols.SymbolSetRef
	// FetchesEnded gets a value when a background fetch has ended.
	FetchesEnded() <-chan struct{}
	// ResumeFetches starts again the fetches left pending by an earlier run.
	ResumeFetches(ctx context.Context) error
}

// Notice is what happened to an issue because of a stored event, for notifications.
type Notice struct {
	ProjectID  int64
	IssueID    int64
	NewIssue   bool
	Regression bool
	Event      db.NewEvent
}

// Notifier hears about new issues and regressions. It must not block: the
// pipeline calls it after each batch is committed.
type Notifier interface {
	Notify(ctx context.Context, notices []Notice)
}

// Worker processes inbox rows. Create it with New and start Run once.
type Worker struct {
	// mu serialises batches with re-resolution, so an event is never
	// regrouped while the batch that stores it is being written.
	mu sync.Mutex
	// interruptions counts (under mu) the times anything but the drain
	// took mu to change what a batch is prepared with or may refer to:
	// re-resolution, retention, project deletion. A batch the drain prepared
	// ahead is stored only if none came in between.
	interruptions uint64
	// reresolving serialises resolving frames again (uploads, fetches that
	// ended, deletions), which holds mu only one page of events at a time.
	reresolving sync.Mutex
	// stopped is closed when Run's context ends: resolving frames again
	// for anyone stops between two pages of events (see regroup).
	stopped   chan struct{}
	stopOnce  sync.Once
	db        Store
	log       *slog.Logger
	symbols   Symbolicator
	notifier  Notifier
	metrics   *metrics.Metrics
	wake      chan struct{}
	batchSize int
	idlePoll  time.Duration
	// fetchWait is how long a batch waits for the fetches it started before
	// it stores its events with the frames still pending: quick fetches
	// resolve a new bundle's first event at once, and a host that never
	// answers holds up only the batch that first named it, and only this long.
	fetchWait time.Duration
	// retryLimitedEvery is how often frames deferred by the hourly cap on
	// new fetch refs are tried again.
	retryLimitedEvery time.Duration
	// lease is how long a claim of inbox rows lasts unless renewed
	// (inboxLease); held are the rows claimed and not yet stored or let go.
	lease time.Duration
	held  heldRows
}

// New makes a worker over d.
func New(d Store, symbols Symbolicator, log *slog.Logger) *Worker {
	return &Worker{db: d, log: log, symbols: symbols, wake: make(chan struct{}, 1), batchSize: 100, idlePoll: 2 * time.Second,
		fetchWait: time.Second, retryLimitedEvery: 5 * time.Minute, lease: inboxLease, stopped: make(chan struct{})}
}

// SetNotifier makes the worker tell n about new issues and regressions; call it before Run.
func (w *Worker) SetNotifier(n Notifier) { w.notifier = n }

// Exclusive runs fn while no batch is being processed and no symbol set
// resolved again, so fn may delete what a batch could be about to use
// (retention uses it for each of its short transactions).
func (w *Worker) Exclusive(fn func() error) error {
	w.lock()
	defer w.mu.Unlock()
	return fn()
}

// lock takes mu for work other than draining the inbox (see interruptions).
func (w *Worker) lock() {
	w.mu.Lock()
	w.interruptions++
}

// SetMetrics makes the worker count the rows it processes; call it before Run.
func (w *Worker) SetMetrics(m *metrics.Metrics) { w.metrics = m }

// Notify tells the worker that the inbox has new rows. It never blocks.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run processes the inbox until ctx is done. The batch being stored when ctx
// ends is finished first, so shutdown leaves the inbox consistent. When the
// database fails in a way that may pass (busy, disk full, I/O), the rows stay
// in the inbox and the worker waits longer after each failure, up to
// maxBackoff, before it tries again.
func (w *Worker) Run(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() { w.stopOnce.Do(func() { close(w.stopped) }) })
	defer stop()
	if err := w.symbols.ResumeFetches(ctx); err != nil {
		w.log.Warn("pending source-map fetches not resumed", "err", err)
	}
	// Claims are renewed until Run returns, past ctx's end: the batch under
	// way when ctx ends is still stored.
	keepCtx, stopKeeping := context.WithCancel(context.WithoutCancel(ctx))
	defer stopKeeping()
	go w.keepClaims(keepCtx)
	timer := time.NewTimer(0)
	defer timer.Stop()
	retryLimited := time.NewTicker(w.retryLimitedEvery)
	defer retryLimited.Stop()
	var backoff time.Duration
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-timer.C:
		case <-w.symbols.FetchesEnded():
		case <-retryLimited.C:
			if err := w.RetryRateLimitedFrames(context.WithoutCancel(ctx)); err != nil {
				w.log.Warn("frames deferred by the fetch cap not retried", "err", err)
			}
		}
		if err := w.resolveChanged(ctx); errors.Is(err, ErrStopped) {
			return
		} else if err != nil {
			w.log.Error("resolving frames again after a fetch failed", "err", err)
		}
		backoff = w.drain(ctx, backoff)
		if backoff > 0 {
			timer.Reset(backoff)
			// New rows must not cut the pause short.
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		timer.Reset(w.idlePoll)
	}
}

// maxBackoff bounds the pause after repeated transient store failures.
const maxBackoff = 30 * time.Second

// drain processes batches until the inbox is short of a full batch or a
// batch fails. It returns how long to pause: 0 after success, else twice the
// previous pause (from one second, up to maxBackoff).
//
// While one batch is stored (one write transaction, on one CPU), the next
// is claimed at the start of that transaction and parsed, symbolicated and
// encoded on the other CPUs (storeAndPrepareNext). That batch is prepared
// again from its rows when anything else took the worker's lock in between
// (a symbol set resolved again, retention, a project deleted): it may have
// been prepared with what that changed. It is dropped when the transaction
// rolled back (its claim with it), and let go (its claims released, for the
// next claim) when storing left rows of the batch behind.
func (w *Worker) drain(ctx context.Context, backoff time.Duration) time.Duration {
	work := context.WithoutCancel(ctx) // a started batch is finished; ctx's end is checked between batches
	var ahead *preparedBatch
	defer func() {
		if ahead != nil {
			w.letGo(work, ahead.rows)
		}
	}()
	for ctx.Err() == nil {
		w.mu.Lock()
		mark := w.interruptions
		cur := ahead
		ahead = nil
		var rows []db.InboxRow
		var err error
		switch {
		case cur == nil:
			if rows, err = w.claim(work); err == nil {
				cur, err = w.prepareRows(work, rows)
			}
		case cur.interruptions != mark:
			rows = cur.rows
			cur, err = w.prepareRows(work, rows)
		}
		if err != nil {
			w.mu.Unlock()
			w.letGo(work, rows)
			return w.failed(err, backoff)
		}
		if len(cur.rows) == 0 {
			w.mu.Unlock()
			return 0
		}
		ahead, err = w.storeAndPrepareNext(work, cur, mark)
		w.mu.Unlock()
		if err != nil {
			return w.failed(err, backoff)
		}
		backoff = 0
		if err := w.resolveChanged(ctx); errors.Is(err, ErrStopped) {
			return 0
		} else if err != nil {
			w.log.Error("pipeline batch failed", "err", err)
			return 0
		}
		if ahead == nil {
			return 0 // the inbox was short of a batch, or rows of this one are left: claim again, in the inbox's order
		}
	}
	return 0
}

// failed logs a batch's failure and tells how long to pause: longer than the
// last pause when it may pass, else not at all.
func (w *Worker) failed(err error, backoff time.Duration) time.Duration {
	var transient *transientError
	if errors.As(err, &transient) {
		backoff = min(max(2*backoff, time.Second), maxBackoff)
		w.log.Warn("storing events failed for a reason that may pass; they stay in the inbox",
			"rows", transient.rows, "retry_in", backoff, "err", transient.err)
		return backoff
	}
	w.log.Error("pipeline batch failed", "err", err)
	return 0
}

// ProcessBatch processes up to one batch of inbox rows and tells how many it took.
func (w *Worker) ProcessBatch(ctx context.Context) (int, error) {
	n, err := w.processBatch(ctx)
	if err != nil {
		return n, err
	}
	return n, w.resolveChanged(ctx)
}

// resolveChanged resolves again, and regroups, the frames of every symbol
// set whose background fetch ended. It runs after the batch that stored
// frames as pending, so none is missed. The frames' answers are recorded
// only once all their events are regrouped: stopped before (ErrStopped, a
// crash), they are still recorded as waiting on the fetch, and the next
// start resolves them again (Resolver.ResumeFetches).
func (w *Worker) resolveChanged(ctx context.Context) error {
	for _, set := range w.symbols.TakeChanged() {
		if _, err := w.resolveSymbolSetAgain(ctx, set.ProjectID, set.ID, false, ctx.Done()); err != nil {
			return err
		}
	}
	return nil
}

// prefetch starts the fetches the batch's events need and waits up to
// fetchWait for them. It parses each payload on its own so that prepare,
// which stores what it parses, stays one step per row.
func (w *Worker) prefetch(ctx context.Context, rows []db.InboxRow, parsed []parsedRow) {
	var started []<-chan struct{}
	for i, row := range rows {
		if parsed[i].err != nil {
			continue // prepare rejects it
		}
		ev := parsed[i].ev
		jobs, err := w.symbols.StartFetches(ctx, row.ProjectID, &ev)
		if err != nil {
			w.log.Warn("source-map fetches not started", "inbox_id", row.ID, "err", err)
		}
		started = append(started, jobs...)
	}
	if len(started) == 0 {
		return
	}
	deadline := time.NewTimer(w.fetchWait)
	defer deadline.Stop()
	for _, done := range started {
		select {
		case <-done:
		case <-deadline.C:
			return
		}
	}
}

func (w *Worker) processBatch(ctx context.Context) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	rows, err := w.claim(ctx)
	if err != nil {
		return 0, err
	}
	b, err := w.prepareRows(ctx, rows)
	if err != nil {
		w.letGo(ctx, rows)
		return 0, err
	}
	n, _, err := w.storePrepared(ctx, b, db.NextClaim{})
	return n, err
}

// preparedBatch is a batch of inbox rows parsed, symbolicated and encoded,
// ready to be stored.
type preparedBatch struct {
	rows     []db.InboxRow
	events   []db.NewEvent
	rejected []db.RejectedInbox
	started  time.Time
	// interruptions is Worker.interruptions when it was prepared.
	interruptions uint64
}

// prepareRows prepares claimed inbox rows. It stores nothing, so it can
// run while another batch is being stored. When it fails, the caller still
// holds the rows.
func (w *Worker) prepareRows(ctx context.Context, rows []db.InboxRow) (*preparedBatch, error) {
	b := &preparedBatch{rows: rows, started: time.Now()}
	if len(rows) == 0 {
		return b, nil
	}
	if err := w.symbols.Sync(ctx); err != nil {
		return nil, err
	}
	// Each row is parsed once, on every CPU, for both the prefetch and prepare.
	parsed := make([]parsedRow, len(rows))
	onEveryCPU(len(rows), func(i int) { parsed[i] = parseRow(rows[i]) })
	w.prefetch(ctx, rows, parsed)
	prepared := make([]db.NewEvent, len(rows))
	errs := make([]error, len(rows))
	onEveryCPU(len(rows), func(i int) { prepared[i], errs[i] = w.prepare(ctx, rows[i], parsed[i]) })
	for i, row := range rows {
		if err := errs[i]; err != nil {
			w.log.Warn("inbox row rejected", "inbox_id", row.ID, "err", err)
			b.rejected = append(b.rejected, db.RejectedInbox{Row: row, Err: err.Error()})
			continue
		}
		b.events = append(b.events, prepared[i])
	}
	return b, nil
}

// storeAndPrepareNext stores cur and, when it was a full batch, claims the
// next batch in the same transaction and prepares it on the other CPUs
// while cur is written. It returns that batch when every row of cur was
// taken out and the claim committed. Otherwise the next batch is not this
// node's (its claim was rolled back with cur's transaction) or it is let
// go, prepared or not, and the drain claims again in the inbox's order.
func (w *Worker) storeAndPrepareNext(ctx context.Context, cur *preparedBatch, mark uint64) (*preparedBatch, error) {
	if len(cur.rows) < w.batchSize {
		_, _, err := w.storePrepared(ctx, cur, db.NextClaim{})
		return nil, err
	}
	var next *preparedBatch
	var claimed []db.InboxRow
	prepared := make(chan struct{})
	started := false
	n, kept, err := w.storePrepared(ctx, cur, db.NextClaim{Limit: w.batchSize, Lease: w.lease, Claimed: func(rows []db.InboxRow) {
		started, claimed = true, rows
		go func() {
			defer close(prepared)
			if len(rows) == 0 {
				return
			}
			b, err := w.prepareRows(ctx, rows)
			if err != nil {
				w.log.Warn("next inbox batch not prepared ahead", "rows", len(rows), "err", err)
				return
			}
			b.interruptions = mark
			next = b
		}()
	}})
	if started {
		<-prepared
	}
	if !kept {
		return nil, err
	}
	w.held.add(claimed)
	if next == nil || n < len(cur.rows) {
		w.letGo(ctx, claimed)
		return nil, err
	}
	return next, err
}

// storePrepared stores a prepared batch and removes its rows from the inbox;
// it tells how many of them it took out. The claims of rows it left are
// released. With next.Limit set it also claims the next batch (see
// db.NextClaim) in the batch's transaction; kept tells whether that
// transaction committed. When it fails, the claim is rolled back with it,
// and the rows are stored one by one without claiming.
func (w *Worker) storePrepared(ctx context.Context, b *preparedBatch, next db.NextClaim) (n int, kept bool, err error) {
	if len(b.rows) == 0 {
		return 0, false, nil
	}
	defer func() {
		if n < len(b.rows) {
			w.letGo(ctx, b.rows) // rows already taken out are not touched
		} else {
			w.held.remove(b.rows)
		}
	}()
	stored, err := w.db.StoreBatchClaimingNext(ctx, b.events, b.rejected, next)
	if db.Transient(err) {
		// The database, not the rows, is in trouble (busy, disk full, I/O):
		// everything stays in the inbox and is tried again after a pause.
		return 0, false, &transientError{rows: len(b.rows), err: err}
	}
	if err != nil {
		// One bad row must not hold up the others: store them one at a time,
		// rejecting only the rows whose own error is permanent.
		w.log.Warn("batch store failed, storing one by one", "rows", len(b.rows), "err", err)
		n, err := w.storeOneByOne(ctx, b.rows, b.events, b.rejected, b.started)
		return n, false, err
	}
	w.logRejected(b.rejected)
	w.batchDone(b.rows, len(b.events), len(b.rejected), b.started)
	w.notify(ctx, b.events, stored)
	return len(b.rows), true, nil
}

// transientError is a batch that could not be stored for a reason that may
// pass; its rows are still in the inbox.
type transientError struct {
	rows int
	err  error
}

func (e *transientError) Error() string {
	if e.rows == 0 {
		return fmt.Sprintf("claim inbox rows (retried later): %v", e.err)
	}
	return fmt.Sprintf("store %d inbox rows (kept in the inbox, retried later): %v", e.rows, e.err)
}

func (e *transientError) Unwrap() error { return e.err }

// logRejected says how many rows went to inbox_rejected, and why.
func (w *Worker) logRejected(rejected []db.RejectedInbox) {
	if len(rejected) == 0 {
		return
	}
	reasons := map[string]int{}
	for _, r := range rejected {
		reasons[r.Err]++
	}
	w.log.Warn("inbox rows moved to inbox_rejected", "count", len(rejected), "reasons", reasons)
}

// batchDone counts a committed batch and logs it: how many rows of which
// projects, how long it took, and how long the oldest row had waited.
func (w *Worker) batchDone(rows []db.InboxRow, stored, rejected int, started time.Time) {
	took := time.Since(started)
	w.metrics.BatchProcessed(stored, rejected, took)
	if len(rows) == 0 || !w.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	projects := map[int64]int{}
	oldest := rows[0].ReceivedAt
	for _, r := range rows {
		projects[r.ProjectID]++
		if r.ReceivedAt.Before(oldest) {
			oldest = r.ReceivedAt
		}
	}
	attrs := []any{"rows", len(rows), "stored", stored, "rejected", rejected, "projects", len(projects),
		"duration_ms", took.Milliseconds(), "waited_ms", time.Since(oldest).Milliseconds()}
	if len(projects) == 1 {
		attrs = append(attrs, "project_id", rows[0].ProjectID)
	}
	w.log.Debug("pipeline batch stored", attrs...)
}

func (w *Worker) notify(ctx context.Context, events []db.NewEvent, stored []db.Stored) {
	if w.notifier == nil {
		return
	}
	var notices []Notice
	for i, st := range stored {
		if st.Notifies() {
			notices = append(notices, Notice{ProjectID: events[i].ProjectID, IssueID: st.IssueID,
				NewIssue: st.NewIssue, Regression: st.Regression, Event: events[i]})
		}
	}
	if len(notices) > 0 {
		w.notifier.Notify(ctx, notices)
	}
}

// storeOneByOne stores events one at a time after their batch failed for a
// reason that may lie in one of them. An event whose own store error is
// permanent joins the rejected rows; a transient error stops the pass, and
// that event and the ones after it stay in the inbox. It returns how many
// of the batch's rows were taken out of the inbox.
func (w *Worker) storeOneByOne(ctx context.Context, rows []db.InboxRow, events []db.NewEvent, rejected []db.RejectedInbox, started time.Time) (int, error) {
	taken, storedN := len(rows), 0
	// A rejected event keeps its inbox row as it was (the event's own blobs
	// are compressed for storing).
	byID := make(map[int64]db.InboxRow, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	var transient error
	for i, ev := range events {
		stored, err := w.db.StoreBatch(ctx, []db.NewEvent{ev}, nil)
		if db.Transient(err) {
			transient = &transientError{rows: len(events) - i, err: err}
			taken -= len(events) - i
			break
		}
		if err != nil {
			rejected = append(rejected, db.RejectedInbox{Row: byID[ev.InboxID], Err: err.Error()})
			continue
		}
		storedN++
		w.notify(ctx, []db.NewEvent{ev}, stored)
	}
	if len(rejected) > 0 {
		if _, err := w.db.StoreBatch(ctx, nil, rejected); err != nil {
			if db.Transient(err) {
				return taken - len(rejected), &transientError{rows: len(rejected), err: err}
			}
			return taken, fmt.Errorf("keep rejected rows: %w", err)
		}
		w.logRejected(rejected)
	}
	w.batchDone(rows, storedN, len(rejected), started)
	return taken, transient
}

// parsedRow is an inbox row parsed and normalised, or why it could not be.
type parsedRow struct {
	ev  event.Event
	err error
}

// parseRow parses a row; both parsers return the event normalised.
func parseRow(row db.InboxRow) parsedRow {
	ev, err := parseInboxRow(row)
	if err != nil {
		return parsedRow{err: err}
	}
	return parsedRow{ev: ev}
}

// onEveryCPU runs do(0) … do(n-1) on as many goroutines as there are CPUs.
// Parsing, symbolicating and encoding events is most of the worker's CPU
// time and needs no lock (the resolver is safe for concurrent use), while
// storing a batch is one SQLite transaction anyway.
func onEveryCPU(n int, do func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				do(i)
			}
		}()
	}
	wg.Wait()
}

func (w *Worker) prepare(ctx context.Context, row db.InboxRow, parsed parsedRow) (db.NewEvent, error) {
	if parsed.err != nil {
		return db.NewEvent{}, fmt.Errorf("parse event: %w", parsed.err)
	}
	ev := parsed.ev
	if ev.UUID == "" {
		// The uuid given on receipt and stored with the row: the same on every
		// reprocessing of the row, and never another event's.
		ev.UUID = row.UUID
	}
	if ev.UUID == "" {
		return db.NewEvent{}, fmt.Errorf("inbox row %d has no uuid", row.ID)
	}
	if err := w.symbols.Symbolicate(ctx, row.ProjectID, &ev); err != nil {
		// Symbolication trouble never loses the event: it is stored with raw frames.
		w.log.Warn("symbolication failed", "uuid", ev.UUID, "err", err)
	}
	var resolved []event.Frame
	for _, ex := range ev.Exceptions {
		for _, f := range ex.Frames {
			if f.Resolution != nil {
				resolved = append(resolved, f)
			}
		}
	}
	// A PostHog row's payload is the event object: its properties are read
	// from there, not stored twice.
	data, err := event.EncodeStored(ev, row.Format == FormatPostHog)
	if err != nil {
		return db.NewEvent{}, err
	}
	name, description := IssueTitle(ev)
	prepared := db.NewEvent{
		InboxID:          row.ID,
		ProjectID:        row.ProjectID,
		UUID:             ev.UUID,
		Fingerprint:      event.Fingerprint(ev),
		IssueName:        name,
		IssueDescription: description,
		Timestamp:        ev.Timestamp,
		ReceivedAt:       row.ReceivedAt,
		DistinctID:       ev.DistinctID,
		URL:              ev.URL,
		Lib:              ev.Lib,
		LibVersion:       ev.LibVersion,
		Release:          ev.Release,
		Browser:          ev.Browser,
		OS:               ev.OS,
		Environment:      ev.Environment,
		Tags:             ev.Tags,
		Data:             data,
		Raw:              row.Payload,
		SearchTerms:      db.SearchTerms(ev),
		ResolvedFrames:   resolved,
	}
	w.db.Pack(&prepared)
	return prepared, nil
}

// Inbox formats: how the handler that accepted an event wrote its payload.
const (
	FormatPostHog = "posthog" // one PostHog event object
	FormatSentry  = "sentry"  // one Sentry event (an envelope's event item or a /store/ body)
)

func parseInboxRow(row db.InboxRow) (event.Event, error) {
	switch row.Format {
	case FormatPostHog:
		return event.ParsePostHogWithoutProperties(row.Payload, row.ReceivedAt)
	case FormatSentry:
		return event.ParseSentry(row.Payload, row.ReceivedAt)
	}
	return event.Event{}, fmt.Errorf("unknown inbox format %q", row.Format)
}

// IssueTitle is the name and description a new issue gets from its first event:
// the client's $issue_name / $issue_description, else the first exception's type and value.
func IssueTitle(ev event.Event) (name, description string) {
	if len(ev.Exceptions) > 0 {
		name, description = ev.Exceptions[0].Type, ev.Exceptions[0].Value
	}
	if ev.IssueName != "" {
		name = ev.IssueName
	}
	if ev.IssueDescription != "" {
		description = ev.IssueDescription
	}
	if name == "" {
		name = "Error"
	}
	return name, description
}
