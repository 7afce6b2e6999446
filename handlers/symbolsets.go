package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/symbols"
	"github.com/stacklens/stacklens/views"
)

const symbolSetsPerPage = 50

// SymbolSetsPage lists the project's symbol sets: GET /settings/symbol-sets
// ?status=all|missing|stored&q=<part of ref>&sort=last_used|created&page=N.
func (h *Handlers) SymbolSetsPage(c echo.Context) error {
	nav, project, err := h.nav(c, views.SectionSymbolSets)
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	if status == "" {
		status = views.SymbolSetsAll
	}
	if status != views.SymbolSetsAll && status != views.SymbolSetsMissing && status != views.SymbolSetsStored {
		return echo.NewHTTPError(http.StatusBadRequest, "Unknown status filter "+strconv.Quote(status)+": use all, missing or stored.")
	}
	sort := c.QueryParam("sort")
	if sort == "" {
		sort = views.SortLastUsed
	}
	order := map[string]string{views.SortLastUsed: "-last_used", views.SortCreated: "-created_at"}[sort]
	if order == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "Unknown sort "+strconv.Quote(sort)+": use last_used or created.")
	}
	page, _ := strconv.Atoi(c.QueryParam("page"))
	page = max(page, 1)
	search := strings.TrimSpace(c.QueryParam("q"))
	ctx := c.Request().Context()
	rows, total, err := h.symbolSets.ListSymbolSets(ctx, db.SymbolSetQuery{ProjectID: project.ID, Status: status, Search: search,
		Order: order, MissingFirst: status == views.SymbolSetsAll, Limit: symbolSetsPerPage, Offset: (page - 1) * symbolSetsPerPage})
	if err != nil {
		return err
	}
	_, missing, err := h.symbolSets.ListSymbolSets(ctx, db.SymbolSetQuery{ProjectID: project.ID, Status: db.SymbolSetsMissing, Limit: 1})
	if err != nil {
		return err
	}
	v := views.SymbolSetsView{Status: status, Search: search, Sort: sort, Total: total, First: (page-1)*symbolSetsPerPage + 1, Missing: missing}
	for _, r := range rows {
		v.Rows = append(v.Rows, views.SymbolSetRow{ID: r.ID, URL: symbolSetURL(r.ID), Ref: r.Ref, KindLabel: kindLabel(r.Kind),
			MinifiedURL: r.MinifiedURL, Release: r.Release, Stored: r.Stored, Origin: r.Origin, SeenFile: r.SeenFile,
			Failure: failureMessage(r.SymbolSet), Frames: r.Frames, Issues: r.Issues, LastUsed: r.LastUsedAt, Created: r.CreatedAt, SizeBytes: r.SizeBytes})
	}
	pageURL := func(n int) string {
		q := url.Values{"status": {status}, "sort": {sort}, "page": {strconv.Itoa(n)}, "project": {strconv.FormatInt(project.ID, 10)}}
		if search != "" {
			q.Set("q", search)
		}
		return "/settings/symbol-sets?" + q.Encode()
	}
	if page > 1 {
		v.PrevURL = pageURL(page - 1)
	}
	if page*symbolSetsPerPage < total {
		v.NextURL = pageURL(page + 1)
	}
	if v.Flash, err = h.flashFromQuery(ctx, project.ID, c.QueryParams()); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.SymbolSetsPage(nav, v))
}

// SymbolSetPage shows one symbol set: GET /settings/symbol-sets/{id}.
func (h *Handlers) SymbolSetPage(c echo.Context) error {
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
	if v.Flash, err = h.flashFromQuery(ctx, project.ID, c.QueryParams()); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.SymbolSetPage(nav, v))
}

func symbolSetURL(id int64) string { return fmt.Sprintf("/settings/symbol-sets/%d", id) }

func symbolSetID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusNotFound, "There is no such symbol set.")
	}
	return id, nil
}

