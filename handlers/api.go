package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/triage"
)

type apiIssue struct {
	ID                int64        `json:"id"`
	Name              string       `json:"name"`
	Description       string       `json:"description"`
	Status            string       `json:"status"`
	ResolvedInRelease *string      `json:"resolved_in_release"`
	FirstSeen         time.Time    `json:"first_seen"`
	LastSeen          time.Time    `json:"last_seen"`
	Occurrences       int64        `json:"occurrences"`
	UsersAffected     int64        `json:"users_affected"`
	RegressedAt       *time.Time   `json:"regressed_at"`
	Assignee          *apiAssignee `json:"assignee"`
}

type apiAssignee struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
}

func toAPIIssue(is db.Issue) apiIssue {
	out := apiIssue{ID: is.ID, Name: is.Name, Description: is.Description, Status: is.Status,
		FirstSeen: is.FirstSeen, LastSeen: is.LastSeen, Occurrences: is.Occurrences, UsersAffected: is.UsersAffected}
	if !is.RegressedAt.IsZero() {
		t := is.RegressedAt
		out.RegressedAt = &t
	}
	if is.ResolvedInRelease != "" {
		r := is.ResolvedInRelease
		out.ResolvedInRelease = &r
	}
	if is.AssigneeID != 0 {
		out.Assignee = &apiAssignee{ID: is.AssigneeID, Email: is.AssigneeEmail}
	}
	return out
}

// apiProject checks the {project_id} of an API path.
func (h *Handlers) apiProject(c echo.Context) (db.Project, error) {
	id, err := strconv.ParseInt(c.Param("project"), 10, 64)
	if err != nil {
		return db.Project{}, apiError(http.StatusNotFound, "not_found", "There is no such project.")
	}
	p, err := h.projects.Project(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return db.Project{}, apiError(http.StatusNotFound, "not_found", "There is no such project.")
	}
	return p, err
}

// APIIssues lists a project's issues: GET /api/projects/{project}/error_tracking/issues,
// with the issue list's filters as query parameters (status, q, range,
// release, lib, sort, limit, after).
func (h *Handlers) APIIssues(c echo.Context) error {
	p, err := h.apiProject(c)
	if err != nil {
		return err
	}
	filter, q, err := parseIssueFilter(c.QueryParam, "", time.Now())
	if err != nil {
		return apiError(http.StatusBadRequest, "invalid_input", err.Error())
	}
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	q.ProjectID, q.Limit, q.Before = p.ID, limit, nil
	page, err := h.issues.ListIssues(c.Request().Context(), q)
	if err != nil {
		return err
	}
	// occurrences and users_affected count the events the filters keep.
	if err := h.countUnderFilter(c.Request().Context(), p.ID, page.Issues, q.Events()); err != nil {
		return err
	}
	results := make([]apiIssue, 0, len(page.Issues))
	for _, is := range page.Issues {
		results = append(results, toAPIIssue(is))
	}
	var next *string
	if page.HasMore && len(page.Issues) > 0 {
		u := filterValues(filter)
		u.Del("spark")
		u.Set("after", db.CursorOf(q.Sort, page.Issues[len(page.Issues)-1]).Format(q.Sort))
		if limit > 0 {
			u.Set("limit", strconv.Itoa(limit))
		}
		s := c.Request().URL.Path + "?" + u.Encode()
		next = &s
	}
	return c.JSON(http.StatusOK, map[string]any{"count": page.Total, "next": next, "results": results})
}

func (h *Handlers) apiIssue(c echo.Context) (db.Issue, error) {
	p, err := h.apiProject(c)
	if err != nil {
		return db.Issue{}, err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return db.Issue{}, apiError(http.StatusNotFound, "not_found", "There is no such issue.")
	}
	is, err := h.issues.Issue(c.Request().Context(), p.ID, id)
	if errors.Is(err, db.ErrNotFound) {
		return h.apiMissingIssue(c, p.ID, id)
	}
	return is, err
}

