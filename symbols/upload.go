package symbols

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stacklens/stacklens/event"
)

// Uploads is the one way a source map gets stored by a person or a script:
// the browser's upload and replace form, the bulk upload of a build folder,
// and posthog-cli's symbol-set API. Each request's writes go through one
// UploadStore transaction, so a refused request leaves nothing behind; the
// frames that used a changed symbol set are resolved again after the commit.
type Uploads struct {
	store     UploadStore
	reresolve Reresolver
	maxBytes  int64
	now       func() time.Time
}

// UploadConfig tunes Uploads.
type UploadConfig struct {
	// MaxBytes caps one symbol set's files together; 0 means DefaultMaxUploadBytes.
	MaxBytes int64
}

// UploadStore is the storage uploads need; db implements it. Methods
// outside InUploadTx read committed state; they must not be called from
// inside fn (the writer is held by the transaction).
type UploadStore interface {
	BatchStore
	// InUploadTx runs fn in one write transaction: everything fn writes
	// through tx commits together when fn returns nil, and nothing does
	// when it returns an error.
	InUploadTx(ctx context.Context, fn func(tx UploadTx) error) error
	SymbolSetByID(ctx context.Context, projectID, id int64) (SymbolSet, error)
	FramesOfSymbolSet(ctx context.Context, projectID, symbolSetID int64) ([]event.Frame, error)
	// MissingSymbolSets lists a project's symbol sets without a map, most recently used first.
	MissingSymbolSets(ctx context.Context, projectID int64) ([]PairTarget, error)
	// PendingUpload loads an API upload; ErrNoPendingUpload when there is none.
	PendingUpload(ctx context.Context, id int64) (PendingUpload, error)
	// SavePendingBlob keeps the file that arrived for a pending upload.
	SavePendingBlob(ctx context.Context, id int64, blob []byte, hash string) error
	// LatestUploadedBlob returns the newest unexpired file uploaded for a
	// symbol set and not finished yet; ErrNoPendingUpload when none arrived.
	LatestUploadedBlob(ctx context.Context, projectID, symbolSetID int64) (PendingUpload, []byte, error)
	// ServerSecret returns the named signing key, creating it on first use.
	ServerSecret(ctx context.Context, name string) ([]byte, error)
}

// UploadTx is what one upload transaction may read and write.
type UploadTx interface {
	// SymbolSet finds a symbol set by ref; ErrNoSymbolSet when there is none.
	SymbolSet(ctx context.Context, projectID int64, ref string) (SymbolSet, error)
	SymbolSetByID(ctx context.Context, projectID, id int64) (SymbolSet, error)
	SaveSymbolSet(ctx context.Context, s SymbolSet, sourceMap, minified []byte) (SymbolSet, error)
	// UploadInfo is the release and API upload hash recorded for a symbol set.
	UploadInfo(ctx context.Context, projectID, id int64) (UploadInfo, error)
	SetUploadInfo(ctx context.Context, projectID, id int64, info UploadInfo) error
	// CreatePendingUpload opens an API upload of a symbol set, valid until expires.
	CreatePendingUpload(ctx context.Context, projectID, symbolSetID int64, release string, expires time.Time) (int64, error)
	// FinishPendingUploads drops a symbol set's open API uploads.
	FinishPendingUploads(ctx context.Context, projectID, symbolSetID int64) error
}

// UploadInfo is what an upload records beside a symbol set's files.
type UploadInfo struct {
	Release string
	// Hash is the SHA-512 hex of the blob posthog-cli uploaded; "" once the
	// content came from elsewhere.
	Hash string
}

// PendingUpload is an API upload between its start and its finish.
type PendingUpload struct {
	ID          int64
	ProjectID   int64
	SymbolSetID int64
	Release     string
	BlobHash    string // SHA-512 hex of what arrived; "" before the file came
	ExpiresAt   time.Time
	Uploaded    bool
}

