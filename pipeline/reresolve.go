package pipeline

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/symbols"
)

// ReresolveReport says what resolving a symbol set's frames again changed.
// The upload service in symbols reports it too, so it is defined there.
type ReresolveReport = symbols.ReresolveReport

// ResolveSymbolSetAgain resolves again every frame that used a symbol set
// (after it was stored, replaced or fetched anew), then fingerprints the
// events holding those frames again and merges issues whose fingerprints
// now agree, so old events show and group by the new result.
func (w *Worker) ResolveSymbolSetAgain(ctx context.Context, projectID, symbolSetID int64) (ReresolveReport, error) {
	w.lock()
	defer w.mu.Unlock()
	frames, err := w.symbols.Reresolve(ctx, projectID, symbolSetID)
	if err != nil {
		return ReresolveReport{}, fmt.Errorf("resolve frames of symbol set %d again: %w", symbolSetID, err)
	}
	return w.regroup(ctx, projectID, frames)
}

// DeleteSymbolSet deletes a symbol set through remove, then resolves its
// frames again without it.
func (w *Worker) DeleteSymbolSet(ctx context.Context, projectID, symbolSetID int64, remove func(context.Context) error) (ReresolveReport, error) {
	w.lock()
	defer w.mu.Unlock()
	frames, err := w.db.FramesOfSymbolSet(ctx, projectID, symbolSetID)
	if err != nil {
		return ReresolveReport{}, err
	}
	if err := remove(ctx); err != nil {
		return ReresolveReport{}, err
	}
	w.symbols.Forget(symbolSetID)
	frames, err = w.symbols.ResolveFrames(ctx, projectID, frames)
	if err != nil {
		return ReresolveReport{}, fmt.Errorf("resolve frames of deleted symbol set %d again: %w", symbolSetID, err)
	}
	return w.regroup(ctx, projectID, frames)
}

func (w *Worker) regroup(ctx context.Context, projectID int64, frames []event.Frame) (ReresolveReport, error) {
	report := ReresolveReport{Frames: len(frames)}
	rawIDs := make([]string, len(frames))
	for i, f := range frames {
		rawIDs[i] = f.RawID
		if f.Resolution != nil && f.Resolution.Resolved {
			report.ResolvedFrames++
		}
	}
	events, err := w.db.EventsWithFrames(ctx, projectID, rawIDs)
	if err != nil {
		return report, err
	}
	report.Events = len(events)
	issues := map[int64]bool{}
	for _, se := range events {
		ev, err := event.DecodeStored(se.Data, se.Raw)
		if err != nil {
			return report, fmt.Errorf("stored event %s: %w", se.UUID, err)
		}
		if err := w.db.ApplyCurrentResolutions(ctx, projectID, &ev); err != nil {
			return report, err
		}
		issueID := se.IssueID
		if fp := event.Fingerprint(ev); fp != se.Fingerprint {
			var merged bool
			issueID, merged, err = w.db.Regroup(ctx, projectID, se.ID, fp)
			if err != nil {
				return report, err
			}
			report.Regrouped++
			if merged {
				report.Merged++
				delete(issues, se.IssueID)
			}
		}
		issues[issueID] = true
		// Names resolved now must be searchable too.
		if data, err := json.Marshal(ev); err == nil {
			if err := w.db.AddSearchText(ctx, projectID, issueID, data); err != nil {
				return report, err
			}
		}
	}
	for id := range issues {
		report.IssueIDs = append(report.IssueIDs, id)
	}
	return report, nil
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
	w.lock()
	defer w.mu.Unlock()
	frames, err := w.symbols.ResolveFrames(ctx, projectID, frames)
	if err != nil {
		return fmt.Errorf("resolve deferred frames of project %d again: %w", projectID, err)
	}
	_, err = w.regroup(ctx, projectID, frames)
	return err
}
