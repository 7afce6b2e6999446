package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/views"
)

// ProjectSettingsPage shows the project token, how to point SDKs at stacklens,
// the exception-autocapture switch and the user's personal API keys.
func (h *Handlers) ProjectSettingsPage(c echo.Context) error {
	return h.renderProjectSettings(c, http.StatusOK, nil)
}

// renderProjectSettings renders the project page; adjust, when set, adds
// the outcome of an action (a new key, an error).
func (h *Handlers) renderProjectSettings(c echo.Context, status int, adjust func(*views.ProjectSettingsView)) error {
	nav, p, err := h.nav(c, views.SectionProject)
	if err != nil {
		return err
	}
	keys, err := h.apiKeysView(c)
	if err != nil {
		return err
	}
	rejected, err := h.rejectedReasons(c, p.ID)
	if err != nil {
		return err
	}
	kept, err := h.retentionView(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	v := views.ProjectSettingsView{Rejected: rejected, Retention: kept,
		Name: p.Name, Token: p.Token, Host: h.publicURL(c), DSN: h.setupHint(c, p).DSN, AutocaptureExceptions: p.AutocaptureExceptions,
		RateLimit: rateLimitField(p), DefaultRateLimit: h.defaultRateLimitText(),
		Saved: c.QueryParam("saved") == "1", Created: c.QueryParam("created") == "1", APIKeys: keys,
	}
	if adjust != nil {
		adjust(&v)
	}
	return render(c, status, views.ProjectSettingsPage(nav, v))
}

// UpdateProjectSettings saves the exception-autocapture switch and the rate limit.
func (h *Handlers) UpdateProjectSettings(c echo.Context) error {
	_, p, err := h.nav(c, views.SectionProject)
	if err != nil {
		return err
	}
	// Check the whole form before saving any of it.
	limit, limitSent, err := formRateLimit(c)
	if err != nil {
		return err
	}
	keep, keepSent, err := formRetention(c, p.ID)
	if err != nil {
		return err
	}
	on := c.FormValue("autocapture_exceptions") == "on"
	if err := h.projects.SetAutocaptureExceptions(c.Request().Context(), p.ID, on); err != nil {
		return err
	}
	if limitSent {
		if err := h.projects.SetRateLimit(c.Request().Context(), p.ID, limit); err != nil {
			return err
		}
	}
	if keepSent {
		if err := h.projects.SetProjectRetention(c.Request().Context(), keep); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, inProject("/settings/project", p.ID, url.Values{"saved": {"1"}}))
}

// setupHint is what the pages show to point an SDK at project p.
func (h *Handlers) setupHint(c echo.Context, p db.Project) views.SetupHint {
	host := h.publicURL(c)
	return views.SetupHint{Token: p.Token, Host: host, DSN: event.SentryDSN(host, p.Token, p.ID)}
}

// rejectedReasons says why accepted events of a project were set aside, the
// commonest reasons first, each cut to a readable length.
func (h *Handlers) rejectedReasons(c echo.Context, projectID int64) ([]views.RejectedReason, error) {
	reasons, err := h.projects.RejectedInboxReasons(c.Request().Context(), projectID, 10)
	if err != nil {
		return nil, err
	}
	out := make([]views.RejectedReason, len(reasons))
	for i, r := range reasons {
		reason := strings.ToValidUTF8(r.Reason, "�")
		if len(reason) > 300 {
			reason = strings.ToValidUTF8(reason[:300], "") + "…"
		}
		out[i] = views.RejectedReason{Reason: reason, Count: r.Count}
	}
	return out, nil
}
