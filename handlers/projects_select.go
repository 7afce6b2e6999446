package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/symbols"
	"github.com/stacklens/stacklens/views"
)

// projectCookie remembers the project the switcher (or the last page
// addressed by a row) showed.
const projectCookie = "stacklens_project"

// nav is the page chrome of a list or settings page, with the project it
// shows: the `project` query (or form) parameter when present, else the
// project the cookie remembers, else the oldest project. An explicit
// parameter naming no project is a 404; a cookie naming a deleted one is
// ignored.
func (h *Handlers) nav(c echo.Context, active string) (views.Nav, db.Project, error) {
	p, err := h.selectedProject(c)
	if err != nil {
		return views.Nav{}, db.Project{}, err
	}
	return h.navFor(c, active, p)
}

func (h *Handlers) selectedProject(c echo.Context) (db.Project, error) {
	ctx := c.Request().Context()
	if raw := c.FormValue("project"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return db.Project{}, echo.NewHTTPError(http.StatusNotFound, "There is no project "+strconv.Quote(raw)+".")
		}
		p, err := h.projects.Project(ctx, id)
		if errors.Is(err, db.ErrNotFound) {
			return db.Project{}, echo.NewHTTPError(http.StatusNotFound, "There is no project "+raw+". It may have been deleted.")
		}
		if err != nil {
			return p, fmt.Errorf("project %d asked for: %w", id, err)
		}
		return p, nil
	}
	if cookie, err := c.Cookie(projectCookie); err == nil {
		if id, err := strconv.ParseInt(cookie.Value, 10, 64); err == nil && id > 0 {
			p, err := h.projects.Project(ctx, id)
			if err == nil {
				return p, nil
			}
			if !errors.Is(err, db.ErrNotFound) {
				return p, fmt.Errorf("project %d of the cookie: %w", id, err)
			}
		}
	}
	p, err := h.projects.FirstProject(ctx)
	if errors.Is(err, db.ErrNotFound) {
		return db.Project{}, echo.NewHTTPError(http.StatusServiceUnavailable, "There is no project yet. Restart stacklens to create the default one.")
	}
	if err != nil {
		return p, fmt.Errorf("first project: %w", err)
	}
	return p, nil
}

// navOf is the chrome of a page addressed by the id of a row of project
// projectID (an issue, a symbol set, a channel): it shows that project,
// whichever is selected, and makes it the selected one.
func (h *Handlers) navOf(c echo.Context, active string, projectID int64) (views.Nav, db.Project, error) {
	p, err := h.projects.Project(c.Request().Context(), projectID)
	if err != nil {
		return views.Nav{}, db.Project{}, err
	}
	return h.navFor(c, active, p)
}

// navFor builds the chrome showing p and remembers p for the next page.
func (h *Handlers) navFor(c echo.Context, active string, p db.Project) (views.Nav, db.Project, error) {
	projects, err := h.projects.Projects(c.Request().Context())
	if err != nil {
		return views.Nav{}, db.Project{}, err
	}
	nav := views.Nav{ProjectID: p.ID, ProjectName: p.Name, UserEmail: currentUser(c).Email, CSRF: csrfToken(c), Active: active}
	for _, o := range projects {
		nav.Projects = append(nav.Projects, views.ProjectOption{ID: o.ID, Name: o.Name})
	}
	h.rememberProject(c, p.ID)
	return nav, p, nil
}

func (h *Handlers) rememberProject(c echo.Context, id int64) {
	value := strconv.FormatInt(id, 10)
	if cookie, err := c.Cookie(projectCookie); err == nil && cookie.Value == value {
		return
	}
	c.SetCookie(&http.Cookie{Name: projectCookie, Value: value, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true,
		Secure: h.secureCookies(c), SameSite: http.SameSiteLaxMode})
}

// issueNav is navOf for the issue in the :id path parameter (404 when there is none).
func (h *Handlers) issueNav(c echo.Context) (views.Nav, db.Project, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return views.Nav{}, db.Project{}, err
	}
	projectID, err := h.projects.ProjectOfIssue(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return views.Nav{}, db.Project{}, h.missingIssue(c, 0, id)
	}
	if err != nil {
		return views.Nav{}, db.Project{}, err
	}
	return h.navOf(c, views.SectionIssues, projectID)
}

// symbolSetNav is navOf for the symbol set in the :id path parameter.
func (h *Handlers) symbolSetNav(c echo.Context) (views.Nav, db.Project, error) {
	id, err := symbolSetID(c)
	if err != nil {
		return views.Nav{}, db.Project{}, err
	}
	projectID, err := h.projects.ProjectOfSymbolSet(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return views.Nav{}, db.Project{}, echo.NewHTTPError(http.StatusNotFound, "There is no such symbol set. It may have been deleted.")
	}
	if err != nil {
		return views.Nav{}, db.Project{}, err
	}
	return h.navOf(c, views.SectionSymbolSets, projectID)
}

// pathSymbolSet loads the symbol set named by the {id} of the path, with
// the navigation of its project.
func (h *Handlers) pathSymbolSet(c echo.Context) (views.Nav, db.Project, symbols.SymbolSet, error) {
	nav, project, err := h.symbolSetNav(c)
	if err != nil {
		return nav, project, symbols.SymbolSet{}, err
	}
	id, err := symbolSetID(c)
	if err != nil {
		return nav, project, symbols.SymbolSet{}, err
	}
	set, err := h.symbolSets.SymbolSetByID(c.Request().Context(), project.ID, id)
	if errors.Is(err, symbols.ErrNoSymbolSet) {
		return nav, project, set, echo.NewHTTPError(http.StatusNotFound, "There is no such symbol set. It may have been deleted.")
	}
	return nav, project, set, err
}

// inProject adds the project to a list or settings path (redirects after a form).
func inProject(path string, projectID int64, extra url.Values) string {
	q := url.Values{}
	for k, v := range extra {
		q[k] = v
	}
	q.Set("project", strconv.FormatInt(projectID, 10))
	return path + "?" + q.Encode()
}
