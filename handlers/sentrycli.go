package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/artifactbundle"
	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/project"
)

// sentry-cli's upload API under /api/0/ (docs/ARCHITECTURE.md, "Wire
// formats"): the chunk-upload options, the chunks, and the assembly of an
// artifact bundle into symbol sets keyed by debug id. Personal API keys
// are the auth tokens; the organization slug is accepted as given (a
// stacklens server is one organization); projects are named by id or slug.

// chunkRequestBytes caps one chunk-upload request (sentry-cli's maxRequestSize).
const chunkRequestBytes = 32 << 20

// SentryAPIRoot answers GET /api/0/, which sentry-cli calls to check its
// token (sentry-cli info): who the key belongs to, or nulls without a key.
func (h *Handlers) SentryAPIRoot(c echo.Context) error {
	key := bearerToken(c.Request())
	if key == "" {
		return c.JSON(http.StatusOK, map[string]any{"version": "0", "auth": nil, "user": nil})
	}
	user, err := h.accounts.UserByAPIKey(c.Request().Context(), HashSecret(key))
	if errors.Is(err, db.ErrNotFound) {
		return apiError(http.StatusUnauthorized, "authentication_failed", "This token is not a valid stacklens personal API key.")
	}
	if err != nil {
		return fmt.Errorf("user of the API key: %w", err)
	}
	return c.JSON(http.StatusOK, map[string]any{"version": "0",
		"auth": map[string]any{"scopes": []string{"org:read", "project:read", "project:releases", "project:write"}},
		"user": map[string]any{"id": strconv.FormatInt(user.ID, 10), "email": user.Email, "username": user.Email, "name": user.Email}})
}

// SentryChunkUploadOptions: GET /api/0/organizations/{org}/chunk-upload/.
func (h *Handlers) SentryChunkUploadOptions(c echo.Context) error {
	cfg := h.bundles.Config()
	return c.JSON(http.StatusOK, map[string]any{
		"url":              h.publicURL(c) + "/api/0/organizations/" + c.Param("org") + "/chunk-upload/",
		"chunkSize":        cfg.ChunkBytes,
		"chunksPerRequest": 64,
		"maxFileSize":      cfg.MaxBundleBytes,
		"maxRequestSize":   chunkRequestBytes,
		"concurrency":      2,
		"hashAlgorithm":    "sha1",
		"compression":      []string{"gzip"},
		"accept":           []string{"artifact_bundles"},
	})
}

// chunkUploadTooLarge refuses a chunk upload over chunkRequestBytes, whether
// its Content-Length says so or its body turns out so.
func chunkUploadTooLarge() error {
	return apiError(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("A chunk upload may be at most %d MiB.", chunkRequestBytes>>20))
}

// chunkUploadIncomplete refuses a multipart body that ended or broke early.
func chunkUploadIncomplete() error {
	return apiError(http.StatusBadRequest, "invalid_input", "The multipart body did not arrive complete.")
}

// chunkBodyError refuses a chunk upload whose body could not be read: too
// large when it ran past the cap, else incomplete.
func chunkBodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return chunkUploadTooLarge()
	}
	return chunkUploadIncomplete()
}

// SentryUploadChunks: POST /api/0/organizations/{org}/chunk-upload/,
// multipart with one part per chunk, `file_gzip` (gzip) or `file`, each
// named by the SHA-1 of its uncompressed content. Every chunk is checked
// before any is kept: one bad chunk stores nothing.
func (h *Handlers) SentryUploadChunks(c echo.Context) error {
	if c.Request().ContentLength > chunkRequestBytes+1<<20 {
		return chunkUploadTooLarge()
	}
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, chunkRequestBytes+1<<20)
	mr, err := c.Request().MultipartReader()
	if err != nil {
		return apiError(http.StatusBadRequest, "invalid_input", "Send the chunks as multipart/form-data, one part `file_gzip` (or `file`) per chunk named by its SHA-1.")
	}
	maxChunk := h.bundles.Config().ChunkBytes
	var chunks []artifactbundle.Chunk
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return chunkBodyError(err)
		}
		field := part.FormName()
		if field != "file_gzip" && field != "file" {
			part.Close()
			continue
		}
		body, err := io.ReadAll(part)
		part.Close()
		if err != nil {
			return chunkBodyError(err)
		}
		chunk, err := artifactbundle.DecodeChunk(part.FileName(), body, field == "file_gzip", maxChunk)
		var problem *artifactbundle.Problem
		if errors.As(err, &problem) {
			return apiError(http.StatusBadRequest, "invalid_chunk", problem.Message)
		}
		if err != nil {
			return fmt.Errorf("decode chunk %q: %w", part.FileName(), err)
		}
		chunks = append(chunks, chunk)
	}
	if len(chunks) == 0 {
		return apiError(http.StatusBadRequest, "invalid_input", "The request holds no chunk: send parts named `file_gzip` (or `file`).")
	}
	err = h.bundles.SaveChunks(c.Request().Context(), chunks)
	var problem *artifactbundle.Problem
	if errors.As(err, &problem) {
		return apiError(http.StatusInsufficientStorage, "too_many_chunks", problem.Message)
	}
	if err != nil {
		return fmt.Errorf("save %d upload chunks: %w", len(chunks), err)
	}
	return c.NoContent(http.StatusOK)
}