// failureMessage is the sentence that says why a symbol set is missing.
func failureMessage(s symbols.SymbolSet) string {
	if s.Stored || s.Failure == nil {
		return ""
	}
	if s.Failure.Message != "" {
		return s.Failure.Message
	}
	return unresolvedSentence(s.Failure.Code)
}

// unresolvedSentence says why frames are not resolved when all that is
// known is the failure code.
func unresolvedSentence(code string) string {
	if summary := symbols.Summary(code); summary != "" {
		return summary
	}
	if code == "" {
		return "This frame could not be resolved."
	}
	return "This frame could not be resolved (reason: " + strings.ReplaceAll(code, "_", " ") + ")."
}

// stepError is what a fetch step's Answer column adds to its status: the
// fetcher records "answered 404 Not Found" for a refused request, which the
// column already says with the status itself.
func stepError(s symbols.Step) string {
	if s.Status != 0 && strings.HasPrefix(s.Error, "answered "+strconv.Itoa(s.Status)) {
		return ""
	}
	return s.Error
}

func kindLabel(k symbols.RefKind) string {
	switch k {
	case symbols.RefChunkID:
		return "chunk id"
	case symbols.RefDebugID:
		return "debug id"
	case symbols.RefURL:
		return "URL"
	}
	return string(k)
}

// symbolSetView is the diagnosis page of a symbol set, without flash or form state.
func (h *Handlers) symbolSetView(ctx context.Context, projectID, id int64, publicURL string) (views.SymbolSetView, error) {
	set, err := h.symbolSets.SymbolSetRowByID(ctx, projectID, id)
	if errors.Is(err, symbols.ErrNoSymbolSet) {
		return views.SymbolSetView{}, echo.NewHTTPError(http.StatusNotFound, "There is no such symbol set. It may have been deleted.")
	}
	if err != nil {
		return views.SymbolSetView{}, err
	}
	base := symbolSetURL(id)
	v := views.SymbolSetView{ID: id, Ref: set.Ref, KindLabel: kindLabel(set.Kind), Stored: set.Stored, Origin: set.Origin,
		MinifiedURL: set.MinifiedURL, MapURL: set.MapURL, Release: set.Release, SizeBytes: set.SizeBytes,
		Created: set.CreatedAt, Updated: set.UpdatedAt, LastUsed: set.LastUsedAt,
		CanRetry: set.Kind == symbols.RefURL, UploadURL: base + "/upload", RetryURL: base + "/retry", DeleteURL: base + "/delete",
		DownloadMapURL: base + "/download?file=map", MaxUploadBytes: h.maxUploadBytes()}
	if set.Failure != nil {
		v.FailureCode, v.FailureMessage, v.Advice = set.Failure.Code, failureMessage(set.SymbolSet), symbols.AdviceFor(set.Failure)
		for _, s := range set.Failure.Steps {
			v.Steps = append(v.Steps, views.FetchStep{Action: s.Action, URL: s.URL, Status: s.Status, Found: s.Found, Bytes: s.Bytes, Error: stepError(s)})
		}
	}
	if set.Stored {
		_, minified, err := h.symbolSets.SymbolSetFiles(ctx, id)
		if err != nil {
			return v, err
		}
		if len(minified) > 0 {
			v.DownloadJSURL = base + "/download?file=minified"
		}
	}
	if v.Frames, err = h.symbolSetFrames(ctx, projectID, id); err != nil {
		return v, err
	}
	issues, err := h.symbolSets.IssuesOfSymbolSet(ctx, projectID, id)
	if err != nil {
		return v, err
	}
	v.Issues = issueLinks(issues)
	if set.Kind == symbols.RefDebugID {
		if v.Sentry, err = h.sentryDebugIDHelp(ctx, set, publicURL); err != nil {
			return v, err
		}
		v.Advice = "" // the Sentry card says what to run
	}
	return v, nil
}

