package handlers

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/symbols"
)

// posthog-cli's upload protocol (docs/ARCHITECTURE.md, "Wire formats"),
// carried out by symbols.Uploads: these handlers only read the requests and
// write PostHog's answers.

type presignedPost struct {
	URL    string            `json:"url"`
	Fields map[string]string `json:"fields"`
}

type startedUpload struct {
	PresignedURL presignedPost `json:"presigned_url"`
	SymbolSetID  string        `json:"symbol_set_id"`
}

func (h *Handlers) presigned(c echo.Context, s symbols.StartedUpload) startedUpload {
	return startedUpload{SymbolSetID: strconv.FormatInt(s.SymbolSetID, 10), PresignedURL: presignedPost{
		URL:    h.publicURL(c) + "/uploads/symbol-sets",
		Fields: map[string]string{"key": strconv.FormatInt(s.UploadID, 10), "token": s.Token},
	}}
}

// uploadRefused turns an upload's refusal into the API's; other errors
// stay as they are.
func uploadRefused(err error) error {
	var problem *symbols.UploadProblem
	if !errors.As(err, &problem) {
		return err
	}
	status := http.StatusBadRequest
	switch problem.Kind {
	case symbols.ProblemConflict:
		status = http.StatusConflict
	case symbols.ProblemForbidden:
		status = http.StatusForbidden
	case symbols.ProblemTooLarge:
		status = http.StatusRequestEntityTooLarge
	}
	code := problem.Code
	if code == "" {
		code = "invalid_input"
	}
	return &Error{Status: status, Code: code, Detail: problem.Message, Internal: err}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// APIBulkStartUpload: POST …/symbol_sets/bulk_start_upload
// {"symbol_sets":[{chunk_id,release_id,content_hash}], force, skip_on_conflict}
// (or legacy {"chunk_ids":[…], "release_id"}) → 201 {"id_map":{…}}. Chunks
// already stored with the same content hash are left out of id_map; a
// chunk stored with other content is a 409 (content_hash_mismatch) unless
// force (replace it) or skip_on_conflict (leave it out). A refused request
// creates nothing (symbols.Uploads.StartUploads).
func (h *Handlers) APIBulkStartUpload(c echo.Context) error {
	p, err := h.apiProject(c)
	if err != nil {
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
		return apiError(http.StatusBadRequest, "invalid_input",
			`The body must be JSON such as {"symbol_sets":[{"chunk_id":"…","release_id":null,"content_hash":"<sha512 hex>"}]}.`)
	}
	var reqs []symbols.StartRequest
	for _, s := range body.SymbolSets {
		reqs = append(reqs, symbols.StartRequest{ChunkID: s.ChunkID, Release: deref(s.ReleaseID), ContentHash: deref(s.ContentHash)})
	}
	for _, id := range body.ChunkIDs {
		reqs = append(reqs, symbols.StartRequest{ChunkID: id, Release: deref(body.ReleaseID)})
	}
	started, err := h.uploads.StartUploads(c.Request().Context(), p.ID, reqs,
		symbols.StartOptions{Force: body.Force, SkipOnConflict: body.SkipOnConflict})
	if err != nil {
		return uploadRefused(err)
	}
	idMap := map[string]startedUpload{}
	for _, s := range started {
		idMap[s.ChunkID] = h.presigned(c, s)
	}
	return c.JSON(http.StatusCreated, map[string]any{"id_map": idMap})
}

// ReceiveSymbolSetUpload is the target of the presigned POSTs: multipart
// with the fields handed out (key, token) and the part `file`. The file
// waits for bulk_finish_upload; nothing is replaced yet. 204 like S3.
func (h *Handlers) ReceiveSymbolSetUpload(c echo.Context) error {
	ctx := c.Request().Context()
	if err := c.Request().ParseMultipartForm(32 << 20); err != nil {
		return apiError(http.StatusBadRequest, "invalid_input", "Send multipart/form-data with the presigned fields and the file as the part `file`.")
	}
	uploadID, err := h.uploads.UploadLinkTarget(ctx, c.FormValue("token"), c.FormValue("key"))
	if err != nil {
		return uploadRefused(err)
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return apiError(http.StatusBadRequest, "invalid_input", "The multipart body has no part named `file`.")
	}
	blob, _, err := readFileHeader(fh, h.maxUploadBytes())
	var problem *symbols.UploadProblem
	if errors.As(err, &problem) {
		return apiError(http.StatusRequestEntityTooLarge, "file_too_large", problem.Message)
	}
	if err != nil {
		return err
	}
	if err := h.uploads.ReceiveBlob(ctx, uploadID, blob); err != nil {
		return uploadRefused(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// APIBulkFinishUpload: POST …/symbol_sets/bulk_finish_upload
// {"content_hashes":{"<symbol set id>":"<sha512 hex>"}} → 201 {"success":true}.
// Every file is checked before any is stored: one bad file changes nothing.
func (h *Handlers) APIBulkFinishUpload(c echo.Context) error {
	p, err := h.apiProject(c)
	if err != nil {
		return err
	}
	var body struct {
		ContentHashes map[string]string `json:"content_hashes"`
	}
	if err := decodeJSONBody(c, &body); err != nil || body.ContentHashes == nil {
		return apiError(http.StatusBadRequest, "invalid_input", `The body must be {"content_hashes": {"<symbol set id>": "<sha512 hex>"}}.`)
	}
	report, err := h.uploads.FinishUploads(c.Request().Context(), p.ID, body.ContentHashes)
	if err != nil {
		return uploadRefused(err)
	}
	return c.JSON(http.StatusCreated, map[string]any{"success": true, "resolved_frames": report.ResolvedFrames})
}

// APILegacyStartUpload is what older posthog-cli versions call per chunk:
// POST …/symbol_sets/start_upload?chunk_id=&release_id= → 201
// {"presigned_url":{url,fields},"symbol_set_id":"…"}.
func (h *Handlers) APILegacyStartUpload(c echo.Context) error {
	p, err := h.apiProject(c)
	if err != nil {
		return err
	}
	started, err := h.uploads.StartUpload(c.Request().Context(), p.ID, c.QueryParam("chunk_id"), c.QueryParam("release_id"))
	if err != nil {
		return uploadRefused(err)
	}
	return c.JSON(http.StatusCreated, h.presigned(c, started))
}

// APILegacyFinishUpload: PUT …/symbol_sets/{id}/finish_upload {"content_hash"}
// → 200 {"success":true}.
func (h *Handlers) APILegacyFinishUpload(c echo.Context) error {
	p, err := h.apiProject(c)
	if err != nil {
		return err
	}
	var body struct {
		ContentHash string `json:"content_hash"`
	}
	if err := decodeJSONBody(c, &body); err != nil || body.ContentHash == "" {
		return apiError(http.StatusBadRequest, "content_hash_required", "A content hash must be provided to complete symbol set upload.")
	}
	if _, err := h.uploads.FinishUploads(c.Request().Context(), p.ID, map[string]string{c.Param("id"): body.ContentHash}); err != nil {
		return uploadRefused(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"success": true})
}

// APILegacyCreateSymbolSet is the oldest posthog-cli upload, one request
// per chunk: POST …/symbol_sets/?chunk_id=&release_id=[&multipart=true]
// with the blob as the multipart part `file` or as the raw body → 201.
func (h *Handlers) APILegacyCreateSymbolSet(c echo.Context) error {
	p, err := h.apiProject(c)
	if err != nil {
		return err
	}
	if strings.TrimSpace(c.QueryParam("chunk_id")) == "" {
		return apiError(http.StatusBadRequest, "invalid_input", "chunk_id query parameter is required")
	}
	limit := h.maxUploadBytes()
	var blob []byte
	if strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
		fh, err := c.FormFile("file")
		if err != nil {
			return apiError(http.StatusBadRequest, "invalid_input", "The multipart body has no part named `file`.")
		}
		blob, _, err = readFileHeader(fh, limit)
		var problem *symbols.UploadProblem
		if errors.As(err, &problem) {
			return apiError(http.StatusRequestEntityTooLarge, "file_too_large", problem.Message)
		}
		if err != nil {
			return err
		}
	} else {
		if blob, err = io.ReadAll(io.LimitReader(c.Request().Body, limit+1)); err != nil {
			return apiError(http.StatusBadRequest, "invalid_input", "The upload did not arrive complete.")
		}
		if int64(len(blob)) > limit {
			return apiError(http.StatusRequestEntityTooLarge, "file_too_large", fmt.Sprintf("The file is larger than the %d MiB limit.", limit>>20))
		}
	}
	if _, err := h.uploads.CreateFromBlob(c.Request().Context(), p.ID, c.QueryParam("chunk_id"), c.QueryParam("release_id"), blob); err != nil {
		return uploadRefused(err)
	}
	return c.JSON(http.StatusCreated, map[string]any{"ok": true})
}
