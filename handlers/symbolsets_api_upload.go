package handlers

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/pipeline"
	"github.com/stacklens/stacklens/symbols"
)

// The posthog-cli upload protocol (docs/ARCHITECTURE.md, "Wire formats"):
// bulk_start_upload hands out, per chunk id, a "presigned" POST to our own /uploads/symbol-sets with
// a signed, expiring token in its fields; the file waits there, and
// bulk_finish_upload checks its SHA-512 before it replaces anything.

type presignedPost struct {
	URL    string            `json:"url"`
	Fields map[string]string `json:"fields"`
}

type startedUpload struct {
	PresignedURL presignedPost `json:"presigned_url"`
	SymbolSetID  string        `json:"symbol_set_id"`
}

// apiProblem is an API refusal: status, stable code and sentence.
type apiProblem struct {
	status int
	code   string
	detail string
}

func (p *apiProblem) Error() string { return p.detail }

func (p *apiProblem) send(c echo.Context) error { return apiError(c, p.status, p.code, p.detail) }

func sha512Hex(b []byte) string {
	sum := sha512.Sum512(b)
	return hex.EncodeToString(sum[:])
}

// APIBulkStartUpload: POST …/symbol_sets/bulk_start_upload
// {"symbol_sets":[{chunk_id,release_id,content_hash}], force, skip_on_conflict}
// (or legacy {"chunk_ids":[…], "release_id"}) → 201 {"id_map":{…}}. Chunks
// already stored with the same content hash are left out of id_map; a
// chunk stored with other content is a 409 (content_hash_mismatch) unless
// force (replace it) or skip_on_conflict (leave it out). A refused request
// creates nothing.
func (h *Handlers) APIBulkStartUpload(c echo.Context) error {
	p, err := h.apiProject(c)
	if err != nil || p.ID == 0 {
		return err
	}
	var body struct {
		SymbolSets []struct {
			ChunkID     string  `json:"chunk_id"`
			ReleaseID   *string `json:"release_id"`
			ContentHash *string `json:"content_hash"`
		} `json:"symbol_sets"`
		ChunkIDs       []string `json:"chunk_ids"`
		ReleaseID      *string  `json:"release_id"`
		Force          bool     `json:"force"`
		SkipOnConflict bool     `json:"skip_on_conflict"`
	}
	if err := decodeJSONBody(c, &body); err != nil {
		return apiError(c, http.StatusBadRequest, "invalid_input",
			`The body must be JSON such as {"symbol_sets":[{"chunk_id":"…","release_id":null,"content_hash":"<sha512 hex>"}]}.`)
	}
	type wanted struct{ chunk, release, hash string }
	var uploads []wanted
	for _, s := range body.SymbolSets {
		uploads = append(uploads, wanted{strings.TrimSpace(s.ChunkID), deref(s.ReleaseID), deref(s.ContentHash)})
	}
	for _, id := range body.ChunkIDs {
		uploads = append(uploads, wanted{strings.TrimSpace(id), deref(body.ReleaseID), ""})
	}
	if len(uploads) == 0 {
		return apiError(c, http.StatusBadRequest, "invalid_input", "Send at least one symbol set in symbol_sets (or chunk_ids).")
	}
	seen := map[string]bool{}
	for _, u := range uploads {
		if u.chunk == "" {
			return apiError(c, http.StatusBadRequest, "invalid_chunk_ids", "Every symbol set needs a chunk_id.")
		}
		if seen[u.chunk] {
			return apiError(c, http.StatusBadRequest, "invalid_chunk_ids", "Duplicate chunk IDs provided: "+u.chunk)
		}
		seen[u.chunk] = true
	}
	ctx := c.Request().Context()
	// Decide everything before changing anything.
	type plan struct {
		wanted
		existing *db.SymbolSetRow
	}
	var todo []plan
	for _, u := range uploads {
		set, err := h.db.SymbolSet(ctx, p.ID, u.chunk)
		if errors.Is(err, symbols.ErrNoSymbolSet) {
			todo = append(todo, plan{wanted: u})
			continue
		}
		if err != nil {
			return err
		}
		row, err := h.db.SymbolSetRowByID(ctx, p.ID, set.ID)
		if err != nil {
			return err
		}
		if u.release != "" && row.Release != "" && row.Release != u.release {
			return apiError(c, http.StatusBadRequest, "release_id_mismatch",
				fmt.Sprintf("Symbol set %s already belongs to release %s, not %s.", u.chunk, row.Release, u.release))
		}
		if row.Stored {
			if row.UploadHash != "" && strings.EqualFold(row.UploadHash, u.hash) {
				if u.release != "" && row.Release == "" {
					if err := h.db.SetSymbolSetRelease(ctx, p.ID, row.ID, u.release); err != nil {
						return err
					}
				}
				continue // already uploaded with this content
			}
			switch {
			case body.SkipOnConflict:
				continue
			case !body.Force:
				return apiError(c, http.StatusConflict, "content_hash_mismatch",
					fmt.Sprintf("Symbol set %s already exists, with different content. Inject a new chunk id, or send force to replace it (skip_on_conflict to keep it).", u.chunk))
			}
		}
		todo = append(todo, plan{wanted: u, existing: &row})
	}
	idMap := map[string]startedUpload{}
	for _, t := range todo {
		setID := int64(0)
		if t.existing != nil {
			setID = t.existing.ID
		} else if setID, err = h.createAwaitedSymbolSet(ctx, p.ID, t.chunk, t.release); err != nil {
			return err
		}
		started, err := h.startUpload(c, p.ID, setID, t.release)
		if err != nil {
			return err
		}
		idMap[t.chunk] = started
	}
	return c.JSON(http.StatusCreated, map[string]any{"id_map": idMap})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(*s)
}