// apiMissingIssue stands in for an issue id that names no issue of the
// project: a merged issue's id keeps naming the issue it went into (whose
// JSON, with its own id, is answered; Content-Location says where it lives),
// a deleted one answers 410, an id never handed out 404.
func (h *Handlers) apiMissingIssue(c echo.Context, projectID, id int64) (db.Issue, error) {
	err := h.missingIssue(c, projectID, id)
	if into, ok := mergedInto(err); ok {
		is, err := h.issues.Issue(c.Request().Context(), projectID, into)
		if err != nil {
			return db.Issue{}, fmt.Errorf("load issue %d that issue %d was merged into: %w", into, id, err)
		}
		path := c.Request().URL.Path
		c.Response().Header().Set("Content-Location", strings.Replace(path, "/issues/"+c.Param("id"), fmt.Sprintf("/issues/%d", into), 1))
		return is, nil
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code := "not_found"
		if he.Code == http.StatusGone {
			code = "gone"
		}
		return db.Issue{}, apiError(he.Code, code, fmt.Sprint(he.Message))
	}
	return db.Issue{}, err
}

// APIIssue shows one issue.
func (h *Handlers) APIIssue(c echo.Context) error {
	is, err := h.apiIssue(c)
	if err != nil || is.ID == 0 {
		return err
	}
	return c.JSON(http.StatusOK, toAPIIssue(is))
}

