package pipeline

import (
	"container/heap"
	"context"
	"errors"
	"fmt"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/symbols"
)

// ReresolveReport says what resolving a symbol set's frames again changed.
// The upload service in symbols reports it too, so it is defined there.
type ReresolveReport = symbols.ReresolveReport

// ErrStopped ends resolving frames again when the worker stops (Run's
// context ended) before every event holding them was regrouped.
var ErrStopped = errors.New("resolving frames again stopped: the server is shutting down")

// regroupPage is how many events resolving frames again reads, fingerprints
// and regroups at a time, in one transaction under the worker's lock: the
// drain and retention take the lock between pages, and memory stays bounded
// however many events hold the frames.
const regroupPage = 500

// idsPerFrame is how many event ids are read ahead per frame.
const idsPerFrame = 256

// ResolveSymbolSetAgain resolves again every frame that used a symbol set
// (after it was stored, replaced or fetched anew), records the answers,
// then fingerprints the events holding those frames again and merges
// issues whose fingerprints now agree, so old events show and group by the
// new result. It runs to the end whoever asked for it (ctx's end does not
// stop it), unless the worker stops: then it returns ErrStopped between two
// pages of events, and the events left keep their grouping.
func (w *Worker) ResolveSymbolSetAgain(ctx context.Context, projectID, symbolSetID int64) (ReresolveReport, error) {
	return w.resolveSymbolSetAgain(ctx, projectID, symbolSetID, true, w.stopped)
}

// resolveSymbolSetAgain is ResolveSymbolSetAgain stopping when stop is
// closed; with recordFirst false the frames' answers are recorded only
// after every page (see resolveChanged).
func (w *Worker) resolveSymbolSetAgain(ctx context.Context, projectID, symbolSetID int64, recordFirst bool, stop <-chan struct{}) (ReresolveReport, error) {
	ctx = context.WithoutCancel(ctx)
	w.reresolving.Lock()
	defer w.reresolving.Unlock()
	w.lock()
	frames, err := w.symbols.Reresolve(ctx, projectID, symbolSetID, recordFirst)
	w.mu.Unlock()
	if err != nil {
		return ReresolveReport{}, fmt.Errorf("resolve frames of symbol set %d again: %w", symbolSetID, err)
	}
	report, err := w.regroup(ctx, stop, projectID, frames)
	if err != nil || recordFirst {
		return report, err
	}
	w.lock()
	defer w.mu.Unlock()
	if err := w.symbols.RecordResolutions(ctx, projectID, frames); err != nil {
		return report, fmt.Errorf("record frames of symbol set %d: %w", symbolSetID, err)
	}
	return report, nil
}

// DeleteSymbolSet deletes a symbol set through remove, then resolves its
// frames again without it.
func (w *Worker) DeleteSymbolSet(ctx context.Context, projectID, symbolSetID int64, remove func(context.Context) error) (ReresolveReport, error) {
	ctx = context.WithoutCancel(ctx)
	w.reresolving.Lock()
	defer w.reresolving.Unlock()
	frames, err := func() ([]event.Frame, error) {
		w.lock()
		defer w.mu.Unlock()
		frames, err := w.db.FramesOfSymbolSet(ctx, projectID, symbolSetID)
		if err != nil {
			return nil, err
		}
		if err := remove(ctx); err != nil {
			return nil, err
		}
		w.symbols.Forget(symbolSetID)
		frames, err = w.symbols.ResolveFrames(ctx, projectID, frames)
		if err != nil {
			return nil, fmt.Errorf("resolve frames of deleted symbol set %d again: %w", symbolSetID, err)
		}
		return frames, nil
	}()
	if err != nil {
		return ReresolveReport{}, err
	}
	return w.regroup(ctx, w.stopped, projectID, frames)
}

// regroup fingerprints again every event holding one of frames (with their
// new answers), a page at a time, and moves it to the issue of its new
// fingerprint. It takes the worker's lock for each page, and returns
// ErrStopped before the next page once stop is closed.
func (w *Worker) regroup(ctx context.Context, stop <-chan struct{}, projectID int64, frames []event.Frame) (ReresolveReport, error) {
	report := ReresolveReport{Frames: len(frames)}
	answers := make(map[string]*event.Resolution, len(frames))
	rawIDs := make([]string, 0, len(frames))
	for _, f := range frames {
		if f.Resolution != nil && f.Resolution.Resolved {
			report.ResolvedFrames++
		}
		if _, seen := answers[f.RawID]; !seen && f.RawID != "" {
			rawIDs = append(rawIDs, f.RawID)
		}
		answers[f.RawID] = f.Resolution
	}
	events := newEventsWithFrames(w.db, projectID, rawIDs)
	issues := map[int64]bool{}
	for {
		select {
		case <-stop:
			return report, ErrStopped
		default:
		}
		ids, err := events.next(ctx, regroupPage)
		if err != nil {
			return report, err
		}
		if len(ids) == 0 {
			break
		}
		w.mu.Lock() // a page changes nothing a prepared batch depends on: no interruption
		err = w.regroupEvents(ctx, projectID, ids, answers, &report, issues)
		w.mu.Unlock()
		if err != nil {
			return report, err
		}
		w.log.Debug("events regrouped after resolving frames again", "project_id", projectID, "page", len(ids), "events", report.Events)
	}
	for id := range issues {
		report.IssueIDs = append(report.IssueIDs, id)
	}
	return report, nil
}