func issueLinks(refs []db.IssueRef) []views.IssueLink {
	out := make([]views.IssueLink, 0, len(refs))
	for _, r := range refs {
		out = append(out, views.IssueLink{ID: r.ID, Name: r.Name, Description: r.Description, URL: fmt.Sprintf("/issues/%d", r.ID)})
	}
	return out
}

// symbolSetFrames lists the frames that use a symbol set with what they resolve to now.
func (h *Handlers) symbolSetFrames(ctx context.Context, projectID, id int64) ([]views.SymbolSetFrame, error) {
	frames, err := h.symbolSets.FramesOfSymbolSet(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(frames))
	for i, f := range frames {
		ids[i] = f.RawID
	}
	current, err := h.symbolSets.FrameResolutions(ctx, projectID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]views.SymbolSetFrame, 0, len(frames))
	for _, f := range frames {
		sf := views.SymbolSetFrame{Function: f.Function, Location: fmt.Sprintf("%s:%d:%d", firstNonEmpty(f.Filename, f.AbsPath), f.Lineno, f.Colno)}
		if r, ok := current[f.RawID]; ok {
			sf.Resolved = r.Resolved
			if r.Resolved {
				sf.ResolvedAs = fmt.Sprintf("%s in %s:%d:%d", firstNonEmpty(r.Name, "<anonymous>"), displaySource(r.Source), r.Line, r.Column)
			} else {
				sf.Failure = frameFailure(r)
			}
		}
		out = append(out, sf)
	}
	return out, nil
}

func frameFailure(r event.Resolution) string {
	return unresolvedSentence(r.FailureCode)
}

// flashFromQuery turns the query of a redirect after an action into the
// message the page shows, with links to the issues concerned.
func (h *Handlers) flashFromQuery(ctx context.Context, projectID int64, q url.Values) (views.Flash, error) {
	done := q.Get("done")
	if done == "" {
		return views.Flash{}, nil
	}
	frames, _ := strconv.Atoi(q.Get("frames"))
	resolved, _ := strconv.Atoi(q.Get("resolved"))
	var ids []int64
	for _, s := range strings.Split(q.Get("issues"), ",") {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 && len(ids) < 50 {
			ids = append(ids, id)
		}
	}
	refs, err := h.symbolSets.IssueRefs(ctx, projectID, ids)
	if err != nil {
		return views.Flash{}, err
	}
	f := views.Flash{Issues: issueLinks(refs)}
	changed := resolutionSentence(frames, resolved, len(refs))
	switch done {
	case "uploaded":
		f.Message = "Source map stored. " + changed
	case "fetched":
		f.Message = "Fetched the source map again and stored it. " + changed
	case "fetch_failed":
		f.Message, f.Error = "Fetching failed again: "+strings.TrimSpace(q.Get("reason")), true
	case "deleted":
		f.Message = "Symbol set deleted. " + nounCount(frames, "frame") + " that used it were resolved again."
	case "bulk":
		stored, _ := strconv.Atoi(q.Get("stored"))
		f.Message = "Stored " + nounCount(stored, "source map") + ". " + changed
	default:
		return views.Flash{}, nil
	}
	return f, nil
}

func resolutionSentence(frames, resolved, issues int) string {
	switch {
	case frames == 0:
		return "No frame uses it yet: new events will resolve with it."
	case resolved == 0:
		return "None of the " + nounCount(frames, "frame") + " that use it resolves with it."
	case resolved < frames:
		return fmt.Sprintf("%s in %s now resolved; %d still %s not.", nounCount(resolved, "frame"), nounCount(issues, "issue"), frames-resolved, doOrDoes(frames-resolved))
	}
	return nounCount(resolved, "frame") + " in " + nounCount(issues, "issue") + " now resolved."
}

func doOrDoes(n int) string {
	if n == 1 {
		return "does"
	}
	return "do"
}

func nounCount(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