// createAwaitedSymbolSet records a chunk id that waits for its upload, as
// the resolver would for a frame naming it.
func (h *Handlers) createAwaitedSymbolSet(ctx context.Context, projectID int64, chunkID, release string) (int64, error) {
	set, err := h.db.SaveSymbolSet(ctx, symbols.SymbolSet{ProjectID: projectID, Ref: chunkID, Kind: symbols.RefChunkID,
		Failure: symbols.Failf(symbols.FailureNotUploaded, "No source map was uploaded for chunk id %s.", chunkID)}, nil, nil)
	if err != nil {
		return 0, err
	}
	if release != "" {
		if err := h.db.SetSymbolSetRelease(ctx, projectID, set.ID, release); err != nil {
			return 0, err
		}
	}
	return set.ID, nil
}

// startUpload opens an upload of a symbol set and its presigned POST.
func (h *Handlers) startUpload(c echo.Context, projectID, setID int64, release string) (startedUpload, error) {
	ctx := c.Request().Context()
	expires := time.Now().Add(uploadLinkTTL)
	uploadID, err := h.db.CreatePendingUpload(ctx, projectID, setID, release, expires)
	if err != nil {
		return startedUpload{}, err
	}
	token, err := h.signToken(ctx, purposeUpload, projectID, uploadID, expires)
	if err != nil {
		return startedUpload{}, err
	}
	return startedUpload{SymbolSetID: strconv.FormatInt(setID, 10), PresignedURL: presignedPost{
		URL:    h.publicURL(c) + "/uploads/symbol-sets",
		Fields: map[string]string{"key": strconv.FormatInt(uploadID, 10), "token": token},
	}}, nil
}

