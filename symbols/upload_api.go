package symbols

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// posthog-cli's upload (docs/ARCHITECTURE.md, "Wire formats"): a start
// request opens, per chunk id, an upload with a signed, expiring link; the
// file is posted to that link and waits; a finish request checks each
// file's SHA-512 and stores them all, or none.

// Refusal kinds of the API uploads, for callers to choose a status by.
const (
	ProblemInvalid   ProblemKind = iota // the request or a file is not usable
	ProblemConflict                     // it disagrees with what is stored
	ProblemForbidden                    // the upload link is invalid or expired
	ProblemTooLarge                     // a file is over the cap
)

// ProblemKind says what sort of refusal an UploadProblem is.
type ProblemKind int

func refuse(kind ProblemKind, code, format string, args ...any) *UploadProblem {
	return &UploadProblem{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// UploadLinkTTL is how long a started API upload waits for its file and finish.
const UploadLinkTTL = time.Hour

// StartRequest is one symbol set posthog-cli is about to upload.
type StartRequest struct {
	ChunkID     string
	Release     string
	ContentHash string // SHA-512 hex of the blob it will send; "" when unknown
}

// StartOptions are bulk_start_upload's flags for chunks stored with other content.
type StartOptions struct {
	Force          bool // replace them
	SkipOnConflict bool // leave them out
}

// StartedUpload is an opened upload: the file goes to the upload link
// carrying Token (and the key UploadID).
type StartedUpload struct {
	ChunkID     string
	SymbolSetID int64
	UploadID    int64
	Token       string
	ExpiresAt   time.Time
}

func sha512Hex(b []byte) string {
	sum := sha512.Sum512(b)
	return hex.EncodeToString(sum[:])
}

// StartUploads opens uploads for the chunks that need one. A chunk already
// stored with the same content hash is left out (its release recorded when
// it had none); one stored with other content is refused with
// content_hash_mismatch unless opts say otherwise. Chunks not known yet are
// recorded as waiting for their upload. All or nothing: a refusal of any
// chunk leaves every chunk as it was.
func (u *Uploads) StartUploads(ctx context.Context, projectID int64, reqs []StartRequest, opts StartOptions) ([]StartedUpload, error) {
	if len(reqs) == 0 {
		return nil, refuse(ProblemInvalid, "invalid_input", "Send at least one symbol set in symbol_sets (or chunk_ids).")
	}
	seen := map[string]bool{}
	for i := range reqs {
		r := &reqs[i]
		r.ChunkID, r.Release = strings.TrimSpace(r.ChunkID), strings.TrimSpace(r.Release)
		r.ContentHash = strings.TrimSpace(r.ContentHash)
		if r.ChunkID == "" {
			return nil, refuse(ProblemInvalid, "invalid_chunk_ids", "Every symbol set needs a chunk_id.")
		}
		if seen[r.ChunkID] {
			return nil, refuse(ProblemInvalid, "invalid_chunk_ids", "Duplicate chunk IDs provided: %s", r.ChunkID)
		}
		seen[r.ChunkID] = true
	}
	links, err := u.links(ctx)
	if err != nil {
		return nil, err
	}
	expires := u.now().Add(UploadLinkTTL)
	var started []StartedUpload
	err = u.store.InUploadTx(ctx, func(tx UploadTx) error {
		started = started[:0]
		for _, r := range reqs {
			set, err := tx.SymbolSet(ctx, projectID, r.ChunkID)
			switch {
			case errors.Is(err, ErrNoSymbolSet):
				if set, err = createAwaited(ctx, tx, projectID, r.ChunkID, r.Release); err != nil {
					return err
				}
			case err != nil:
				return err
			default:
				info, err := tx.UploadInfo(ctx, projectID, set.ID)
				if err != nil {
					return err
				}
				if r.Release != "" && info.Release != "" && info.Release != r.Release {
					return refuse(ProblemInvalid, "release_id_mismatch", "Symbol set %s already belongs to release %s, not %s.", r.ChunkID, info.Release, r.Release)
				}
				if set.Stored {
					if info.Hash != "" && strings.EqualFold(info.Hash, r.ContentHash) {
						if r.Release != "" && info.Release == "" {
							info.Release = r.Release
							if err := tx.SetUploadInfo(ctx, projectID, set.ID, info); err != nil {
								return err
							}
						}
						continue // already uploaded with this content
					}
					switch {
					case opts.SkipOnConflict:
						continue
					case !opts.Force:
						return refuse(ProblemConflict, "content_hash_mismatch",
							"Symbol set %s already exists, with different content. Inject a new chunk id, or send force to replace it (skip_on_conflict to keep it).", r.ChunkID)
					}
				}
			}
			uploadID, err := tx.CreatePendingUpload(ctx, projectID, set.ID, r.Release, expires)
			if err != nil {
				return err
			}
			started = append(started, StartedUpload{ChunkID: r.ChunkID, SymbolSetID: set.ID, UploadID: uploadID, ExpiresAt: expires})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range started {
		started[i].Token = links.sign(LinkUpload, projectID, started[i].UploadID, expires)
	}
	return started, nil
}

// StartUpload is older posthog-cli versions' start, one chunk per request:
// it opens an upload whatever is stored, recording the chunk if it is new.
func (u *Uploads) StartUpload(ctx context.Context, projectID int64, chunkID, release string) (StartedUpload, error) {
	chunkID, release = strings.TrimSpace(chunkID), strings.TrimSpace(release)
	if chunkID == "" {
		return StartedUpload{}, refuse(ProblemInvalid, "invalid_input", "chunk_id query parameter is required")
	}
	links, err := u.links(ctx)
	if err != nil {
		return StartedUpload{}, err
	}
	expires := u.now().Add(UploadLinkTTL)
	started := StartedUpload{ChunkID: chunkID, ExpiresAt: expires}
	err = u.store.InUploadTx(ctx, func(tx UploadTx) error {
		set, err := findOrAwait(ctx, tx, projectID, chunkID, release)
		if err != nil {
			return err
		}
		started.SymbolSetID = set.ID
		started.UploadID, err = tx.CreatePendingUpload(ctx, projectID, set.ID, release, expires)
		return err
	})
	if err != nil {
		return StartedUpload{}, err
	}
	started.Token = links.sign(LinkUpload, projectID, started.UploadID, expires)
	return started, nil
}

func findOrAwait(ctx context.Context, tx UploadTx, projectID int64, chunkID, release string) (SymbolSet, error) {
	set, err := tx.SymbolSet(ctx, projectID, chunkID)
	if errors.Is(err, ErrNoSymbolSet) {
		return createAwaited(ctx, tx, projectID, chunkID, release)
	}
	return set, err
}

// createAwaited records a chunk id that waits for its upload, as the
// resolver would for a frame naming it.
func createAwaited(ctx context.Context, tx UploadTx, projectID int64, chunkID, release string) (SymbolSet, error) {
	set, err := tx.SaveSymbolSet(ctx, SymbolSet{ProjectID: projectID, Ref: chunkID, Kind: RefChunkID,
		Failure: Failf(FailureNotUploaded, "No source map was uploaded for chunk id %s.", chunkID)}, nil, nil)
	if err != nil {
		return set, err
	}
	if release != "" {
		err = tx.SetUploadInfo(ctx, projectID, set.ID, UploadInfo{Release: release})
	}
	return set, err
}

// UploadLinkTarget checks the fields of a post to an upload link (token and
// key) and returns the upload they open; a *UploadProblem of kind
// ProblemForbidden when the link is invalid, expired or already finished.
func (u *Uploads) UploadLinkTarget(ctx context.Context, token, key string) (int64, error) {
	links, err := u.links(ctx)
	if err != nil {
		return 0, err
	}
	tokenProject, uploadID, ok := links.verify(LinkUpload, token, u.now())
	if !ok {
		return 0, refuse(ProblemForbidden, "invalid_link", "This upload link is invalid or has expired: start the upload again.")
	}
	if key != "" && key != strconv.FormatInt(uploadID, 10) {
		return 0, refuse(ProblemForbidden, "invalid_link", "The key field does not belong to this upload token.")
	}
	pending, err := u.store.PendingUpload(ctx, uploadID)
	// A pending upload of another project can only be an id given out again after its project was deleted.
	if errors.Is(err, ErrNoPendingUpload) || (err == nil && (u.now().After(pending.ExpiresAt) || pending.ProjectID != tokenProject)) {
		return 0, refuse(ProblemForbidden, "invalid_link", "This upload was finished or has expired: start the upload again.")
	}
	if err != nil {
		return 0, err
	}
	return uploadID, nil
}

// ReceiveBlob keeps the file posted for an open upload until it is
// finished; it replaces nothing yet.
func (u *Uploads) ReceiveBlob(ctx context.Context, uploadID int64, blob []byte) error {
	if int64(len(blob)) > u.maxBytes {
		return refuse(ProblemTooLarge, "file_too_large", "The file is larger than the %d MiB limit.", u.maxBytes>>20)
	}
	return u.store.SavePendingBlob(ctx, uploadID, blob, sha512Hex(blob))
}

// apiUpload is an uploaded file that passed every check.
type apiUpload struct {
	setID     int64
	release   string // "" keeps the set's release
	hash      string
	sourceMap []byte
	minified  []byte
}

// FinishUploads stores the files uploaded for the given symbol sets (by id,
// as text, with the SHA-512 hex the client computed). Every file is checked
// before any is stored, and they are stored in one transaction: one bad
// file changes nothing. Then the frames of each set are resolved again.
func (u *Uploads) FinishUploads(ctx context.Context, projectID int64, hashes map[string]string) (ReresolveReport, error) {
	ids := make([]string, 0, len(hashes))
	for id := range hashes {
		ids = append(ids, id)
	}
	slices.Sort(ids) // the same request is refused for the same reason
	var checked []apiUpload
	for _, id := range ids {
		c, err := u.checkUploaded(ctx, projectID, id, hashes[id])
		if err != nil {
			return ReresolveReport{}, err
		}
		checked = append(checked, c)
	}
	return u.commit(ctx, projectID, checked, nil)
}

// checkUploaded verifies the file uploaded for a symbol set against the
// hash the client computed, and that it holds a usable source map.
func (u *Uploads) checkUploaded(ctx context.Context, projectID int64, idText, hash string) (apiUpload, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(idText), 10, 64)
	if err != nil {
		return apiUpload{}, refuse(ProblemInvalid, "invalid_input", "%q is not a symbol set id.", idText)
	}
	set, err := u.store.SymbolSetByID(ctx, projectID, id)
	if errors.Is(err, ErrNoSymbolSet) {
		return apiUpload{}, refuse(ProblemInvalid, "not_found", "There is no symbol set %d: start the upload again.", id)
	}
	if err != nil {
		return apiUpload{}, err
	}
	pending, blob, err := u.store.LatestUploadedBlob(ctx, projectID, id)
	if errors.Is(err, ErrNoPendingUpload) {
		return apiUpload{}, refuse(ProblemInvalid, "file_not_found", "No file has been uploaded for symbol set %d (%s): POST it to the presigned URL first.", id, set.Ref)
	}
	if err != nil {
		return apiUpload{}, err
	}
	if hash = strings.ToLower(strings.TrimSpace(hash)); hash != pending.BlobHash {
		return apiUpload{}, refuse(ProblemInvalid, "content_hash_mismatch",
			"The file uploaded for symbol set %d (%s) has SHA-512 %s…, not the %s… sent here: it was corrupted or replaced on the way. Nothing was replaced; upload it again.",
			id, set.Ref, short(pending.BlobHash), short(hash))
	}
	minified, sourceMap, err := u.checkBlob(blob, fmt.Sprintf("symbol set %d (%s)", id, set.Ref))
	if err != nil {
		return apiUpload{}, err
	}
	return apiUpload{setID: id, release: pending.Release, hash: hash, sourceMap: sourceMap, minified: minified}, nil
}

// checkBlob decodes an uploaded blob and validates the map in it.
func (u *Uploads) checkBlob(blob []byte, what string) (minified, sourceMap []byte, err error) {
	minified, sourceMap, err = DecodeUploadBlob(blob, u.maxBytes)
	if errors.Is(err, ErrUploadBlobTooLarge) {
		return nil, nil, refuse(ProblemTooLarge, "file_too_large", "The file uploaded for %s is refused, %v.", what, err)
	}
	if err != nil {
		return nil, nil, refuse(ProblemInvalid, "invalid_file", "The file uploaded for %s is not usable: %v.", what, err)
	}
	if _, err := ValidateUpload(sourceMap, minified, nil, u.maxBytes); err != nil {
		var problem *UploadProblem
		if errors.As(err, &problem) {
			return nil, nil, refuse(ProblemInvalid, "invalid_sourcemap", "%s: %s", capitalize(what), problem.Message)
		}
		return nil, nil, err
	}
	return minified, sourceMap, nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func short(hash string) string {
	if len(hash) > 16 {
		return hash[:16]
	}
	return hash
}

// CreateFromBlob is the oldest posthog-cli upload, one request per chunk
// with the blob in it: the chunk is recorded if new and its content stored,
// in one transaction, then its frames are resolved again.
func (u *Uploads) CreateFromBlob(ctx context.Context, projectID int64, chunkID, release string, blob []byte) (ReresolveReport, error) {
	chunkID, release = strings.TrimSpace(chunkID), strings.TrimSpace(release)
	if chunkID == "" {
		return ReresolveReport{}, refuse(ProblemInvalid, "invalid_input", "chunk_id query parameter is required")
	}
	if int64(len(blob)) > u.maxBytes {
		return ReresolveReport{}, refuse(ProblemTooLarge, "file_too_large", "The file is larger than the %d MiB limit.", u.maxBytes>>20)
	}
	minified, sourceMap, err := u.checkBlob(blob, "chunk "+chunkID)
	if err != nil {
		return ReresolveReport{}, err
	}
	return u.commit(ctx, projectID, []apiUpload{{release: release, hash: sha512Hex(blob), sourceMap: sourceMap, minified: minified}},
		func(ctx context.Context, tx UploadTx) (int64, error) {
			set, err := findOrAwait(ctx, tx, projectID, chunkID, release)
			return set.ID, err
		})
}

// commit stores checked API uploads in one transaction: content, release
// and hash, and the end of their pending uploads. find, when given, names
// the set of an upload whose setID is not known before the transaction.
func (u *Uploads) commit(ctx context.Context, projectID int64, uploads []apiUpload, find func(context.Context, UploadTx) (int64, error)) (ReresolveReport, error) {
	var stored []int64
	err := u.store.InUploadTx(ctx, func(tx UploadTx) error {
		stored = stored[:0]
		for _, up := range uploads {
			setID := up.setID
			if find != nil {
				var err error
				if setID, err = find(ctx, tx); err != nil {
					return err
				}
			}
			set, err := tx.SymbolSetByID(ctx, projectID, setID)
			if errors.Is(err, ErrNoSymbolSet) {
				return refuse(ProblemInvalid, "not_found", "Symbol set %d was deleted meanwhile: start the upload again.", setID)
			}
			if err != nil {
				return err
			}
			if err := storeReplacement(ctx, tx, set, up.sourceMap, up.minified, up.hash); err != nil {
				return err
			}
			if up.release != "" {
				if err := tx.SetUploadInfo(ctx, projectID, setID, UploadInfo{Release: up.release, Hash: up.hash}); err != nil {
					return err
				}
			}
			if err := tx.FinishPendingUploads(ctx, projectID, setID); err != nil {
				return err
			}
			stored = append(stored, setID)
		}
		return nil
	})
	if err != nil {
		return ReresolveReport{}, err
	}
	return u.reresolveAll(ctx, projectID, stored)
}
