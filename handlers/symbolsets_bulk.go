package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/pipeline"
	"github.com/stacklens/stacklens/symbols"
	"github.com/stacklens/stacklens/views"
)

// A bulk upload is two requests: the files arrive and the pairing is shown,
// then the person confirms. Between the two the files wait in a temporary
// directory named by an unguessable batch token (re-submitting them in a
// hidden form would send up to hundreds of MiB through the browser twice);
// directories older than bulkBatchLifetime are removed at the next upload.
const (
	bulkDirPrefix     = "stacklens-bulk-"
	bulkBatchLifetime = time.Hour
	bulkMaxFiles      = 500
)

var batchToken = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

type bulkManifest struct {
	ProjectID int64    `json:"project_id"`
	UserID    int64    `json:"user_id"`
	Names     []string `json:"names"`
}

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
	_, missing, err := h.db.ListSymbolSets(ctx, db.SymbolSetQuery{ProjectID: projectID, Status: db.SymbolSetsMissing, Limit: 1})
	return views.BulkUploadView{Missing: missing, ConfirmURL: "/settings/symbol-sets/upload/confirm"}, err
}

// BulkUploadPreview receives the files (multipart `files`, many), keeps them
// in a batch directory and shows how they pair with the missing symbol sets:
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
	if len(headers) > bulkMaxFiles {
		return refuse(fmt.Sprintf("That is %d files; upload at most %d at once.", len(headers), bulkMaxFiles))
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
	removeOldBatches()
	batch := randomToken()
	if err := saveBatch(batch, bulkManifest{ProjectID: project.ID, UserID: currentUser(c).ID}, files); err != nil {
		return err
	}
	v.Batch = batch
	pairs, unpaired, err := h.pairBatch(ctx, project.ID, files)
	if err != nil {
		return err
	}
	v.Unpaired = unpaired
	for _, p := range pairs {
		v.Pairs = append(v.Pairs, views.BulkPair{SymbolSetID: p.Target.ID, URL: symbolSetURL(p.Target.ID), Ref: p.Target.Ref,
			MapName: p.MapName, MinifiedName: p.MinifiedName, MatchedBy: p.MatchedBy, Problem: p.problem, Mismatch: p.mismatch})
	}
	return render(c, http.StatusOK, views.BulkUploadPage(nav, v))
}

// checkedPair is a pair with what validation said about it.
type checkedPair struct {
	symbols.Pair
	problem  string
	mismatch string
}

func (h *Handlers) pairBatch(ctx context.Context, projectID int64, files []symbols.UploadFile) ([]checkedPair, []string, error) {
	missing, _, err := h.db.ListSymbolSets(ctx, db.SymbolSetQuery{ProjectID: projectID, Status: db.SymbolSetsMissing, Order: "-last_used"})
	if err != nil {
		return nil, nil, err
	}
	targets := make([]symbols.PairTarget, 0, len(missing))
	for _, s := range missing {
		targets = append(targets, symbols.PairTarget{ID: s.ID, Ref: s.Ref, Kind: s.Kind})
	}
	pairs, unpaired := symbols.PairUploads(targets, files)
	out := make([]checkedPair, 0, len(pairs))
	for _, p := range pairs {
		cp := checkedPair{Pair: p}
		frames, err := h.db.FramesOfSymbolSet(ctx, projectID, p.Target.ID)
		if err != nil {
			return nil, nil, err
		}
		checked, err := symbols.ValidateUpload(p.Map, p.Minified, frames, h.maxUploadBytes())
		var problem *symbols.UploadProblem
		switch {
		case errors.As(err, &problem):
			cp.problem = problem.Message
		case err != nil:
			return nil, nil, err
		default:
			cp.mismatch = checked.MismatchSentence()
		}
		out = append(out, cp)
	}
	return out, unpaired, nil
}

// BulkUploadConfirm stores the pairs of a batch and resolves their frames
// again: POST /settings/symbol-sets/upload/confirm with `batch` and
// optional `confirm_mismatch`.
func (h *Handlers) BulkUploadConfirm(c echo.Context) error {
	nav, project, err := h.nav(c, views.SectionSymbolSets)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	batch := c.FormValue("batch")
	files, manifest, err := loadBatch(batch)
	if err != nil || manifest.ProjectID != project.ID || manifest.UserID != currentUser(c).ID {
		v, verr := h.bulkView(ctx, project.ID)
		if verr != nil {
			return verr
		}
		v.Error = "These files are no longer here (an upload waits an hour at most). Choose them again."
		return render(c, http.StatusGone, views.BulkUploadPage(nav, v))
	}
	pairs, _, err := h.pairBatch(ctx, project.ID, files)
	if err != nil {
		return err
	}
	confirmed := c.FormValue("confirm_mismatch") == "on"
	var total pipeline.ReresolveReport
	issues := map[int64]bool{}
	stored := 0
	for _, p := range pairs {
		if p.problem != "" || (p.mismatch != "" && !confirmed) {
			continue
		}
		set, err := h.db.SymbolSetByID(ctx, project.ID, p.Target.ID)
		if errors.Is(err, symbols.ErrNoSymbolSet) {
			continue // deleted meanwhile
		}
		if err != nil {
			return err
		}
		report, err := h.storeUpload(ctx, set, p.Map, p.Minified)
		if err != nil {
			return err
		}
		stored++
		total.Frames += report.Frames
		total.ResolvedFrames += report.ResolvedFrames
		for _, id := range report.IssueIDs {
			if !issues[id] {
				issues[id] = true
				total.IssueIDs = append(total.IssueIDs, id)
			}
		}
	}
	_ = os.RemoveAll(batchDir(batch))
	q := reportQuery("bulk", total)
	q.Set("stored", strconv.Itoa(stored))
	return c.Redirect(http.StatusSeeOther, inProject("/settings/symbol-sets", project.ID, q))
}

func batchDir(batch string) string {
	return filepath.Join(os.TempDir(), bulkDirPrefix+batch)
}

func saveBatch(batch string, m bulkManifest, files []symbols.UploadFile) error {
	dir := batchDir(batch)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("keep uploaded files: %w", err)
	}
	for i, f := range files {
		m.Names = append(m.Names, f.Name)
		if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(i)), f.Data, 0o600); err != nil {
			return fmt.Errorf("keep uploaded file %s: %w", f.Name, err)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("keep uploaded files: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o600)
}

func loadBatch(batch string) ([]symbols.UploadFile, bulkManifest, error) {
	var m bulkManifest
	if !batchToken.MatchString(batch) {
		return nil, m, errors.New("malformed batch token")
	}
	dir := batchDir(batch)
	info, err := os.Stat(dir)
	if err != nil {
		return nil, m, err
	}
	if time.Since(info.ModTime()) > bulkBatchLifetime {
		_ = os.RemoveAll(dir)
		return nil, m, errors.New("batch expired")
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, m, err
	}
	files := make([]symbols.UploadFile, 0, len(m.Names))
	for i, name := range m.Names {
		data, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(i)))
		if err != nil {
			return nil, m, err
		}
		files = append(files, symbols.UploadFile{Name: name, Data: data})
	}
	return files, m, nil
}

// removeOldBatches deletes batch directories nobody confirmed in time.
func removeOldBatches() {
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), bulkDirPrefix) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > bulkBatchLifetime {
			_ = os.RemoveAll(filepath.Join(os.TempDir(), e.Name()))
		}
	}
}