// ErrNoPendingUpload is returned by an UploadStore when an upload is unknown or no file arrived.
var ErrNoPendingUpload = errors.New("no pending upload")

// Reresolver resolves again every frame that used a symbol set after it
// changed, and regroups their events (pipeline.Worker).
type Reresolver interface {
	ResolveSymbolSetAgain(ctx context.Context, projectID, symbolSetID int64) (ReresolveReport, error)
}

// ReresolveReport says what resolving a symbol set's frames again changed,
// for the page that triggered it ("14 frames in 3 issues now resolved").
type ReresolveReport struct {
	Frames         int     // distinct frames resolved again
	ResolvedFrames int     // of those, how many resolve now
	Events         int     // events holding those frames
	IssueIDs       []int64 // issues those events belong to afterwards
	Regrouped      int     // events whose fingerprint changed
	Merged         int     // issues merged into another because of that
}

// add counts another report in, each issue once.
func (r *ReresolveReport) add(o ReresolveReport) {
	r.Frames += o.Frames
	r.ResolvedFrames += o.ResolvedFrames
	r.Events += o.Events
	r.Regrouped += o.Regrouped
	r.Merged += o.Merged
	for _, id := range o.IssueIDs {
		seen := false
		for _, have := range r.IssueIDs {
			seen = seen || have == id
		}
		if !seen {
			r.IssueIDs = append(r.IssueIDs, id)
		}
	}
}

// NewUploads builds the upload service over a store; reresolve is told of
// every symbol set an upload changed.
func NewUploads(store UploadStore, reresolve Reresolver, cfg UploadConfig) *Uploads {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxUploadBytes
	}
	return &Uploads{store: store, reresolve: reresolve, maxBytes: cfg.MaxBytes, now: time.Now}
}

// MaxBytes is the cap on one symbol set's files together.
func (u *Uploads) MaxBytes() int64 { return u.maxBytes }

// MismatchError refuses a map that leaves some of the symbol set's frames
// unmapped until the person confirms it.
type MismatchError struct {
	Checked CheckedUpload
}

func (e *MismatchError) Error() string { return e.Checked.MismatchSentence() }

// Replace stores an uploaded map (and minified file) as the content of a
// symbol set, then resolves its frames again. Nothing changes when the map
// is refused (*UploadProblem) or leaves frames unmapped without
// confirmMismatch (*MismatchError); ErrNoSymbolSet when the set is gone.
func (u *Uploads) Replace(ctx context.Context, projectID, setID int64, sourceMap, minified []byte, confirmMismatch bool) (ReresolveReport, error) {
	if len(sourceMap) == 0 {
		return ReresolveReport{}, &UploadProblem{Message: "Choose a source map file to upload."}
	}
	frames, err := u.store.FramesOfSymbolSet(ctx, projectID, setID)
	if err != nil {
		return ReresolveReport{}, err
	}
	checked, err := ValidateUpload(sourceMap, minified, frames, u.maxBytes)
	if err != nil {
		return ReresolveReport{}, err
	}
	if checked.Mismatch() && !confirmMismatch {
		return ReresolveReport{}, &MismatchError{Checked: checked}
	}
	err = u.store.InUploadTx(ctx, func(tx UploadTx) error {
		set, err := tx.SymbolSetByID(ctx, projectID, setID)
		if err != nil {
			return err
		}
		return storeReplacement(ctx, tx, set, sourceMap, minified, "")
	})
	if err != nil {
		return ReresolveReport{}, err
	}
	return u.reresolve.ResolveSymbolSetAgain(ctx, projectID, setID)
}