// APIUpdateIssue changes an issue (PATCH): status (with resolved_in_release
// when resolving), name, description and assignee (a user id, an email, or
// null for nobody). Nothing changes unless every field is valid.
func (h *Handlers) APIUpdateIssue(c echo.Context) error {
	is, err := h.apiIssue(c)
	if err != nil || is.ID == 0 {
		return err
	}
	var body struct {
		Status            *string         `json:"status"`
		ResolvedInRelease *string         `json:"resolved_in_release"`
		Name              *string         `json:"name"`
		Description       *string         `json:"description"`
		Assignee          json.RawMessage `json:"assignee"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 1<<20)).Decode(&body); err != nil {
		return apiError(http.StatusBadRequest, "invalid_input", "The body must be a JSON object such as {\"status\":\"resolved\"}.")
	}
	ctx := c.Request().Context()
	actor := currentUser(c).Email
	if body.Status != nil && !triage.ValidStatus(*body.Status) {
		return apiError(http.StatusBadRequest, "invalid_input", "status must be active, resolved or suppressed.")
	}
	if body.ResolvedInRelease != nil && (body.Status == nil || *body.Status != db.StatusResolved) {
		return apiError(http.StatusBadRequest, "invalid_input", "resolved_in_release goes with \"status\":\"resolved\".")
	}
	name, desc := is.Name, is.Description
	if body.Name != nil {
		name = strings.TrimSpace(*body.Name)
	}
	if body.Description != nil {
		desc = *body.Description
	}
	if name == "" {
		return apiError(http.StatusBadRequest, "invalid_input", "name cannot be empty.")
	}
	assignee, assign, err := h.apiAssignee(c, body.Assignee)
	if err != nil {
		return apiError(http.StatusBadRequest, "invalid_input", err.Error())
	}
	if body.Status != nil {
		ch := db.StatusChange{Status: *body.Status, Actor: actor}
		if body.ResolvedInRelease != nil {
			ch.ResolvedInRelease = *body.ResolvedInRelease
		}
		if err := h.triage.ChangeIssueStatus(ctx, is.ProjectID, is.ID, ch); err != nil {
			return err
		}
	}
	if body.Name != nil || body.Description != nil {
		if err := h.triage.EditIssue(ctx, is.ProjectID, is.ID, name, desc, actor); err != nil {
			return err
		}
	}
	if assign {
		if err := h.triage.AssignIssue(ctx, is.ProjectID, is.ID, assignee, actor); err != nil {
			return err
		}
	}
	is, err = h.issues.Issue(ctx, is.ProjectID, is.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPIIssue(is))
}

// apiAssignee reads PATCH's assignee: absent (no change), null (nobody), a
// user id or a user's email.
func (h *Handlers) apiAssignee(c echo.Context, raw json.RawMessage) (userID int64, assign bool, err error) {
	if len(raw) == 0 {
		return 0, false, nil
	}
	if string(raw) == "null" {
		return 0, true, nil
	}
	var id int64
	if json.Unmarshal(raw, &id) == nil {
		if _, err := h.accounts.UserByID(c.Request().Context(), id); err != nil {
			return 0, false, errors.New("assignee: there is no user with id " + strconv.FormatInt(id, 10) + ".")
		}
		return id, true, nil
	}
	var email string
	if json.Unmarshal(raw, &email) == nil {
		u, err := h.accounts.UserByEmail(c.Request().Context(), email)
		if err != nil {
			return 0, false, errors.New("assignee: there is no user " + strconv.Quote(email) + ".")
		}
		return u.ID, true, nil
	}
	return 0, false, errors.New("assignee must be a user id, an email or null.")
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
	DebugID        string   `json:"debug_id,omitempty"`
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
	// What Sentry SDKs send beside the exceptions (empty for PostHog events,
	// whose facts are in properties).
	Level       string                     `json:"level,omitempty"`
	Release     string                     `json:"release,omitempty"`
	Environment string                     `json:"environment,omitempty"`
	Platform    string                     `json:"platform,omitempty"`
	URL         string                     `json:"url,omitempty"`
	Tags        map[string]string          `json:"tags,omitempty"`
	User        map[string]any             `json:"user,omitempty"`
	Contexts    map[string]json.RawMessage `json:"contexts,omitempty"`
	Breadcrumbs []event.Breadcrumb         `json:"breadcrumbs,omitempty"`
	SDK         *event.SDK                 `json:"sdk,omitempty"`
}

// APIIssueEvents lists an issue's events, newest first, with frames as resolved.
func (h *Handlers) APIIssueEvents(c echo.Context) error {
	is, err := h.apiIssue(c)
	if err != nil || is.ID == 0 {
		return err
	}
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	stored, err := h.issues.IssueEvents(c.Request().Context(), is.ProjectID, is.ID, limit)
	if err != nil {
		return err
	}
	results := make([]apiEvent, 0, len(stored))
	for _, se := range stored {
		ev, err := decodeStored(se)
		if err != nil {
			return err
		}
		if err := h.issues.ApplyCurrentResolutions(c.Request().Context(), is.ProjectID, &ev); err != nil {
			return err
		}
		props := ev.Properties
		if len(props) == 0 {
			props = json.RawMessage("{}")
		}
		out := apiEvent{UUID: ev.UUID, Timestamp: ev.Timestamp, DistinctID: ev.DistinctID, Fingerprint: se.Fingerprint, Properties: props,
			Level: ev.Level, Release: ev.Release, Environment: ev.Environment, Platform: ev.Platform, URL: ev.URL,
			Tags: ev.Tags, User: ev.User, Contexts: ev.Contexts, Breadcrumbs: ev.Breadcrumbs, SDK: ev.SDK}
		for _, ex := range ev.Exceptions {
			ax := apiException{Type: ex.Type, Value: ex.Value, Mechanism: ex.Mechanism, Frames: make([]apiFrame, 0, len(ex.Frames))}
			for _, f := range ex.Frames {
				info := describeFrame(f)
				af := apiFrame{RawID: f.RawID, MangledName: info.MangledName, ResolvedName: info.ResolvedName, Source: info.Source,
					Line: info.Line, Column: info.Column, InApp: info.InApp, Resolved: info.Resolved, Platform: f.Platform,
					ChunkID: f.ChunkID, DebugID: f.DebugID, ContextLine: f.ContextLine, PreContext: f.PreContext, PostContext: f.PostContext}
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
