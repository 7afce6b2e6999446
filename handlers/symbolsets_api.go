package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/symbols"
)

// apiSymbolSet is PostHog's symbol-set shape (ids are strings there, and
// posthog-cli decodes them as strings), plus what stacklens knows besides.
type apiSymbolSet struct {
	ID              string     `json:"id"`
	Ref             string     `json:"ref"`
	RefKind         string     `json:"ref_kind"`
	TeamID          int64      `json:"team_id"`
	CreatedAt       time.Time  `json:"created_at"`
	LastUsed        *time.Time `json:"last_used"`
	FailureReason   *string    `json:"failure_reason"`
	FailureCode     *string    `json:"failure_code"`
	HasUploadedFile bool       `json:"has_uploaded_file"`
	Release         *string    `json:"release"`
	Origin          string     `json:"origin"`
	ContentHash     *string    `json:"content_hash"`
	SizeBytes       int64      `json:"size_bytes"`
	Frames          int        `json:"frames"`
	Issues          int        `json:"issues"`
}

func toAPISymbolSet(r db.SymbolSetRow) apiSymbolSet {
	out := apiSymbolSet{ID: strconv.FormatInt(r.ID, 10), Ref: r.Ref, RefKind: string(r.Kind), TeamID: r.ProjectID,
		CreatedAt: r.CreatedAt, HasUploadedFile: r.Stored, Origin: r.Origin, SizeBytes: r.SizeBytes, Frames: r.Frames, Issues: r.Issues}
	if !r.LastUsedAt.IsZero() {
		t := r.LastUsedAt
		out.LastUsed = &t
	}
	if r.Failure != nil {
		msg, code := failureMessage(r.SymbolSet), r.Failure.Code
		out.FailureReason, out.FailureCode = &msg, &code
	}
	if r.Release != "" {
		rel := r.Release
		out.Release = &rel
	}
	if r.UploadHash != "" {
		hash := r.UploadHash
		out.ContentHash = &hash
	}
	return out
}

// apiStatuses maps PostHog's status filter to ours.
var apiStatuses = map[string]string{"": db.SymbolSetsAll, "all": db.SymbolSetsAll, "valid": db.SymbolSetsStored,
	"invalid": db.SymbolSetsMissing, "stored": db.SymbolSetsStored, "missing": db.SymbolSetsMissing}