// ReceiveSymbolSetUpload is the target of the presigned POSTs: multipart
// with the fields handed out (key, token) and the part `file`. The file
// waits for bulk_finish_upload; nothing is replaced yet. 204 like S3.
func (h *Handlers) ReceiveSymbolSetUpload(c echo.Context) error {
	ctx := c.Request().Context()
	if err := c.Request().ParseMultipartForm(32 << 20); err != nil {
		return apiError(c, http.StatusBadRequest, "invalid_input", "Send multipart/form-data with the presigned fields and the file as the part `file`.")
	}
	tokenProject, uploadID, err := h.verifyToken(ctx, purposeUpload, c.FormValue("token"))
	if errors.Is(err, errBadToken) {
		return apiError(c, http.StatusForbidden, "invalid_link", "This upload link is invalid or has expired: start the upload again.")
	}
	if err != nil {
		return err
	}
	if key := c.FormValue("key"); key != "" && key != strconv.FormatInt(uploadID, 10) {
		return apiError(c, http.StatusForbidden, "invalid_link", "The key field does not belong to this upload token.")
	}
	pending, err := h.db.PendingUploadByID(ctx, uploadID)
	// A pending upload of another project can only be an id given out again after its project was deleted.
	if errors.Is(err, db.ErrNotFound) || (err == nil && (time.Now().After(pending.ExpiresAt) || pending.ProjectID != tokenProject)) {
		return apiError(c, http.StatusForbidden, "invalid_link", "This upload was finished or has expired: start the upload again.")
	}
	if err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return apiError(c, http.StatusBadRequest, "invalid_input", "The multipart body has no part named `file`.")
	}
	blob, _, err := readFileHeader(fh, h.maxUploadBytes())
	var problem *symbols.UploadProblem
	if errors.As(err, &problem) {
		return apiError(c, http.StatusRequestEntityTooLarge, "file_too_large", problem.Message)
	}
	if err != nil {
		return err
	}
	if err := h.db.SavePendingBlob(ctx, uploadID, blob, sha512Hex(blob)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// finishedUpload is an uploaded file that passed every check.
type finishedUpload struct {
	set       symbols.SymbolSet
	release   string
	hash      string
	sourceMap []byte
	minified  []byte
}

// checkUploaded verifies the file uploaded for a symbol set against the
// hash the client computed, and that it holds a usable source map.
func (h *Handlers) checkUploaded(ctx context.Context, projectID int64, idText, hash string) (finishedUpload, error) {
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return finishedUpload{}, &apiProblem{http.StatusBadRequest, "invalid_input", fmt.Sprintf("%q is not a symbol set id.", idText)}
	}
	set, err := h.db.SymbolSetByID(ctx, projectID, id)
	if errors.Is(err, symbols.ErrNoSymbolSet) {
		return finishedUpload{}, &apiProblem{http.StatusBadRequest, "not_found", fmt.Sprintf("There is no symbol set %d: start the upload again.", id)}
	}
	if err != nil {
		return finishedUpload{}, err
	}
	pending, blob, err := h.db.LatestUploadedBlob(ctx, projectID, id)
	if errors.Is(err, db.ErrNotFound) {
		return finishedUpload{}, &apiProblem{http.StatusBadRequest, "file_not_found",
			fmt.Sprintf("No file has been uploaded for symbol set %d (%s): POST it to the presigned URL first.", id, set.Ref)}
	}
	if err != nil {
		return finishedUpload{}, err
	}
	if hash = strings.ToLower(strings.TrimSpace(hash)); hash != pending.BlobHash {
		return finishedUpload{}, &apiProblem{http.StatusBadRequest, "content_hash_mismatch", fmt.Sprintf(
			"The file uploaded for symbol set %d (%s) has SHA-512 %s…, not the %s… sent here: it was corrupted or replaced on the way. Nothing was replaced; upload it again.",
			id, set.Ref, short(pending.BlobHash), short(hash))}
	}
	minified, sourceMap, err := symbols.DecodeUploadBlob(blob, h.maxUploadBytes())
	if errors.Is(err, symbols.ErrUploadBlobTooLarge) {
		return finishedUpload{}, &apiProblem{http.StatusRequestEntityTooLarge, "file_too_large", fmt.Sprintf("The file uploaded for symbol set %d is refused, %v.", id, err)}
	}
	if err != nil {
		return finishedUpload{}, &apiProblem{http.StatusBadRequest, "invalid_file", fmt.Sprintf("The file uploaded for symbol set %d is not usable: %v.", id, err)}
	}
	if _, err := symbols.ValidateUpload(sourceMap, minified, nil, h.maxUploadBytes()); err != nil {
		var problem *symbols.UploadProblem
		if errors.As(err, &problem) {
			return finishedUpload{}, &apiProblem{http.StatusBadRequest, "invalid_sourcemap", fmt.Sprintf("Symbol set %d (%s): %s", id, set.Ref, problem.Message)}
		}
		return finishedUpload{}, err
	}
	return finishedUpload{set: set, release: pending.Release, hash: hash, sourceMap: sourceMap, minified: minified}, nil
}

