package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/views"
)

// ProjectSettingsPage shows the project token, how to point SDKs at stacklens,
// and the exception-autocapture switch.
func (h *Handlers) ProjectSettingsPage(c echo.Context) error {
	nav, p, err := h.nav(c, "project")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ProjectSettingsPage(nav, views.ProjectSettingsView{
		Name: p.Name, Token: p.Token, Host: h.publicURL(c), AutocaptureExceptions: p.AutocaptureExceptions,
		Saved: c.QueryParam("saved") == "1",
	}))
}

// UpdateProjectSettings saves the exception-autocapture switch.
func (h *Handlers) UpdateProjectSettings(c echo.Context) error {
	_, p, err := h.nav(c, "project")
	if err != nil {
		return err
	}
	on := c.FormValue("autocapture_exceptions") == "on"
	if err := h.db.SetAutocaptureExceptions(c.Request().Context(), p.ID, on); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/settings/project?saved=1")
}
