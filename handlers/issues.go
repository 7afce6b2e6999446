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
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/views"
)

const issuesPerPage = 50

func (h *Handlers) nav(c echo.Context, active string) (views.Nav, db.Project, error) {
	p, err := h.db.Project(c.Request().Context(), db.DefaultProjectID)
	if err != nil {
		return views.Nav{}, db.Project{}, err
	}
	return views.Nav{ProjectName: p.Name, UserEmail: currentUser(c).Email, CSRF: csrfToken(c), Active: active}, p, nil
}

func parseCursor(s string) *db.IssueCursor {
	ms, id, ok := strings.Cut(s, ".")
	if !ok {
		return nil
	}
	m, err1 := strconv.ParseInt(ms, 10, 64)
	i, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil {
		return nil
	}
	return &db.IssueCursor{LastSeen: time.UnixMilli(m), ID: i}
}

func formatCursor(is db.Issue) string {
	return fmt.Sprintf("%d.%d", is.LastSeen.UnixMilli(), is.ID)
}

// IssuesPage lists the project's issues, newest first, a page at a time.
func (h *Handlers) IssuesPage(c echo.Context) error {
	nav, project, err := h.nav(c, "issues")
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	if status == "" {
		status = db.StatusActive
	}
	if status != "all" && !db.ValidStatus(status) {
		return echo.NewHTTPError(http.StatusBadRequest, "Unknown status filter "+strconv.Quote(status)+".")
	}
	q := db.IssueQuery{ProjectID: project.ID, Status: status, Limit: issuesPerPage,
		After: parseCursor(c.QueryParam("after")), Before: parseCursor(c.QueryParam("before"))}
	page, err := h.db.ListIssues(c.Request().Context(), q)
	if err != nil {
		return err
	}
	v := views.IssuesView{Status: status, Total: page.Total,
		Setup: views.SetupHint{Token: project.Token, Host: h.publicURL(c)}}
	for _, is := range page.Issues {
		v.Rows = append(v.Rows, views.IssueRow{ID: is.ID, Name: is.Name, Description: is.Description, Status: is.Status,
			Occurrences: is.Occurrences, FirstSeen: is.FirstSeen, LastSeen: is.LastSeen, URL: fmt.Sprintf("/issues/%d", is.ID)})
	}
	if n := len(page.Issues); n > 0 {
		base := url.Values{"status": {status}}
		olderExist := (q.Before != nil) || page.HasMore
		newerExist := q.After != nil || (q.Before != nil && page.HasMore)
		if olderExist {
			u := cloneValues(base)
			u.Set("after", formatCursor(page.Issues[n-1]))
			v.NextURL = "/issues?" + u.Encode()
		}
		if newerExist {
			u := cloneValues(base)
			u.Set("before", formatCursor(page.Issues[0]))
			v.PrevURL = "/issues?" + u.Encode()
		}
	}
	return render(c, http.StatusOK, views.IssuesPage(nav, v))
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusNotFound, "There is no such issue.")
	}
	return id, nil
}

// IssuePage shows one issue with its latest event.
func (h *Handlers) IssuePage(c echo.Context) error {
	nav, project, err := h.nav(c, "issues")
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	is, err := h.db.Issue(ctx, project.ID, id)
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such issue.")
	}
	if err != nil {
		return err
	}
	v := views.IssueView{ID: is.ID, Name: is.Name, Description: is.Description, Status: is.Status,
		Occurrences: is.Occurrences, FirstSeen: is.FirstSeen, LastSeen: is.LastSeen,
		StatusURL: fmt.Sprintf("/issues/%d/status", is.ID)}
	events, err := h.db.IssueEvents(ctx, project.ID, is.ID, 1)
	if err != nil {
		return err
	}
	if len(events) > 0 {
		ev, err := decodeStored(events[0])
		if err != nil {
			return err
		}
		if err := h.withCurrentResolutions(ctx, project.ID, &ev); err != nil {
			return err
		}
		v.Event = h.eventView(ctx, project.ID, ev, events[0])
	}
	return render(c, http.StatusOK, views.IssuePage(nav, v))
}

func decodeStored(se db.StoredEvent) (event.Event, error) {
	var ev event.Event
	if err := json.Unmarshal(se.Data, &ev); err != nil {
		return event.Event{}, fmt.Errorf("decode stored event %s: %w", se.UUID, err)
	}
	return ev, nil
}

// SetIssueStatus is the resolve / suppress / reopen form of the issue page.
func (h *Handlers) SetIssueStatus(c echo.Context) error {
	_, project, err := h.nav(c, "issues")
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	status := c.FormValue("status")
	if !db.ValidStatus(status) {
		return echo.NewHTTPError(http.StatusBadRequest, "Unknown status "+strconv.Quote(status)+": use active, resolved or suppressed.")
	}
	err = h.db.SetIssueStatus(c.Request().Context(), project.ID, id, status)
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such issue.")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/issues/%d", id))
}