// APIListSymbolSets: GET …/error_tracking/symbol_sets/?status=all|valid|invalid
// &order_by=created_at|-created_at|ref|-ref|last_used|-last_used&limit=&offset=&ref=.
func (h *Handlers) APIListSymbolSets(c echo.Context) error {
	p, err := h.apiProject(c)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	status, ok := apiStatuses[q.Get("status")]
	if !ok {
		return apiError(http.StatusBadRequest, "invalid_input", "status must be all, valid or invalid.")
	}
	order := q.Get("order_by")
	if order == "" {
		order = "-created_at"
	}
	if !db.ValidSymbolSetOrder(order) {
		return apiError(http.StatusBadRequest, "invalid_input", "order_by must be created_at, ref or last_used, optionally prefixed by - for descending.")
	}
	limit, offset := 100, 0
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 1000 {
			return apiError(http.StatusBadRequest, "invalid_input", "limit must be a number from 1 to 1000.")
		}
	}
	if s := q.Get("offset"); s != "" {
		if offset, err = strconv.Atoi(s); err != nil || offset < 0 {
			return apiError(http.StatusBadRequest, "invalid_input", "offset must be a number of 0 or more.")
		}
	}
	rows, total, err := h.symbolSets.ListSymbolSets(c.Request().Context(), db.SymbolSetQuery{ProjectID: p.ID, Status: status,
		Ref: q.Get("ref"), Search: q.Get("search"), Order: order, Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	results := make([]apiSymbolSet, 0, len(rows))
	for _, r := range rows {
		results = append(results, toAPISymbolSet(r))
	}
	page := func(off int) *string {
		u := cloneValues(q)
		u.Set("limit", strconv.Itoa(limit))
		u.Set("offset", strconv.Itoa(off))
		s := h.publicURL(c) + c.Request().URL.Path + "?" + u.Encode()
		return &s
	}
	var next, prev *string
	if offset+len(rows) < total {
		next = page(offset + limit)
	}
	if offset > 0 {
		prev = page(max(offset-limit, 0))
	}
	return c.JSON(http.StatusOK, map[string]any{"count": total, "next": next, "previous": prev, "results": results})
}

// apiSymbolSetRow loads the symbol set of the path; a 404 *Error when there is none.
func (h *Handlers) apiSymbolSetRow(c echo.Context) (db.SymbolSetRow, error) {
	p, err := h.apiProject(c)
	if err != nil {
		return db.SymbolSetRow{}, err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return db.SymbolSetRow{}, apiError(http.StatusNotFound, "not_found", "There is no such symbol set.")
	}
	r, err := h.symbolSets.SymbolSetRowByID(c.Request().Context(), p.ID, id)
	if errors.Is(err, symbols.ErrNoSymbolSet) {
		return r, apiError(http.StatusNotFound, "not_found", "There is no such symbol set.")
	}
	return r, err
}

// APIGetSymbolSet: GET …/symbol_sets/{id}/.
func (h *Handlers) APIGetSymbolSet(c echo.Context) error {
	r, err := h.apiSymbolSetRow(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPISymbolSet(r))
}

// APIDeleteSymbolSet: DELETE …/symbol_sets/{id}/ → 204; its frames are
// resolved again without it.
func (h *Handlers) APIDeleteSymbolSet(c echo.Context) error {
	r, err := h.apiSymbolSetRow(c)
	if err != nil {
		return err
	}
	if _, err := h.deleteSymbolSet(c.Request().Context(), r.ProjectID, r.ID); err != nil && !errors.Is(err, symbols.ErrNoSymbolSet) {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// APIBulkDeleteSymbolSets: POST …/symbol_sets/bulk_delete {"ids":[…]}.
func (h *Handlers) APIBulkDeleteSymbolSets(c echo.Context) error {
	p, err := h.apiProject(c)
	if err != nil {
		return err
	}
	var body struct {
		IDs []json.RawMessage `json:"ids"`
	}
	if err := decodeJSONBody(c, &body); err != nil || body.IDs == nil {
		return apiError(http.StatusBadRequest, "invalid_input", `The body must be {"ids": ["12", "13"]}.`)
	}
	ids := make([]int64, 0, len(body.IDs))
	for _, raw := range body.IDs {
		id, ok := parseJSONID(raw)
		if !ok {
			return apiError(http.StatusBadRequest, "invalid_input", "Every id must be a symbol set id such as \"12\"; "+string(raw)+" is not.")
		}
		ids = append(ids, id)
	}
	deleted, notFound := []string{}, []string{}
	for _, id := range ids {
		_, err := h.deleteSymbolSet(c.Request().Context(), p.ID, id)
		switch {
		case errors.Is(err, symbols.ErrNoSymbolSet):
			notFound = append(notFound, strconv.FormatInt(id, 10))
		case err != nil:
			return err
		default:
			deleted = append(deleted, strconv.FormatInt(id, 10))
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"success": true, "deleted": deleted, "not_found": notFound})
}

// downloadLinkTTL is how long a download link handed to posthog-cli works.
const downloadLinkTTL = 10 * time.Minute

// APIDownloadSymbolSet: GET …/symbol_sets/{id}/download/ → {"url": …}, a
// short-lived link to the stored files as a posthog-cli blob (PostHog
// answers with a presigned object-storage URL the same way).
func (h *Handlers) APIDownloadSymbolSet(c echo.Context) error {
	r, err := h.apiSymbolSetRow(c)
	if err != nil {
		return err
	}
	if !r.Stored {
		return apiError(http.StatusNotFound, "file_not_found", "This symbol set has no stored file: it is missing ("+failureMessage(r.SymbolSet)+").")
	}
	expires := time.Now().Add(downloadLinkTTL)
	token, err := h.uploads.SignLink(c.Request().Context(), symbols.LinkDownload, r.ProjectID, r.ID, expires)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"url": h.publicURL(c) + "/downloads/symbol-sets/" + url.PathEscape(token),
		"expires_at": expires.UTC().Truncate(time.Second)})
}

// DownloadSymbolSetBlob serves a signed download link:
// GET /downloads/symbol-sets/{token} → the stored files as a version 2
// zstd blob, as posthog-cli's `symbol-sets download` reads it.
func (h *Handlers) DownloadSymbolSetBlob(c echo.Context) error {
	ctx := c.Request().Context()
	projectID, id, ok, err := h.uploads.VerifyLink(ctx, symbols.LinkDownload, c.Param("token"))
	if err != nil {
		return err
	}
	if !ok {
		return apiError(http.StatusForbidden, "invalid_link", "This download link is invalid or has expired: ask the API for a new one.")
	}
	set, err := h.symbolSets.SymbolSetByID(ctx, projectID, id)
	if errors.Is(err, symbols.ErrNoSymbolSet) || (err == nil && !set.Stored) {
		return apiError(http.StatusNotFound, "not_found", "This symbol set no longer has a stored file.")
	}
	if err != nil {
		return err
	}
	sourceMap, minified, err := h.symbolSets.SymbolSetFiles(ctx, id)
	if err != nil {
		return err
	}
	return sendAttachment(c, fmt.Sprintf("symbol-set-%d.jsdata", id), "application/octet-stream",
		symbols.EncodeUploadBlob(symbols.BlobVersion2, true, minified, sourceMap))
}

func decodeJSONBody(c echo.Context, out any) error {
	return json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 4<<20)).Decode(out)
}

// parseJSONID accepts an id sent as a string ("12") or a number (12).
func parseJSONID(raw json.RawMessage) (int64, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = strings.TrimSpace(string(raw))
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}
