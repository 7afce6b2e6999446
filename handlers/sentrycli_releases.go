package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/project"
	"github.com/stacklens/stacklens/triage"
)

// The release endpoints sentry-cli (releases new, finalize, list, info,
// delete, deploys) and the bundler plugins call, under
// /api/0/organizations/{org}/releases/ and /api/0/projects/{org}/{project}/releases/.
// A Sentry release belongs to several projects; here each project keeps its
// own row of a version, and one answer gathers a version's rows.

type sentryProjectRef struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

type sentryRelease struct {
	Version      string             `json:"version"`
	ShortVersion string             `json:"shortVersion"`
	Ref          *string            `json:"ref"`
	URL          *string            `json:"url"`
	Status       string             `json:"status"`
	DateCreated  time.Time          `json:"dateCreated"`
	DateStarted  *time.Time         `json:"dateStarted"`
	DateReleased *time.Time         `json:"dateReleased"`
	LastEvent    *time.Time         `json:"lastEvent"`
	NewGroups    int                `json:"newGroups"`
	CommitCount  int                `json:"commitCount"`
	DeployCount  int                `json:"deployCount"`
	LastCommit   any                `json:"lastCommit"`
	LastDeploy   any                `json:"lastDeploy"`
	Authors      []any              `json:"authors"`
	Projects     []sentryProjectRef `json:"projects"`
}

// releaseBody is what sentry-cli sends to create or change a release.
type releaseBody struct {
	Version      *string           `json:"version"`
	Projects     []json.RawMessage `json:"projects"`
	URL          *string           `json:"url"`
	DateStarted  *time.Time        `json:"dateStarted"`
	DateReleased *time.Time        `json:"dateReleased"`
	Refs         json.RawMessage   `json:"refs"`
	Commits      json.RawMessage   `json:"commits"`
	Status       *string           `json:"status"`
}

func (b releaseBody) change() (db.ReleaseChange, error) {
	ch := db.ReleaseChange{URL: b.URL, StartedAt: b.DateStarted, ReleasedAt: b.DateReleased}
	if len(b.Refs) > 0 && string(b.Refs) != "null" {
		s := string(b.Refs)
		ch.Refs = &s
	}
	if b.Status != nil {
		if err := triage.CheckReleaseStatus(*b.Status); err != nil {
			return ch, err
		}
		ch.Status = b.Status
	}
	return ch, nil
}

