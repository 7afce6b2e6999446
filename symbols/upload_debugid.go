package symbols

import (
	"context"
	"errors"
	"fmt"
)

// DebugIDUpload is one source map of a sentry-cli artifact bundle, with the
// minified file that carries the same debug id when the bundle has it.
type DebugIDUpload struct {
	DebugID     string // lowercase, as FrameRef writes refs
	MinifiedURL string // the bundle's URL of the minified file, e.g. "~/app.js"
	MapURL      string
	SourceMap   []byte
	Minified    []byte
}

// StoreDebugIDSets stores the maps of one sentry-cli upload as symbol sets
// keyed by debug id, for each project, with the release they were uploaded
// for, in one transaction: every map is checked first, and one refused
// (*UploadProblem) stores nothing. Then the frames that used those symbol
// sets (events that arrived before the upload) are resolved again.
func (u *Uploads) StoreDebugIDSets(ctx context.Context, projectIDs []int64, sets []DebugIDUpload, release string) (ReresolveReport, error) {
	for _, s := range sets {
		if _, err := ValidateUpload(s.SourceMap, s.Minified, nil, u.maxBytes); err != nil {
			var p *UploadProblem
			if errors.As(err, &p) {
				return ReresolveReport{}, &UploadProblem{Kind: p.Kind, Code: p.Code,
					Message: fmt.Sprintf("%s (debug id %s): %s", s.MapURL, s.DebugID, p.Message)}
			}
			return ReresolveReport{}, err
		}
	}
	type stored struct{ projectID, setID int64 }
	var changed []stored
	err := u.store.InUploadTx(ctx, func(tx UploadTx) error {
		changed = changed[:0]
		for _, projectID := range projectIDs {
			for _, s := range sets {
				saved, err := tx.SaveSymbolSet(ctx, SymbolSet{ProjectID: projectID, Ref: s.DebugID, Kind: RefDebugID, Stored: true,
					Origin: OriginUploaded, MinifiedURL: s.MinifiedURL, MapURL: s.MapURL}, s.SourceMap, s.Minified)
				if err != nil {
					return err
				}
				if err := tx.SetUploadInfo(ctx, projectID, saved.ID, UploadInfo{Release: release}); err != nil {
					return err
				}
				changed = append(changed, stored{projectID, saved.ID})
			}
		}
		return nil
	})
	if err != nil {
		return ReresolveReport{}, err
	}
	var total ReresolveReport
	for _, c := range changed {
		r, err := u.reresolve.ResolveSymbolSetAgain(ctx, c.projectID, c.setID)
		if err != nil {
			return total, fmt.Errorf("symbol set %d was stored, but resolving its frames again failed: %w", c.setID, err)
		}
		total.add(r)
	}
	return total, nil
}
