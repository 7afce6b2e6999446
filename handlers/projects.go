package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/project"
	"github.com/stacklens/stacklens/views"
)

const projectsPath = "/settings/projects"

var projectNotices = map[string]string{
	"renamed": "Project renamed.",
	"deleted": "Project deleted, with its issues, symbol sets and channels. Its token is no longer accepted.",
}

// ProjectsPage lists the projects: GET /settings/projects.
func (h *Handlers) ProjectsPage(c echo.Context) error {
	nav, p, err := h.nav(c, views.SectionProjects)
	if err != nil {
		return err
	}
	v, err := h.projectsView(c, p.ID)
	if err != nil {
		return err
	}
	v.Notice = projectNotices[c.QueryParam("done")]
	return render(c, http.StatusOK, views.ProjectsPage(nav, v))
}

func (h *Handlers) projectsView(c echo.Context, shown int64) (views.ProjectsView, error) {
	ctx := c.Request().Context()
	projects, err := h.projects.Projects(ctx)
	if err != nil {
		return views.ProjectsView{}, err
	}
	counts, err := h.projects.ProjectIssueCounts(ctx)
	if err != nil {
		return views.ProjectsView{}, err
	}
	var v views.ProjectsView
	for _, p := range projects {
		row := projectRow(p, counts[p.ID], p.ID == shown, len(projects) > 1 && currentUser(c).IsAdmin)
		if len(projects) > 1 && !currentUser(c).IsAdmin {
			row.CannotDelete = "Only admins can delete projects."
		}
		v.Rows = append(v.Rows, row)
	}
	return v, nil
}

func projectRow(p db.Project, issues int64, current, canDelete bool) views.ProjectRow {
	base := fmt.Sprintf("%s/%d", projectsPath, p.ID)
	return views.ProjectRow{ID: p.ID, Name: p.Name, Token: p.Token, Issues: issues, Current: current, CanDelete: canDelete,
		RenameURL: base + "/rename", DeleteURL: base + "/delete", ConfirmURL: base + "/delete",
		SettingsURL: inProject("/settings/project", p.ID, nil), IssuesURL: inProject("/issues", p.ID, nil)}
}

// CreateProject adds a project from the form's `name` and shows its
// settings (its token): POST /settings/projects.
func (h *Handlers) CreateProject(c echo.Context) error {
	name, err := project.CheckName(c.FormValue("name"))
	if err == nil {
		p, cerr := h.projects.CreateProject(c.Request().Context(), name)
		switch {
		case cerr == nil:
			return c.Redirect(http.StatusSeeOther, inProject("/settings/project", p.ID, url.Values{"created": {"1"}}))
		case errors.Is(cerr, db.ErrProjectNameTaken):
			err = nameTaken(name)
		default:
			return cerr
		}
	}
	nav, p, navErr := h.nav(c, views.SectionProjects)
	if navErr != nil {
		return navErr
	}
	v, verr := h.projectsView(c, p.ID)
	if verr != nil {
		return verr
	}
	v.Error, v.CreateName = err.Error(), c.FormValue("name")
	return render(c, http.StatusBadRequest, views.ProjectsPage(nav, v))
}

func nameTaken(name string) error {
	return errors.New("Another project is already called " + strconv.Quote(name) + ". Choose another name.")
}

// projectParam is the project of the :id path parameter.
func (h *Handlers) projectParam(c echo.Context) (db.Project, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return db.Project{}, echo.NewHTTPError(http.StatusNotFound, "There is no such project.")
	}
	p, err := h.projects.Project(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return db.Project{}, echo.NewHTTPError(http.StatusNotFound, "There is no such project. It may have been deleted.")
	}
	return p, err
}

// projectFromPath is projectParam, shown and selected.
func (h *Handlers) projectFromPath(c echo.Context) (views.Nav, db.Project, error) {
	p, err := h.projectParam(c)
	if err != nil {
		return views.Nav{}, db.Project{}, err
	}
	return h.navFor(c, views.SectionProjects, p)
}

// RenameProject saves a row's rename form: POST /settings/projects/{id}/rename with `name`.
func (h *Handlers) RenameProject(c echo.Context) error {
	nav, p, err := h.projectFromPath(c)
	if err != nil {
		return err
	}
	name, err := project.CheckName(c.FormValue("name"))
	if err == nil {
		err = h.projects.RenameProject(c.Request().Context(), p.ID, name)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, inProject(projectsPath, p.ID, url.Values{"done": {"renamed"}}))
		}
		if errors.Is(err, db.ErrNotFound) {
			return echo.NewHTTPError(http.StatusNotFound, "There is no such project. It may have been deleted.")
		}
		if !errors.Is(err, db.ErrProjectNameTaken) {
			return err
		}
		err = nameTaken(name)
	}
	v, verr := h.projectsView(c, p.ID)
	if verr != nil {
		return verr
	}
	v.Error = err.Error()
	return render(c, http.StatusBadRequest, views.ProjectsPage(nav, v))
}

// DeleteProjectPage asks to type the project's name: GET /settings/projects/{id}/delete.
func (h *Handlers) DeleteProjectPage(c echo.Context) error {
	return h.renderDeleteProject(c, http.StatusOK, "")
}

func (h *Handlers) renderDeleteProject(c echo.Context, status int, problem string) error {
	if err := requireAdmin(c, "delete projects"); err != nil {
		return err
	}
	nav, p, err := h.projectFromPath(c)
	if err != nil {
		return err
	}
	v, err := h.projectsView(c, p.ID)
	if err != nil {
		return err
	}
	for i := range v.Rows {
		if v.Rows[i].ID == p.ID {
			v.Delete = &v.Rows[i]
		}
	}
	if v.Delete == nil {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such project. It may have been deleted.")
	}
	v.Error = problem
	return render(c, status, views.DeleteProjectPage(nav, v))
}

// DeleteProject deletes a project once `confirm_name` is exactly its name:
// POST /settings/projects/{id}/delete. Anything else changes nothing.
func (h *Handlers) DeleteProject(c echo.Context) error {
	if err := requireAdmin(c, "delete projects"); err != nil {
		return err
	}
	p, err := h.projectParam(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm_name") != p.Name {
		return h.renderDeleteProject(c, http.StatusBadRequest,
			"The name typed is not "+strconv.Quote(p.Name)+": nothing was deleted. Type the name exactly as shown.")
	}
	err = h.worker.DeleteProject(c.Request().Context(), p.ID)
	if errors.Is(err, db.ErrLastProject) {
		return h.renderDeleteProject(c, http.StatusBadRequest, "This is the only project: create another one before deleting it.")
	}
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such project. It may have been deleted already.")
	}
	if err != nil {
		return err
	}
	if cookie, err := c.Cookie(projectCookie); err == nil && cookie.Value == strconv.FormatInt(p.ID, 10) {
		// The selection was the deleted project: forget it, the oldest one left is shown.
		c.SetCookie(&http.Cookie{Name: projectCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
			Secure: h.secureCookies(c), SameSite: http.SameSiteLaxMode})
	}
	return c.Redirect(http.StatusSeeOther, projectsPath+"?done=deleted")
}