// projectNames reads the projects of a release body (slugs as strings, or ids as numbers).
func projectNames(raw []json.RawMessage) []string {
	var out []string
	for _, r := range raw {
		var s string
		if json.Unmarshal(r, &s) != nil {
			s = strings.TrimSpace(string(r))
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// versionParam is the release version of the path, which sentry-cli
// percent-encodes (versions often hold "@" and "+", sometimes "/"). The
// router matched the escaped path when the request's path needed it (an
// encoded "/"), and then the parameter is still escaped.
func versionParam(c echo.Context) string {
	v := c.Param("version")
	if c.Request().URL.RawPath == "" {
		return v
	}
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// toSentryRelease gathers one version's rows (one per project).
func (h *Handlers) toSentryRelease(c echo.Context, rows []db.Release) (sentryRelease, error) {
	r := rows[0]
	out := sentryRelease{Version: r.Version, ShortVersion: shortVersion(r.Version), Status: r.Status, DateCreated: r.CreatedAt,
		Authors: []any{}, Projects: []sentryProjectRef{}}
	for _, row := range rows {
		if row.CreatedAt.Before(out.DateCreated) {
			out.DateCreated = row.CreatedAt
		}
		if row.URL != "" {
			u := row.URL
			out.URL = &u
		}
		if !row.StartedAt.IsZero() {
			t := row.StartedAt
			out.DateStarted = &t
		}
		if !row.ReleasedAt.IsZero() {
			t := row.ReleasedAt
			out.DateReleased = &t
		}
		p, err := h.db.Project(c.Request().Context(), row.ProjectID)
		if err != nil {
			return out, fmt.Errorf("project %d of release %q: %w", row.ProjectID, row.Version, err)
		}
		out.Projects = append(out.Projects, sentryProjectRef{ID: strconv.FormatInt(p.ID, 10), Slug: project.Slug(p.Name), Name: p.Name})
		deploys, err := h.db.Deploys(c.Request().Context(), row.ID)
		if err != nil {
			return out, fmt.Errorf("deploys of release %q in project %d: %w", row.Version, row.ProjectID, err)
		}
		out.DeployCount += len(deploys)
		if len(deploys) > 0 && out.LastDeploy == nil {
			out.LastDeploy = toSentryDeploy(deploys[0])
		}
	}
	return out, nil
}

// shortVersion is Sentry's display form: package@version loses the package.
func shortVersion(v string) string {
	if i := strings.LastIndexByte(v, '@'); i > 0 && i < len(v)-1 {
		return v[i+1:]
	}
	return v
}

// SentryCreateRelease: POST /api/0/organizations/{org}/releases/ → 201
// (208 when every project had it already), the release.
func (h *Handlers) SentryCreateRelease(c echo.Context) error {
	var body releaseBody
	if err := decodeJSONBody(c, &body); err != nil || body.Version == nil {
		return apiError(http.StatusBadRequest, "invalid_input", `The body must be JSON such as {"version":"my-app@1.0.0","projects":["<project>"]}.`)
	}
	version, err := triage.CheckReleaseVersion(*body.Version)
	if err != nil {
		return apiError(http.StatusBadRequest, "invalid_version", err.Error())
	}
	change, err := body.change()
	if err != nil {
		return apiError(http.StatusBadRequest, "invalid_input", err.Error())
	}
	names := projectNames(body.Projects)
	if len(names) == 0 {
		return apiError(http.StatusBadRequest, "invalid_input", "Name the projects of the release (sentry-cli --project, or SENTRY_PROJECT): their stacklens ids or names.")
	}
	ctx := c.Request().Context()
	var ids []int64
	for _, name := range names {
		p, err := h.cliProject(ctx, name)
		if err != nil {
			return err
		}
		ids = append(ids, p.ID)
	}
	var rows []db.Release
	created := false
	for _, id := range ids {
		r, isNew, err := h.db.SaveRelease(ctx, id, version, change)
		if err != nil {
			return err
		}
		created = created || isNew
		rows = append(rows, r)
	}
	out, err := h.toSentryRelease(c, rows)
	if err != nil {
		return err
	}
	if !created {
		return c.JSON(http.StatusAlreadyReported, out)
	}
	return c.JSON(http.StatusCreated, out)
}

// releaseRows finds a version's rows in every project.
func (h *Handlers) releaseRows(c echo.Context, version string) ([]db.Release, error) {
	projects, err := h.db.Projects(c.Request().Context())
	if err != nil {
		return nil, err
	}
	var rows []db.Release
	for _, p := range projects {
		r, err := h.db.ReleaseByVersion(c.Request().Context(), p.ID, version)
		if errors.Is(err, db.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// existingRelease is the version the path names and its rows; a version no
// project has is refused 404.
func (h *Handlers) existingRelease(c echo.Context) (string, []db.Release, error) {
	version := versionParam(c)
	rows, err := h.releaseRows(c, version)
	if err != nil {
		return version, nil, fmt.Errorf("release %q: %w", version, err)
	}
	if len(rows) == 0 {
		return version, nil, apiError(http.StatusNotFound, "release_not_found",
			"There is no release "+strconv.Quote(version)+": create it with `sentry-cli releases new`.")
	}
	return version, rows, nil
}

// SentryRelease: GET /api/0/organizations/{org}/releases/{version}/.
func (h *Handlers) SentryRelease(c echo.Context) error {
	_, rows, err := h.existingRelease(c)
	if err != nil {
		return err
	}
	out, err := h.toSentryRelease(c, rows)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// SentryUpdateRelease: PUT /api/0/organizations/{org}/releases/{version}/
// (releases finalize sends dateReleased; set-commits sends refs or commits).
func (h *Handlers) SentryUpdateRelease(c echo.Context) error {
	var body releaseBody
	if err := decodeJSONBody(c, &body); err != nil {
		return apiError(http.StatusBadRequest, "invalid_input", `The body must be JSON such as {"dateReleased":"2026-01-01T00:00:00Z"}.`)
	}
	change, err := body.change()
	if err != nil {
		return apiError(http.StatusBadRequest, "invalid_input", err.Error())
	}
	version, rows, err := h.existingRelease(c)
	if err != nil {
		return err
	}
	for i, r := range rows {
		if rows[i], err = h.db.UpdateRelease(c.Request().Context(), r.ProjectID, version, change); err != nil {
			return err
		}
	}
	out, err := h.toSentryRelease(c, rows)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// SentryDeleteRelease: DELETE /api/0/organizations/{org}/releases/{version}/ → 204.
func (h *Handlers) SentryDeleteRelease(c echo.Context) error {
	version, rows, err := h.existingRelease(c)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := h.db.DeleteRelease(c.Request().Context(), r.ProjectID, version); err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
	}
	return c.NoContent(http.StatusNoContent)
}

// SentryListReleases: GET /api/0/organizations/{org}/releases/ (every
// project, or ?project=<id> repeated) and GET /api/0/projects/{org}/{project}/releases/.
func (h *Handlers) SentryListReleases(c echo.Context) error {
	ctx := c.Request().Context()
	var ids []int64
	if name := c.Param("project"); name != "" {
		p, err := h.cliProject(ctx, name)
		if err != nil {
			return err
		}
		ids = []int64{p.ID}
	} else if asked := c.QueryParams()["project"]; len(asked) > 0 {
		for _, a := range asked {
			if id, err := strconv.ParseInt(a, 10, 64); err == nil && id > 0 {
				ids = append(ids, id)
			}
		}
	} else {
		projects, err := h.db.Projects(ctx)
		if err != nil {
			return err
		}
		for _, p := range projects {
			ids = append(ids, p.ID)
		}
	}
	rows, err := h.db.Releases(ctx, ids, 1000)
	if err != nil {
		return err
	}
	byVersion := map[string][]db.Release{}
	var order []string
	for _, r := range rows {
		if _, seen := byVersion[r.Version]; !seen {
			order = append(order, r.Version)
		}
		byVersion[r.Version] = append(byVersion[r.Version], r)
	}
	out := make([]sentryRelease, 0, len(order))
	for _, v := range order {
		rel, err := h.toSentryRelease(c, byVersion[v])
		if err != nil {
			return err
		}
		out = append(out, rel)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DateCreated.After(out[j].DateCreated) })
	if len(out) > 100 {
		out = out[:100]
	}
	return c.JSON(http.StatusOK, out)
}

type sentryDeploy struct {
	ID           string     `json:"id"`
	Environment  string     `json:"environment"`
	Name         *string    `json:"name"`
	URL          *string    `json:"url"`
	DateStarted  *time.Time `json:"dateStarted"`
	DateFinished time.Time  `json:"dateFinished"`
}

func toSentryDeploy(d db.Deploy) sentryDeploy {
	out := sentryDeploy{ID: strconv.FormatInt(d.ID, 10), Environment: d.Environment, DateFinished: d.FinishedAt}
	if d.Name != "" {
		out.Name = &d.Name
	}
	if d.URL != "" {
		out.URL = &d.URL
	}
	if !d.StartedAt.IsZero() {
		out.DateStarted = &d.StartedAt
	}
	return out
}

// SentryCreateDeploy: POST /api/0/organizations/{org}/releases/{version}/deploys/
// {environment, name?, url?, dateStarted?, dateFinished?} → 201 the deploy.
func (h *Handlers) SentryCreateDeploy(c echo.Context) error {
	var body struct {
		Environment  string     `json:"environment"`
		Name         string     `json:"name"`
		URL          string     `json:"url"`
		DateStarted  *time.Time `json:"dateStarted"`
		DateFinished *time.Time `json:"dateFinished"`
		Projects     []string   `json:"projects"`
	}
	if err := decodeJSONBody(c, &body); err != nil || strings.TrimSpace(body.Environment) == "" {
		return apiError(http.StatusBadRequest, "invalid_input", `The body must be JSON such as {"environment":"production"}.`)
	}
	_, rows, err := h.existingRelease(c)
	if err != nil {
		return err
	}
	finished := time.Now()
	if body.DateFinished != nil {
		finished = *body.DateFinished
	}
	dep := db.Deploy{Environment: strings.TrimSpace(body.Environment), Name: body.Name, URL: body.URL, FinishedAt: finished}
	if body.DateStarted != nil {
		dep.StartedAt = *body.DateStarted
	}
	var saved db.Deploy
	for _, r := range rows {
		dep.ReleaseID = r.ID
		if saved, err = h.db.AddDeploy(c.Request().Context(), dep); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusCreated, toSentryDeploy(saved))
}

// SentryListDeploys: GET /api/0/organizations/{org}/releases/{version}/deploys/.
func (h *Handlers) SentryListDeploys(c echo.Context) error {
	_, rows, err := h.existingRelease(c)
	if err != nil {
		return err
	}
	out := []sentryDeploy{}
	seen := map[string]bool{}
	for _, r := range rows {
		deploys, err := h.db.Deploys(c.Request().Context(), r.ID)
		if err != nil {
			return err
		}
		for _, d := range deploys {
			// One deploy to several projects is one row per project.
			key := d.Environment + "\x00" + d.Name + "\x00" + d.FinishedAt.String()
			if !seen[key] {
				seen[key] = true
				out = append(out, toSentryDeploy(d))
			}
		}
	}
	return c.JSON(http.StatusOK, out)
}
