package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/pipeline"
	"github.com/stacklens/stacklens/symbols"
	"github.com/stacklens/stacklens/views"
)

// maxUploadBytes caps the files of one upload together.
func (h *Handlers) maxUploadBytes() int64 { return h.uploads.MaxBytes() }

// LimitUploadBody refuses upload requests larger than the upload cap before
// anything reads them (the CSRF check parses the form), and stops bodies
// that lie about their length.
func (h *Handlers) LimitUploadBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit := h.maxUploadBytes()*2 + 1<<20 // a map and its minified file, plus the form around them
		if c.Request().ContentLength > limit {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge,
				fmt.Sprintf("This upload is larger than the %d MiB stacklens accepts.", h.maxUploadBytes()>>20))
		}
		c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, limit)
		return next(c)
	}
}

// formFile reads an uploaded file of a multipart form; nil when the field is
// absent or empty.
func formFile(c echo.Context, name string, limit int64) ([]byte, string, error) {
	fh, err := c.FormFile(name)
	if errors.Is(err, http.ErrMissingFile) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", &symbols.UploadProblem{Message: "The upload did not arrive complete. Try again."}
	}
	return readFileHeader(fh, limit)
}

func readFileHeader(fh *multipart.FileHeader, limit int64) ([]byte, string, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, "", fmt.Errorf("open uploaded %s: %w", fh.Filename, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, "", fmt.Errorf("read uploaded %s: %w", fh.Filename, err)
	}
	if int64(len(b)) > limit {
		return nil, "", &symbols.UploadProblem{Message: fmt.Sprintf("%s is larger than the %d MiB limit.", fh.Filename, limit>>20)}
	}
	return b, fh.Filename, nil
}

// reportQuery carries what re-resolution changed to the page the browser is
// redirected to.
func reportQuery(done string, r symbols.ReresolveReport) url.Values {
	q := url.Values{"done": {done}, "frames": {strconv.Itoa(r.Frames)}, "resolved": {strconv.Itoa(r.ResolvedFrames)}}
	ids := make([]string, 0, len(r.IssueIDs))
	for _, id := range r.IssueIDs {
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	if len(ids) > 0 {
		q.Set("issues", strings.Join(ids, ","))
	}
	return q
}

// UploadSymbolSet uploads or replaces the map of a symbol set:
// POST /settings/symbol-sets/{id}/upload, multipart `source_map`, optional
// `minified` and `confirm_mismatch`. symbols.Uploads.Replace changes nothing
// unless the map is valid and matches the frames that use the set (or the
// person confirms).
func (h *Handlers) UploadSymbolSet(c echo.Context) error {
	nav, project, err := h.symbolSetNav(c)
	if err != nil {
		return err
	}
	id, err := symbolSetID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	v, err := h.symbolSetView(ctx, project.ID, id, h.publicURL(c))
	if err != nil {
		return err
	}
	refuse := func(status int, msg string) error {
		v.UploadError = msg
		return render(c, status, views.SymbolSetPage(nav, v))
	}
	limit := h.maxUploadBytes()
	sourceMap, _, err := formFile(c, "source_map", limit)
	var problem *symbols.UploadProblem
	if errors.As(err, &problem) {
		return refuse(http.StatusUnprocessableEntity, problem.Message)
	}
	if err != nil {
		return err
	}
	minified, _, err := formFile(c, "minified", limit)
	if errors.As(err, &problem) {
		return refuse(http.StatusUnprocessableEntity, problem.Message)
	}
	if err != nil {
		return err
	}
	report, err := h.uploads.Replace(ctx, project.ID, id, sourceMap, minified, c.FormValue("confirm_mismatch") == "on")
	var mismatch *symbols.MismatchError
	switch {
	case errors.As(err, &problem):
		return refuse(http.StatusUnprocessableEntity, problem.Message)
	case errors.As(err, &mismatch):
		v.Mismatch, v.MismatchExamples = mismatch.Checked.MismatchSentence(), mismatch.Checked.Examples
		return render(c, http.StatusUnprocessableEntity, views.SymbolSetPage(nav, v))
	case errors.Is(err, symbols.ErrNoSymbolSet):
		return echo.NewHTTPError(http.StatusNotFound, "There is no such symbol set. It may have been deleted meanwhile.")
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, symbolSetURL(id)+"?"+reportQuery("uploaded", report).Encode())
}

// RetrySymbolSetFetch fetches a URL symbol set again now:
// POST /settings/symbol-sets/{id}/retry.
func (h *Handlers) RetrySymbolSetFetch(c echo.Context) error {
	_, project, set, err := h.pathSymbolSet(c)
	if err != nil {
		return err
	}
	ctx, id := c.Request().Context(), set.ID
	if set.Kind != symbols.RefURL {
		return echo.NewHTTPError(http.StatusBadRequest, "This symbol set is identified by a "+kindLabel(set.Kind)+", not a URL: there is nothing to fetch. Upload its source map instead.")
	}
	fetched, err := h.symbols.Refetch(ctx, project.ID, id)
	if err != nil {
		return err
	}
	if !fetched.Stored {
		q := url.Values{"done": {"fetch_failed"}, "reason": {failureMessage(fetched)}}
		return c.Redirect(http.StatusSeeOther, symbolSetURL(id)+"?"+q.Encode())
	}
	report, err := h.worker.ResolveSymbolSetAgain(ctx, project.ID, id)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, symbolSetURL(id)+"?"+reportQuery("fetched", report).Encode())
}

