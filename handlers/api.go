package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
)

type apiIssue struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Status      string     `json:"status"`
	FirstSeen   time.Time  `json:"first_seen"`
	LastSeen    time.Time  `json:"last_seen"`
	Occurrences int64      `json:"occurrences"`
	RegressedAt *time.Time `json:"regressed_at"`
}

func toAPIIssue(is db.Issue) apiIssue {
	out := apiIssue{ID: is.ID, Name: is.Name, Description: is.Description, Status: is.Status,
		FirstSeen: is.FirstSeen, LastSeen: is.LastSeen, Occurrences: is.Occurrences}
	if !is.RegressedAt.IsZero() {
		t := is.RegressedAt
		out.RegressedAt = &t
	}
	return out
}

// apiProject checks the {project_id} of an API path.
func (h *Handlers) apiProject(c echo.Context) (db.Project, error) {
	id, err := strconv.ParseInt(c.Param("project"), 10, 64)
	if err != nil {
		return db.Project{}, apiError(c, http.StatusNotFound, "not_found", "There is no such project.")
	}
	p, err := h.db.Project(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return db.Project{}, apiError(c, http.StatusNotFound, "not_found", "There is no such project.")
	}
	return p, err
}

// APIIssues lists a project's issues: GET /api/projects/{project}/error_tracking/issues.
func (h *Handlers) APIIssues(c echo.Context) error {
	p, err := h.apiProject(c)
	if err != nil || p.ID == 0 {
		return err
	}
	status := c.QueryParam("status")
	if status != "" && status != "all" && !db.ValidStatus(status) {
		return apiError(c, http.StatusBadRequest, "invalid_input", "status must be active, resolved, suppressed or all.")
	}
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	page, err := h.db.ListIssues(c.Request().Context(), db.IssueQuery{ProjectID: p.ID, Status: status, Limit: limit,
		After: parseCursor(c.QueryParam("after"))})
	if err != nil {
		return err
	}
	results := make([]apiIssue, 0, len(page.Issues))
	for _, is := range page.Issues {
		results = append(results, toAPIIssue(is))
	}
	var next *string
	if page.HasMore && len(page.Issues) > 0 {
		u := c.Request().URL.Path + "?after=" + formatCursor(page.Issues[len(page.Issues)-1])
		if status != "" {
			u += "&status=" + status
		}
		next = &u
	}
	return c.JSON(http.StatusOK, map[string]any{"count": page.Total, "next": next, "results": results})
}

func (h *Handlers) apiIssue(c echo.Context) (db.Issue, error) {
	p, err := h.apiProject(c)
	if err != nil || p.ID == 0 {
		return db.Issue{}, err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return db.Issue{}, apiError(c, http.StatusNotFound, "not_found", "There is no such issue.")
	}
	is, err := h.db.Issue(c.Request().Context(), p.ID, id)
	if errors.Is(err, db.ErrNotFound) {
		return db.Issue{}, apiError(c, http.StatusNotFound, "not_found", "There is no such issue.")
	}
	return is, err
}

// APIIssue shows one issue.
func (h *Handlers) APIIssue(c echo.Context) error {
	is, err := h.apiIssue(c)
	if err != nil || is.ID == 0 {
		return err
	}
	return c.JSON(http.StatusOK, toAPIIssue(is))
}

