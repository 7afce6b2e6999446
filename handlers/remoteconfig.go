package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
)

// remoteConfig is what posthog-js reads at start. It has no "surveys" key on
// purpose: even `false` makes posthog-js load a surveys script.
func remoteConfig(p db.Project) map[string]any {
	return map[string]any{
		"token":                     p.Token,
		"supportedCompression":      []string{"gzip", "gzip-js"},
		"hasFeatureFlags":           false,
		"autocapture_opt_out":       true,
		"autocaptureExceptions":     p.AutocaptureExceptions,
		"captureDeadClicks":         false,
		"capturePerformance":        false,
		"sessionRecording":          false,
		"heatmaps":                  false,
		"elementsChainAsString":     true,
		"defaultIdentifiedOnly":     true,
		"analytics":                 map[string]any{"endpoint": "/i/v0/e/"},
		"errorTracking":             map[string]any{"autocaptureExceptions": p.AutocaptureExceptions, "suppressionRules": []any{}},
		"siteApps":                  []any{},
		"isAuthenticated":           false,
		"toolbarParams":             map[string]any{},
		"config":                    map[string]any{"enable_collect_everything": false},
		"editorParams":              map[string]any{},
		"featureFlags":              map[string]any{},
		"featureFlagPayloads":       map[string]any{},
		"errorsWhileComputingFlags": false,
	}
}

func (h *Handlers) projectForConfig(c echo.Context, token string) (db.Project, error) {
	p, err := h.ingest.ProjectByToken(c.Request().Context(), token)
	if errors.Is(err, db.ErrNotFound) {
		return db.Project{}, echo.NewHTTPError(http.StatusNotFound, "No project has this token.")
	}
	if err != nil {
		return p, fmt.Errorf("project of a remote config's token: %w", err)
	}
	return p, nil
}

// RemoteConfigJS answers /array/{token}/config.js, the script posthog-js loads first.
func (h *Handlers) RemoteConfigJS(c echo.Context) error {
	p, err := h.projectForConfig(c, c.Param("token"))
	if err != nil {
		return err
	}
	cfg, err := json.Marshal(remoteConfig(p))
	if err != nil {
		return err
	}
	key, _ := json.Marshal(p.Token)
	js := fmt.Sprintf("(function(){window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{};"+
		"window._POSTHOG_REMOTE_CONFIG[%s]={config:%s,siteApps:[]};})();", key, cfg)
	c.Response().Header().Set("Cache-Control", "public, max-age=60")
	return c.Blob(http.StatusOK, "application/javascript; charset=utf-8", []byte(js))
}

// RemoteConfigJSON answers /array/{token}/config, posthog-js's fallback.
func (h *Handlers) RemoteConfigJSON(c echo.Context) error {
	p, err := h.projectForConfig(c, c.Param("token"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, remoteConfig(p))
}

// Flags answers /flags and /decide. stacklens has no feature flags, so it
// returns none, plus the remote config for clients that read it from here.
func (h *Handlers) Flags(c echo.Context) error {
	answer := map[string]any{"flags": map[string]any{}, "featureFlags": map[string]any{},
		"featureFlagPayloads": map[string]any{}, "errorsWhileComputingFlags": false}
	if token := c.QueryParam("token"); token != "" {
		if p, err := h.ingest.ProjectByToken(c.Request().Context(), token); err == nil {
			for k, v := range remoteConfig(p) {
				if _, taken := answer[k]; !taken {
					answer[k] = v
				}
			}
		}
	}
	return c.JSON(http.StatusOK, answer)
}

var posthogAssetPath = regexp.MustCompile(`^/static/(?:[0-9]+\.[0-9]+\.[0-9]+[0-9A-Za-z.\-]*/)?[A-Za-z0-9._\-]+\.js$`)

// PostHogAsset redirects posthog-js's lazily loaded scripts
// (/static/{version}/exception-autocapture.js and the like) to the
// configured asset origin: stacklens does not ship PostHog's scripts.
func (h *Handlers) PostHogAsset(c echo.Context) error {
	path := c.Request().URL.Path
	if !posthogAssetPath.MatchString(path) || h.opts.PostHogAssetsURL == "" {
		return echo.NewHTTPError(http.StatusNotFound, "No such file.")
	}
	target, err := url.Parse(strings.TrimRight(h.opts.PostHogAssetsURL, "/") + path)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "No such file.")
	}
	target.RawQuery = c.Request().URL.RawQuery
	return c.Redirect(http.StatusFound, target.String())
}