// DeleteSymbolSetPage deletes a symbol set and resolves its frames again
// without it: POST /settings/symbol-sets/{id}/delete.
func (h *Handlers) DeleteSymbolSetPage(c echo.Context) error {
	_, project, err := h.symbolSetNav(c)
	if err != nil {
		return err
	}
	id, err := symbolSetID(c)
	if err != nil {
		return err
	}
	report, err := h.deleteSymbolSet(c.Request().Context(), project.ID, id)
	if errors.Is(err, symbols.ErrNoSymbolSet) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such symbol set. It may have been deleted already.")
	}
	if err != nil {
		return err
	}
	q := url.Values{"done": {"deleted"}, "frames": {strconv.Itoa(report.Frames)}}
	return c.Redirect(http.StatusSeeOther, inProject("/settings/symbol-sets", project.ID, q))
}

func (h *Handlers) deleteSymbolSet(ctx context.Context, projectID, id int64) (pipeline.ReresolveReport, error) {
	if _, err := h.symbolSets.SymbolSetByID(ctx, projectID, id); err != nil {
		return pipeline.ReresolveReport{}, err
	}
	return h.worker.DeleteSymbolSet(ctx, projectID, id, func(ctx context.Context) error {
		return h.symbolSets.DeleteSymbolSet(ctx, projectID, id)
	})
}

// DownloadSymbolSetFile sends a stored file: GET
// /settings/symbol-sets/{id}/download?file=map|minified.
func (h *Handlers) DownloadSymbolSetFile(c echo.Context) error {
	_, _, set, err := h.pathSymbolSet(c)
	if err != nil {
		return err
	}
	ctx, id := c.Request().Context(), set.ID
	if !set.Stored {
		return echo.NewHTTPError(http.StatusNotFound, "This symbol set has no stored file: it is missing.")
	}
	sourceMap, minified, err := h.symbolSets.SymbolSetFiles(ctx, id)
	if err != nil {
		return err
	}
	name := downloadName(set)
	switch c.QueryParam("file") {
	case "", "map":
		return sendAttachment(c, name+".map", "application/json", sourceMap)
	case "minified":
		if len(minified) == 0 {
			return echo.NewHTTPError(http.StatusNotFound, "No minified file is stored for this symbol set, only its source map.")
		}
		return sendAttachment(c, name, "text/javascript; charset=utf-8", minified)
	}
	return echo.NewHTTPError(http.StatusBadRequest, "file must be map or minified.")
}

// downloadName is the file name of the minified file a symbol set stands for.
func downloadName(set symbols.SymbolSet) string {
	name := set.Ref
	if set.Kind == symbols.RefURL {
		if u, err := url.Parse(set.Ref); err == nil {
			name = path.Base(u.Path)
		}
	}
	name = strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r == '/' || r < ' ' {
			return '_'
		}
		return r
	}, name)
	if name == "" || name == "." || name == "/" {
		name = fmt.Sprintf("symbol-set-%d.js", set.ID)
	}
	return name
}

func sendAttachment(c echo.Context, name, contentType string, body []byte) error {
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	return c.Blob(http.StatusOK, contentType, body)
}