// SentryAssembleBundle: POST /api/0/organizations/{org}/artifactbundle/assemble/
// {checksum, chunks, projects, version?, dist?} → {state, missingChunks, detail}.
func (h *Handlers) SentryAssembleBundle(c echo.Context) error {
	var body struct {
		Checksum string   `json:"checksum"`
		Chunks   []string `json:"chunks"`
		Projects []string `json:"projects"`
		Version  string   `json:"version"`
		Dist     string   `json:"dist"`
	}
	if err := decodeJSONBody(c, &body); err != nil {
		return apiError(http.StatusBadRequest, "invalid_input", `The body must be JSON such as {"checksum":"<sha1>","chunks":["<sha1>"],"projects":["<project>"]}.`)
	}
	if len(body.Projects) == 0 {
		return apiError(http.StatusBadRequest, "invalid_input", "Name the project to upload to (sentry-cli --project, or SENTRY_PROJECT): its stacklens id or its name.")
	}
	ctx := c.Request().Context()
	var ids []int64
	for _, slug := range body.Projects {
		p, err := h.cliProject(ctx, slug)
		if err != nil {
			return err
		}
		ids = append(ids, p.ID)
	}
	save := func(ctx context.Context, sets []artifactbundle.Set, release string) error {
		if _, err := h.uploads.StoreDebugIDSets(ctx, ids, sets, release); err != nil {
			return fmt.Errorf("store %d symbol sets of bundle %s: %w", len(sets), body.Checksum, err)
		}
		return nil
	}
	res, err := h.bundles.Assemble(ctx, artifactbundle.Request{Checksum: body.Checksum, Chunks: body.Chunks, Projects: ids,
		Release: body.Version, Dist: body.Dist}, save)
	var problem *artifactbundle.Problem
	if errors.As(err, &problem) {
		return apiError(http.StatusBadRequest, "invalid_input", problem.Message)
	}
	if err != nil {
		return fmt.Errorf("assemble bundle %s: %w", body.Checksum, err)
	}
	out := map[string]any{"state": res.State, "missingChunks": res.MissingChunks, "detail": nil}
	if res.Detail != "" {
		out["detail"] = res.Detail
	}
	return c.JSON(http.StatusOK, out)
}

// cliProject finds the project sentry-cli names: by its id (the number
// in its DSN), else by its name or the slug of its name, in any case.
func (h *Handlers) cliProject(ctx context.Context, name string) (db.Project, error) {
	name = strings.TrimSpace(name)
	if id, err := strconv.ParseInt(name, 10, 64); err == nil {
		p, err := h.projects.Project(ctx, id)
		if errors.Is(err, db.ErrNotFound) {
			return p, apiError(http.StatusBadRequest, "project_not_found", fmt.Sprintf("There is no project %d on this stacklens server: set SENTRY_PROJECT (or --project) to a project's id (the number in its DSN) or its name.", id))
		}
		if err != nil {
			return p, fmt.Errorf("project %d named by sentry-cli: %w", id, err)
		}
		return p, nil
	}
	all, err := h.projects.Projects(ctx)
	if err != nil {
		return db.Project{}, fmt.Errorf("projects, to find %q named by sentry-cli: %w", name, err)
	}
	var found []db.Project
	for _, p := range all {
		if project.NamedBy(p.Name, name) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return db.Project{}, apiError(http.StatusBadRequest, "project_not_found", fmt.Sprintf(
			"There is no project %q on this stacklens server: set SENTRY_PROJECT (or --project) to a project's id (the number in its DSN) or its name.", name))
	}
	return db.Project{}, apiError(http.StatusBadRequest, "project_ambiguous", fmt.Sprintf(
		"Several projects are called %q: set SENTRY_PROJECT (or --project) to the project's id (the number in its DSN) instead.", name))
}
