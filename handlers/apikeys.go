package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/views"
)

// apiKeyPrefix marks personal API keys, as PostHog's do.
const apiKeyPrefix = "phx_"

// maskAPIKey keeps enough of a key to recognise it (the same rule as
// STACKLENS_API_KEY's mask).
func maskAPIKey(key string) string {
	if len(key) <= 8 {
		return "****"
	}
	return key[:4] + "…" + key[len(key)-4:]
}

// apiKeysView lists the signed-in user's keys for the project page.
func (h *Handlers) apiKeysView(c echo.Context) (views.APIKeysView, error) {
	keys, err := h.accounts.APIKeys(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return views.APIKeysView{}, err
	}
	v := views.APIKeysView{CreateURL: "/settings/project/api-keys", Revoked: c.QueryParam("revoked") == "1"}
	for _, k := range keys {
		v.Keys = append(v.Keys, views.APIKeyRow{ID: k.ID, Label: k.Label, Mask: k.Mask, Created: k.CreatedAt, LastUsed: k.LastUsedAt,
			RevokeURL: fmt.Sprintf("/settings/project/api-keys/%d/revoke", k.ID)})
	}
	return v, nil
}

// CreateAPIKey makes a personal API key and shows it once:
// POST /settings/project/api-keys with `label`. The answer is the page
// itself (not a redirect) so the key never lands in a URL or history.
func (h *Handlers) CreateAPIKey(c echo.Context) error {
	label := strings.TrimSpace(c.FormValue("label"))
	if label == "" || utf8.RuneCountInString(label) > 100 {
		return h.renderProjectSettings(c, http.StatusUnprocessableEntity, func(v *views.ProjectSettingsView) {
			v.APIKeys.Error = "Give the key a label of 1 to 100 characters, such as “CI deploys”, to recognise it later."
		})
	}
	key := apiKeyPrefix + randomToken()
	if _, err := h.accounts.CreateAPIKey(c.Request().Context(), currentUser(c).ID, label, HashSecret(key), maskAPIKey(key)); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return h.renderProjectSettings(c, http.StatusCreated, func(v *views.ProjectSettingsView) {
		v.APIKeys.NewKey, v.APIKeys.NewLabel = key, label
	})
}

// RevokeAPIKey revokes a key: POST /settings/project/api-keys/{id}/revoke.
// Anyone may revoke their own keys; only admins may revoke another's.
func (h *Handlers) RevokeAPIKey(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such API key.")
	}
	owner, err := h.accounts.APIKeyOwner(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such API key, or it was revoked already.")
	}
	if err != nil {
		return err
	}
	me := currentUser(c)
	if owner != me.ID {
		if err := requireAdmin(c, "revoke another person's API key"); err != nil {
			return err
		}
	}
	err = h.accounts.RevokeAPIKey(c.Request().Context(), owner, id)
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such API key, or it was revoked already.")
	}
	if err != nil {
		return err
	}
	if owner != me.ID {
		return c.Redirect(http.StatusSeeOther, usersPath+"?done=key-revoked")
	}
	return c.Redirect(http.StatusSeeOther, "/settings/project?revoked=1#api-keys")
}
