package handlers

import (
	"context"
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

// toSentryReleases gathers each version's rows (one per project) into
// one release, with two queries however many rows there are: the
// projects, and the deploys of every row.
func (h *Handlers) toSentryReleases(ctx context.Context, versions [][]db.Release) ([]sentryRelease, error) {
	projects, err := h.projects.Projects(ctx)
	if err != nil {
		return nil, fmt.Errorf("projects of releases: %w", err)
	}
	byID := make(map[int64]db.Project, len(projects))
	for _, p := range projects {
		byID[p.ID] = p
	}
	var releaseIDs []int64
	for _, rows := range versions {
		for _, r := range rows {
			releaseIDs = append(releaseIDs, r.ID)
		}
	}
	deploys, err := h.releases.DeploysOfReleases(ctx, releaseIDs)
	if err != nil {
		return nil, fmt.Errorf("deploys of releases: %w", err)
	}
	out := make([]sentryRelease, 0, len(versions))
	for _, rows := range versions {
		rel, err := toSentryRelease(rows, byID, deploys)
		if err != nil {
			return nil, err
		}
		out = append(out, rel)
	}
	return out, nil
}

// toSentryRelease is one version's rows as one release.
func toSentryRelease(rows []db.Release, projects map[int64]db.Project, deploys map[int64][]db.Deploy) (sentryRelease, error) {
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
		p, ok := projects[row.ProjectID]
		if !ok {
			// The row's project was deleted after the rows were read.
			return out, fmt.Errorf("project %d of release %q: %w", row.ProjectID, row.Version, db.ErrNotFound)
		}
		out.Projects = append(out.Projects, sentryProjectRef{ID: strconv.FormatInt(p.ID, 10), Slug: project.Slug(p.Name), Name: p.Name})
		ds := deploys[row.ID]
		out.DeployCount += len(ds)
		if len(ds) > 0 && out.LastDeploy == nil {
			out.LastDeploy = toSentryDeploy(ds[0])
		}
	}
	return out, nil
}

// oneSentryRelease answers with one version's rows as its release.
func (h *Handlers) oneSentryRelease(c echo.Context, status int, rows []db.Release) error {
	out, err := h.toSentryReleases(c.Request().Context(), [][]db.Release{rows})
	if err != nil {
		return err
	}
	return c.JSON(status, out[0])
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
	rows, created, err := h.releases.SaveReleases(ctx, ids, version, change)
	if err != nil {
		return fmt.Errorf("create release %q: %w", version, err)
	}
	if !created {
		return h.oneSentryRelease(c, http.StatusAlreadyReported, rows)
	}
	return h.oneSentryRelease(c, http.StatusCreated, rows)
}

// existingRelease is the version the path names and its rows; a version no
// project has is refused 404.
func (h *Handlers) existingRelease(c echo.Context) (string, []db.Release, error) {
	version := versionParam(c)
	rows, err := h.releases.ReleasesOfVersion(c.Request().Context(), version)
	if err != nil {
		return version, nil, fmt.Errorf("release %q: %w", version, err)
	}
	if len(rows) == 0 {
		return version, nil, releaseNotFound(version)
	}
	return version, rows, nil
}

func releaseNotFound(version string) error {
	return apiError(http.StatusNotFound, "release_not_found",
		"There is no release "+strconv.Quote(version)+": create it with `sentry-cli releases new`.")
}

// SentryRelease: GET /api/0/organizations/{org}/releases/{version}/.
func (h *Handlers) SentryRelease(c echo.Context) error {
	_, rows, err := h.existingRelease(c)
	if err != nil {
		return err
	}
	return h.oneSentryRelease(c, http.StatusOK, rows)
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
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ProjectID
	}
	rows, err = h.releases.UpdateReleases(c.Request().Context(), ids, version, change)
	if errors.Is(err, db.ErrNotFound) {
		// Deleted by another request since existingRelease read it.
		return releaseNotFound(version)
	}
	if err != nil {
		return fmt.Errorf("update release %q: %w", version, err)
	}
	return h.oneSentryRelease(c, http.StatusOK, rows)
}

// SentryDeleteRelease: DELETE /api/0/organizations/{org}/releases/{version}/ → 204.
func (h *Handlers) SentryDeleteRelease(c echo.Context) error {
	version := versionParam(c)
	err := h.releases.DeleteReleaseVersion(c.Request().Context(), version)
	if errors.Is(err, db.ErrNotFound) {
		return releaseNotFound(version)
	}
	if err != nil {
		return fmt.Errorf("delete release %q: %w", version, err)
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
		projects, err := h.projects.Projects(ctx)
		if err != nil {
			return fmt.Errorf("projects whose releases to list: %w", err)
		}
		for _, p := range projects {
			ids = append(ids, p.ID)
		}
	}
	rows, err := h.releases.Releases(ctx, ids, 1000)
	if err != nil {
		return fmt.Errorf("releases of projects %v: %w", ids, err)
	}
	byVersion := map[string][]db.Release{}
	var order []string
	for _, r := range rows {
		if _, seen := byVersion[r.Version]; !seen {
			order = append(order, r.Version)
		}
		byVersion[r.Version] = append(byVersion[r.Version], r)
	}
	versions := make([][]db.Release, 0, len(order))
	for _, v := range order {
		versions = append(versions, byVersion[v])
	}
	out, err := h.toSentryReleases(ctx, versions)
	if err != nil {
		return err
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
	version, rows, err := h.existingRelease(c)
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
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	saved, err := h.releases.AddDeploys(c.Request().Context(), ids, dep)
	if err != nil {
		return fmt.Errorf("deploy of release %q: %w", version, err)
	}
	return c.JSON(http.StatusCreated, toSentryDeploy(saved))
}

// SentryListDeploys: GET /api/0/organizations/{org}/releases/{version}/deploys/.
func (h *Handlers) SentryListDeploys(c echo.Context) error {
	version, rows, err := h.existingRelease(c)
	if err != nil {
		return err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	deploys, err := h.releases.DeploysOfReleases(c.Request().Context(), ids)
	if err != nil {
		return fmt.Errorf("deploys of release %q: %w", version, err)
	}
	out := []sentryDeploy{}
	seen := map[string]bool{}
	for _, r := range rows {
		for _, d := range deploys[r.ID] {
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