// regroupEvents fingerprints one page of events again, their frames
// answered by answers where it has them and by the recorded answers
// elsewhere, and regroups them in one transaction.
func (w *Worker) regroupEvents(ctx context.Context, projectID int64, ids []int64, answers map[string]*event.Resolution,
	report *ReresolveReport, issues map[int64]bool) error {
	stored, err := w.db.StoredEventsByID(ctx, projectID, ids)
	if err != nil {
		return err
	}
	evs := make([]event.Event, len(stored))
	var others []string // frames not among answers, answered by what is recorded
	seen := map[string]bool{}
	for i, se := range stored {
		if evs[i], err = event.DecodeStoredWithoutProperties(se.Data); err != nil {
			return fmt.Errorf("stored event %s: %w", se.UUID, err)
		}
		for _, ex := range evs[i].Exceptions {
			for _, f := range ex.Frames {
				if _, ok := answers[f.RawID]; !ok && f.RawID != "" && !seen[f.RawID] {
					seen[f.RawID] = true
					others = append(others, f.RawID)
				}
			}
		}
	}
	recorded, err := w.db.FrameResolutions(ctx, projectID, others)
	if err != nil {
		return err
	}
	changes := make([]db.EventRegroup, len(stored))
	for i, se := range stored {
		ev := &evs[i]
		for j := range ev.Exceptions {
			for k := range ev.Exceptions[j].Frames {
				f := &ev.Exceptions[j].Frames[k]
				if r, ok := answers[f.RawID]; ok {
					f.Resolution = r
				} else if r, ok := recorded[f.RawID]; ok {
					f.Resolution = &r
				}
			}
		}
		changes[i] = db.EventRegroup{EventID: se.ID, SearchTerms: db.SearchTerms(*ev)}
		if fp := event.Fingerprint(*ev); fp != se.Fingerprint {
			changes[i].Fingerprint = fp
		}
	}
	regrouped, err := w.db.RegroupEvents(ctx, projectID, changes)
	if err != nil {
		return err
	}
	report.Events += len(stored)
	for i, r := range regrouped {
		if changes[i].Fingerprint != "" {
			report.Regrouped++
		}
		if r.Merged {
			report.Merged++
			delete(issues, stored[i].IssueID)
		}
		issues[r.IssueID] = true
	}
	return nil
}

// eventsWithFrames lists the ids of the events holding any of a set of
// frames, in ascending order and each once, reading a few ids ahead per
// frame (a merge of one ordered list per frame).
type eventsWithFrames struct {
	db        Regrouping
	projectID int64
	cursors   frameCursors // those with ids left, by their next id
	pending   []*frameCursor
	last      int64 // the last id returned
}

type frameCursor struct {
	rawID string
	ids   []int64 // read ahead, ascending
	after int64   // the last id read
	done  bool    // no id after `after`
}

func newEventsWithFrames(d Regrouping, projectID int64, rawIDs []string) *eventsWithFrames {
	e := &eventsWithFrames{db: d, projectID: projectID}
	for _, id := range rawIDs {
		e.pending = append(e.pending, &frameCursor{rawID: id})
	}
	return e
}

// next returns up to n ids after the last ones returned; none at the end.
func (e *eventsWithFrames) next(ctx context.Context, n int) ([]int64, error) {
	var out []int64
	for len(out) < n {
		for _, c := range e.pending {
			if err := e.fill(ctx, c); err != nil {
				return nil, err
			}
			if len(c.ids) > 0 {
				heap.Push(&e.cursors, c)
			}
		}
		e.pending = e.pending[:0]
		if e.cursors.Len() == 0 {
			break
		}
		c := e.cursors[0]
		id := c.ids[0]
		if c.ids = c.ids[1:]; len(c.ids) == 0 {
			heap.Pop(&e.cursors)
			e.pending = append(e.pending, c) // read ahead again before the next id
		} else {
			heap.Fix(&e.cursors, 0)
		}
		if id > e.last {
			out = append(out, id)
			e.last = id
		}
	}
	return out, nil
}

func (e *eventsWithFrames) fill(ctx context.Context, c *frameCursor) error {
	if c.done || len(c.ids) > 0 {
		return nil
	}
	ids, err := e.db.EventIDsWithFrame(ctx, e.projectID, c.rawID, c.after, idsPerFrame)
	if err != nil {
		return err
	}
	c.ids, c.done = ids, len(ids) < idsPerFrame
	if len(ids) > 0 {
		c.after = ids[len(ids)-1]
	}
	return nil
}

// frameCursors is a heap of cursors by their next id.
type frameCursors []*frameCursor

func (h frameCursors) Len() int           { return len(h) }
func (h frameCursors) Less(i, j int) bool { return h[i].ids[0] < h[j].ids[0] }
func (h frameCursors) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *frameCursors) Push(x any)        { *h = append(*h, x.(*frameCursor)) }
func (h *frameCursors) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// RetryRateLimitedFrames resolves again frames that were not fetched
// because their project had reached its hourly cap on new fetch refs: those
// within the cap now start their fetch (and are resolved again when it
// ends), the others stay deferred until the next try.
func (w *Worker) RetryRateLimitedFrames(ctx context.Context) error {
	byProject, err := w.db.FramesWithFailure(ctx, symbols.FailureFetchRateLimited, 1000)
	if err != nil {
		return err
	}
	for projectID, frames := range byProject {
		if err := w.resolveFramesAgain(ctx, projectID, frames); err != nil {
			return err
		}
	}
	return nil
}

func (w *Worker) resolveFramesAgain(ctx context.Context, projectID int64, frames []event.Frame) error {
	ctx = context.WithoutCancel(ctx)
	w.reresolving.Lock()
	defer w.reresolving.Unlock()
	w.lock()
	frames, err := w.symbols.ResolveFrames(ctx, projectID, frames)
	w.mu.Unlock()
	if err != nil {
		return fmt.Errorf("resolve deferred frames of project %d again: %w", projectID, err)
	}
	_, err = w.regroup(ctx, w.stopped, projectID, frames)
	return err
}