func short(hash string) string {
	if len(hash) > 16 {
		return hash[:16]
	}
	return hash
}

// commitUpload stores a checked upload, records its hash and release, and
// resolves the frames that use the set again.
func (h *Handlers) commitUpload(ctx context.Context, u finishedUpload) (pipeline.ReresolveReport, error) {
	report, err := h.storeUpload(ctx, u.set, u.sourceMap, u.minified)
	if err != nil {
		return report, err
	}
	release := u.release
	if release == "" {
		row, err := h.db.SymbolSetRowByID(ctx, u.set.ProjectID, u.set.ID)
		if err != nil {
			return report, err
		}
		release = row.Release
	}
	if err := h.db.SetSymbolSetUploadInfo(ctx, u.set.ProjectID, u.set.ID, release, u.hash); err != nil {
		return report, err
	}
	return report, h.db.FinishPendingUploads(ctx, u.set.ProjectID, u.set.ID)
}

// APIBulkFinishUpload: POST …/symbol_sets/bulk_finish_upload
// {"content_hashes":{"<symbol set id>":"<sha512 hex>"}} → 201 {"success":true}.
// Every file is checked before any is stored: one bad file changes nothing.
func (h *Handlers) APIBulkFinishUpload(c echo.Context) error {
	p, err := h.apiProject(c)
	if err != nil || p.ID == 0 {
		return err
	}
	var body struct {
		ContentHashes map[string]string `json:"content_hashes"`
	}
	if err := decodeJSONBody(c, &body); err != nil || body.ContentHashes == nil {
		return apiError(c, http.StatusBadRequest, "invalid_input", `The body must be {"content_hashes": {"<symbol set id>": "<sha512 hex>"}}.`)
	}
	ctx := c.Request().Context()
	var checked []finishedUpload
	for id, hash := range body.ContentHashes {
		u, err := h.checkUploaded(ctx, p.ID, id, hash)
		var problem *apiProblem
		if errors.As(err, &problem) {
			return problem.send(c)
		}
		if err != nil {
			return err
		}
		checked = append(checked, u)
	}
	resolved := 0
	for _, u := range checked {
		report, err := h.commitUpload(ctx, u)
		if err != nil {
			return err
		}
		resolved += report.ResolvedFrames
	}
	return c.JSON(http.StatusCreated, map[string]any{"success": true, "resolved_frames": resolved})
}

// APILegacyStartUpload is what older posthog-cli versions call per chunk:
// POST …/symbol_sets/start_upload?chunk_id=&release_id= → 201
// {"presigned_url":{url,fields},"symbol_set_id":"…"}.
func (h *Handlers) APILegacyStartUpload(c echo.Context) error {
	p, err := h.apiProject(c)
	if err != nil || p.ID == 0 {
		return err
	}
	chunk, release := strings.TrimSpace(c.QueryParam("chunk_id")), strings.TrimSpace(c.QueryParam("release_id"))
	if chunk == "" {
		return apiError(c, http.StatusBadRequest, "invalid_input", "chunk_id query parameter is required")
	}
	setID, err := h.awaitedSymbolSet(c.Request().Context(), p.ID, chunk, release)
	if err != nil {
		return err
	}
	started, err := h.startUpload(c, p.ID, setID, release)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, started)
}

func (h *Handlers) awaitedSymbolSet(ctx context.Context, projectID int64, chunk, release string) (int64, error) {
	set, err := h.db.SymbolSet(ctx, projectID, chunk)
	if errors.Is(err, symbols.ErrNoSymbolSet) {
		return h.createAwaitedSymbolSet(ctx, projectID, chunk, release)
	}
	return set.ID, err
}