// storeReplacement stores checked files as a symbol set's content and
// records the upload: the release stays, the API hash is uploadHash ("" when
// the content did not come from posthog-cli).
func storeReplacement(ctx context.Context, tx UploadTx, set SymbolSet, sourceMap, minified []byte, uploadHash string) error {
	minifiedURL := set.MinifiedURL
	if minifiedURL == "" && set.Kind == RefURL {
		minifiedURL = set.Ref
	}
	if _, err := tx.SaveSymbolSet(ctx, SymbolSet{ProjectID: set.ProjectID, Ref: set.Ref, Kind: set.Kind, Stored: true,
		Origin: OriginUploaded, MinifiedURL: minifiedURL}, sourceMap, minified); err != nil {
		return err
	}
	info, err := tx.UploadInfo(ctx, set.ProjectID, set.ID)
	if err != nil {
		return err
	}
	info.Hash = uploadHash
	return tx.SetUploadInfo(ctx, set.ProjectID, set.ID, info)
}

// CheckedPair is a bulk upload's pair with what validation said about it.
type CheckedPair struct {
	Pair
	Problem  string // why it cannot be stored; "" when it can
	Mismatch string // frames it leaves unmapped; "" when none
}

// Storable reports whether the pair may be stored, given whether the
// person confirmed maps that leave frames unmapped.
func (p CheckedPair) Storable(confirmMismatch bool) bool {
	return p.Problem == "" && (p.Mismatch == "" || confirmMismatch)
}

// CheckBatch pairs a bulk upload's files with the project's symbol sets that
// miss a map and validates each pair; it stores nothing.
func (u *Uploads) CheckBatch(ctx context.Context, projectID int64, files []UploadFile) ([]CheckedPair, []string, error) {
	targets, err := u.store.MissingSymbolSets(ctx, projectID)
	if err != nil {
		return nil, nil, err
	}
	pairs, unpaired := PairUploads(targets, files)
	out := make([]CheckedPair, 0, len(pairs))
	for _, p := range pairs {
		cp := CheckedPair{Pair: p}
		frames, err := u.store.FramesOfSymbolSet(ctx, projectID, p.Target.ID)
		if err != nil {
			return nil, nil, err
		}
		checked, err := ValidateUpload(p.Map, p.Minified, frames, u.maxBytes)
		var problem *UploadProblem
		switch {
		case errors.As(err, &problem):
			cp.Problem = problem.Message
		case err != nil:
			return nil, nil, err
		default:
			cp.Mismatch = checked.MismatchSentence()
		}
		out = append(out, cp)
	}
	return out, unpaired, nil
}

// StoreBatch stores every storable pair of a bulk upload in one
// transaction, then resolves their frames again. Sets deleted since the
// preview are skipped. It returns how many sets it stored.
func (u *Uploads) StoreBatch(ctx context.Context, projectID int64, files []UploadFile, confirmMismatch bool) (int, ReresolveReport, error) {
	pairs, _, err := u.CheckBatch(ctx, projectID, files)
	if err != nil {
		return 0, ReresolveReport{}, err
	}
	var stored []int64
	err = u.store.InUploadTx(ctx, func(tx UploadTx) error {
		stored = stored[:0]
		for _, p := range pairs {
			if !p.Storable(confirmMismatch) {
				continue
			}
			set, err := tx.SymbolSetByID(ctx, projectID, p.Target.ID)
			if errors.Is(err, ErrNoSymbolSet) {
				continue // deleted meanwhile
			}
			if err != nil {
				return err
			}
			if err := storeReplacement(ctx, tx, set, p.Map, p.Minified, ""); err != nil {
				return err
			}
			stored = append(stored, set.ID)
		}
		return nil
	})
	if err != nil {
		return 0, ReresolveReport{}, err
	}
	report, err := u.reresolveAll(ctx, projectID, stored)
	return len(stored), report, err
}

func (u *Uploads) reresolveAll(ctx context.Context, projectID int64, setIDs []int64) (ReresolveReport, error) {
	var total ReresolveReport
	for _, id := range setIDs {
		r, err := u.reresolve.ResolveSymbolSetAgain(ctx, projectID, id)
		if err != nil {
			return total, fmt.Errorf("symbol set %d was stored, but resolving its frames again failed: %w", id, err)
		}
		total.add(r)
	}
	return total, nil
}