// APIUpdateIssue changes an issue's status, name or description (PATCH).
func (h *Handlers) APIUpdateIssue(c echo.Context) error {
	is, err := h.apiIssue(c)
	if err != nil || is.ID == 0 {
		return err
	}
	var body struct {
		Status      *string `json:"status"`
		Name        *string `json:"name"`
		Description *string `json:"description"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 1<<20)).Decode(&body); err != nil {
		return apiError(c, http.StatusBadRequest, "invalid_input", "The body must be a JSON object such as {\"status\":\"resolved\"}.")
	}
	ctx := c.Request().Context()
	if body.Status != nil {
		if !db.ValidStatus(*body.Status) {
			return apiError(c, http.StatusBadRequest, "invalid_input", "status must be active, resolved or suppressed.")
		}
		if err := h.db.SetIssueStatus(ctx, is.ProjectID, is.ID, *body.Status); err != nil {
			return err
		}
	}
	if body.Name != nil || body.Description != nil {
		name, desc := is.Name, is.Description
		if body.Name != nil {
			name = *body.Name
		}
		if body.Description != nil {
			desc = *body.Description
		}
		if name == "" {
			return apiError(c, http.StatusBadRequest, "invalid_input", "name cannot be empty.")
		}
		if err := h.db.UpdateIssueText(ctx, is.ProjectID, is.ID, name, desc); err != nil {
			return err
		}
	}
	is, err = h.db.Issue(ctx, is.ProjectID, is.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPIIssue(is))
}

type apiFrame struct {
	RawID          string   `json:"raw_id"`
	MangledName    string   `json:"mangled_name"`
	ResolvedName   string   `json:"resolved_name"`
	Source         string   `json:"source"`
	Line           int      `json:"line"`
	Column         int      `json:"column"`
	InApp          bool     `json:"in_app"`
	Resolved       bool     `json:"resolved"`
	ResolveFailure *string  `json:"resolve_failure"`
	Platform       string   `json:"platform"`
	ChunkID        string   `json:"chunk_id,omitempty"`
	ContextLine    string   `json:"context_line,omitempty"`
	PreContext     []string `json:"pre_context,omitempty"`
	PostContext    []string `json:"post_context,omitempty"`
}

type apiException struct {
	Type      string          `json:"type"`
	Value     string          `json:"value"`
	Mechanism event.Mechanism `json:"mechanism"`
	Frames    []apiFrame      `json:"frames"`
}

type apiEvent struct {
	UUID          string          `json:"uuid"`
	Timestamp     time.Time       `json:"timestamp"`
	DistinctID    string          `json:"distinct_id"`
	Fingerprint   string          `json:"fingerprint"`
	Properties    json.RawMessage `json:"properties"`
	ExceptionList []apiException  `json:"exception_list"`
}

// APIIssueEvents lists an issue's events, newest first, with frames as resolved.
func (h *Handlers) APIIssueEvents(c echo.Context) error {
	is, err := h.apiIssue(c)
	if err != nil || is.ID == 0 {
		return err
	}
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	stored, err := h.db.IssueEvents(c.Request().Context(), is.ProjectID, is.ID, limit)
	if err != nil {
		return err
	}
	results := make([]apiEvent, 0, len(stored))
	for _, se := range stored {
		ev, err := decodeStored(se)
		if err != nil {
			return err
		}
		if err := h.withCurrentResolutions(c.Request().Context(), is.ProjectID, &ev); err != nil {
			return err
		}
		props := ev.Properties
		if len(props) == 0 {
			props = json.RawMessage("{}")
		}
		out := apiEvent{UUID: ev.UUID, Timestamp: ev.Timestamp, DistinctID: ev.DistinctID, Fingerprint: se.Fingerprint, Properties: props}
		for _, ex := range ev.Exceptions {
			ax := apiException{Type: ex.Type, Value: ex.Value, Mechanism: ex.Mechanism, Frames: make([]apiFrame, 0, len(ex.Frames))}
			for _, f := range ex.Frames {
				info := describeFrame(f)
				af := apiFrame{RawID: f.RawID, MangledName: info.MangledName, ResolvedName: info.ResolvedName, Source: info.Source,
					Line: info.Line, Column: info.Column, InApp: info.InApp, Resolved: info.Resolved, Platform: f.Platform,
					ChunkID: f.ChunkID, ContextLine: f.ContextLine, PreContext: f.PreContext, PostContext: f.PostContext}
				if !info.Resolved {
					failure := info.ResolveFailure
					af.ResolveFailure = &failure
				}
				ax.Frames = append(ax.Frames, af)
			}
			out.ExceptionList = append(out.ExceptionList, ax)
		}
		results = append(results, out)
	}
	return c.JSON(http.StatusOK, map[string]any{"results": results})
}