// APILegacyFinishUpload: PUT …/symbol_sets/{id}/finish_upload {"content_hash"}
// → 200 {"success":true}.
func (h *Handlers) APILegacyFinishUpload(c echo.Context) error {
	p, err := h.apiProject(c)
	if err != nil || p.ID == 0 {
		return err
	}
	var body struct {
		ContentHash string `json:"content_hash"`
	}
	if err := decodeJSONBody(c, &body); err != nil || body.ContentHash == "" {
		return apiError(c, http.StatusBadRequest, "content_hash_required", "A content hash must be provided to complete symbol set upload.")
	}
	ctx := c.Request().Context()
	u, err := h.checkUploaded(ctx, p.ID, c.Param("id"), body.ContentHash)
	var problem *apiProblem
	if errors.As(err, &problem) {
		return problem.send(c)
	}
	if err != nil {
		return err
	}
	if _, err := h.commitUpload(ctx, u); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"success": true})
}

// APILegacyCreateSymbolSet is the oldest posthog-cli upload, one request
// per chunk: POST …/symbol_sets/?chunk_id=&release_id=[&multipart=true]
// with the blob as the multipart part `file` or as the raw body → 201.
func (h *Handlers) APILegacyCreateSymbolSet(c echo.Context) error {
	p, err := h.apiProject(c)
	if err != nil || p.ID == 0 {
		return err
	}
	chunk, release := strings.TrimSpace(c.QueryParam("chunk_id")), strings.TrimSpace(c.QueryParam("release_id"))
	if chunk == "" {
		return apiError(c, http.StatusBadRequest, "invalid_input", "chunk_id query parameter is required")
	}
	limit := h.maxUploadBytes()
	var blob []byte
	if strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
		fh, err := c.FormFile("file")
		if err != nil {
			return apiError(c, http.StatusBadRequest, "invalid_input", "The multipart body has no part named `file`.")
		}
		blob, _, err = readFileHeader(fh, limit)
		var problem *symbols.UploadProblem
		if errors.As(err, &problem) {
			return apiError(c, http.StatusRequestEntityTooLarge, "file_too_large", problem.Message)
		}
		if err != nil {
			return err
		}
	} else {
		if blob, err = io.ReadAll(io.LimitReader(c.Request().Body, limit+1)); err != nil {
			return apiError(c, http.StatusBadRequest, "invalid_input", "The upload did not arrive complete.")
		}
		if int64(len(blob)) > limit {
			return apiError(c, http.StatusRequestEntityTooLarge, "file_too_large", fmt.Sprintf("The file is larger than the %d MiB limit.", limit>>20))
		}
	}
	minified, sourceMap, err := symbols.DecodeUploadBlob(blob, limit)
	if errors.Is(err, symbols.ErrUploadBlobTooLarge) {
		return apiError(c, http.StatusRequestEntityTooLarge, "file_too_large", fmt.Sprintf("The uploaded file is refused, %v.", err))
	}
	if err != nil {
		return apiError(c, http.StatusBadRequest, "invalid_file", fmt.Sprintf("The uploaded file is not usable: %v.", err))
	}
	var problem *symbols.UploadProblem
	if _, err := symbols.ValidateUpload(sourceMap, minified, nil, limit); errors.As(err, &problem) {
		return apiError(c, http.StatusBadRequest, "invalid_sourcemap", problem.Message)
	} else if err != nil {
		return err
	}
	ctx := c.Request().Context()
	setID, err := h.awaitedSymbolSet(ctx, p.ID, chunk, release)
	if err != nil {
		return err
	}
	set, err := h.db.SymbolSetByID(ctx, p.ID, setID)
	if err != nil {
		return err
	}
	if _, err := h.commitUpload(ctx, finishedUpload{set: set, release: release, hash: sha512Hex(blob), sourceMap: sourceMap, minified: minified}); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"ok": true})
}
