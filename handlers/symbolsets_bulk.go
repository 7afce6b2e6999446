package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/symbols"
	"github.com/stacklens/stacklens/views"
)

// A bulk upload is two requests: the files arrive and the pairing is shown
// (BulkUploadPreview), then the person confirms (BulkUploadConfirm). The
// files wait in between as a batch kept by symbols.Uploads.

// BulkUploadPage shows the bulk upload form: GET /settings/symbol-sets/upload.
func (h *Handlers) BulkUploadPage(c echo.Context) error {
	nav, project, err := h.nav(c, views.SectionSymbolSets)
	if err != nil {
		return err
	}
	v, err := h.bulkView(c.Request().Context(), project.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.BulkUploadPage(nav, v))
}

func (h *Handlers) bulkView(ctx context.Context, projectID int64) (views.BulkUploadView, error) {
	_, missing, err := h.symbolSets.ListSymbolSets(ctx, db.SymbolSetQuery{ProjectID: projectID, Status: db.SymbolSetsMissing, Limit: 1})
	return views.BulkUploadView{Missing: missing, ConfirmURL: "/settings/symbol-sets/upload/confirm"}, err
}

// BulkUploadPreview receives the files (multipart `files`, many), keeps them
// as a batch and shows how they pair with the missing symbol sets:
// POST /settings/symbol-sets/upload. Nothing is stored yet.
func (h *Handlers) BulkUploadPreview(c echo.Context) error {
	nav, project, err := h.nav(c, views.SectionSymbolSets)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	v, err := h.bulkView(ctx, project.ID)
	if err != nil {
		return err
	}
	refuse := func(msg string) error {
		v.Error = msg
		return render(c, http.StatusUnprocessableEntity, views.BulkUploadPage(nav, v))
	}
	form, err := c.MultipartForm()
	if err != nil {
		return refuse("The upload did not arrive complete. Try again.")
	}
	headers := form.File["files"]
	if len(headers) == 0 {
		return refuse("Choose the .js and .map files of your build.")
	}
	if len(headers) > symbols.BatchMaxFiles {
		return refuse(fmt.Sprintf("That is %d files; upload at most %d at once.", len(headers), symbols.BatchMaxFiles))
	}
	var files []symbols.UploadFile
	var total int64
	for _, fh := range headers {
		b, name, err := readFileHeader(fh, h.maxUploadBytes())
		var problem *symbols.UploadProblem
		if errors.As(err, &problem) {
			return refuse(problem.Message)
		}
		if err != nil {
			return err
		}
		if total += int64(len(b)); total > h.maxUploadBytes()*2 {
			return refuse(fmt.Sprintf("These files are larger than %d MiB together. Upload them in smaller groups.", h.maxUploadBytes()*2>>20))
		}
		files = append(files, symbols.UploadFile{Name: name, Data: b})
	}
	batch, err := h.uploads.KeepBatch(ctx, symbols.BatchOwner{ProjectID: project.ID, UserID: currentUser(c).ID}, files)
	if err != nil {
		return err
	}
	v.Batch = batch
	pairs, unpaired, err := h.uploads.CheckBatch(ctx, project.ID, files)
	if err != nil {
		return err
	}
	v.Unpaired = unpaired
	for _, p := range pairs {
		v.Pairs = append(v.Pairs, views.BulkPair{SymbolSetID: p.Target.ID, URL: symbolSetURL(p.Target.ID), Ref: p.Target.Ref,
			MapName: p.MapName, MinifiedName: p.MinifiedName, MatchedBy: p.MatchedBy, Problem: p.Problem, Mismatch: p.Mismatch})
	}
	return render(c, http.StatusOK, views.BulkUploadPage(nav, v))
}

// BulkUploadConfirm stores the pairs of a batch, all in one transaction, and
// resolves their frames again: POST /settings/symbol-sets/upload/confirm
// with `batch` and optional `confirm_mismatch`.
func (h *Handlers) BulkUploadConfirm(c echo.Context) error {
	nav, project, err := h.nav(c, views.SectionSymbolSets)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	batch := c.FormValue("batch")
	files, err := h.uploads.LoadBatch(ctx, batch, symbols.BatchOwner{ProjectID: project.ID, UserID: currentUser(c).ID})
	if errors.Is(err, symbols.ErrBatchGone) {
		v, verr := h.bulkView(ctx, project.ID)
		if verr != nil {
			return verr
		}
		v.Error = "These files are no longer here (an upload waits an hour at most). Choose them again."
		return render(c, http.StatusGone, views.BulkUploadPage(nav, v))
	}
	if err != nil {
		return err
	}
	stored, report, err := h.uploads.StoreBatch(ctx, project.ID, files, c.FormValue("confirm_mismatch") == "on")
	if err != nil {
		return err
	}
	if err := h.uploads.DropBatch(ctx, batch); err != nil {
		// The files are stored; the batch expires within the hour anyway.
		h.log.Warn("bulk upload stored, but its batch stays", "project", project.ID, "err", err)
	}
	q := reportQuery("bulk", report)
	q.Set("stored", strconv.Itoa(stored))
	return c.Redirect(http.StatusSeeOther, inProject("/settings/symbol-sets", project.ID, q))
}
