package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/triage"
	"github.com/stacklens/stacklens/views"
)

const issuesPerPage = 50

// tagSuggestions is how many tag values the tag filter suggests.
const tagSuggestions = 200

// withCurrent is a filter's choices with the value the URL asks for among
// them, so the form shows what the list is filtered by.
func withCurrent(values []string, current string) []string {
	if current == "" || slices.Contains(values, current) {
		return values
	}
	return append([]string{current}, values...)
}

// tagChoices are tags as the tag filter writes them: "key:value".
func tagChoices(tags []db.Tag) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.Key + ":" + t.Value
	}
	return out
}

// IssuesPage lists the project's issues: filters, search, sort and the
// cursor all live in the URL query.
func (h *Handlers) IssuesPage(c echo.Context) error {
	nav, project, err := h.nav(c, views.SectionIssues)
	if err != nil {
		return err
	}
	now := time.Now()
	filter, q, err := parseIssueFilter(c.QueryParam, db.StatusActive, now)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	ctx := c.Request().Context()
	q.ProjectID, q.Limit, q.TextChars = project.ID, issuesPerPage, views.ListChars
	page, err := h.issues.ListIssues(ctx, q)
	if err != nil {
		return err
	}
	if err := h.countUnderFilter(ctx, project.ID, page.Issues, q.Events()); err != nil {
		return err
	}
	buckets, sparkLabel := sparkBuckets(filter.Spark, now)
	ids := make([]int64, len(page.Issues))
	for i, is := range page.Issues {
		ids[i] = is.ID
	}
	sparks, err := h.issues.IssuesOccurrences(ctx, project.ID, ids, buckets, q.Events())
	if err != nil {
		return err
	}
	crashes, err := h.issues.IssuesCrashFrames(ctx, project.ID, ids)
	if err != nil {
		return err
	}
	releases, err := h.issues.ProjectValues(ctx, project.ID, db.ValueRelease)
	if err != nil {
		return err
	}
	libs, err := h.issues.ProjectValues(ctx, project.ID, db.ValueLib)
	if err != nil {
		return err
	}
	environments, err := h.issues.ProjectValues(ctx, project.ID, db.ValueEnvironment)
	if err != nil {
		return err
	}
	tags, err := h.issues.ProjectTags(ctx, project.ID, tagSuggestions)
	if err != nil {
		return err
	}
	base := filterValues(filter)
	base.Set("project", strconv.FormatInt(project.ID, 10))
	v := views.IssuesView{Status: filter.Status, Total: page.Total, Filter: filter, Releases: releases, Libs: libs,
		Environments: withCurrent(environments, filter.Env), Tags: tagChoices(tags),
		BulkURL: "/issues/bulk", ReturnURL: listURL(withCursor(base, c)), CSRF: nav.CSRF, SparkLabel: sparkLabel,
		Notice: bulkNotice(c.QueryParam("done"), c.QueryParam("count")),
		Setup:  h.setupHint(c, project)}
	for _, s := range []string{views.StatusActive, views.StatusResolved, views.StatusSuppressed, views.StatusAll} {
		u := cloneValues(base)
		u.Set("status", s)
		v.StatusTabs = append(v.StatusTabs, views.Link{Label: statusTabLabel(s), URL: listURL(u), Active: s == filter.Status})
	}
	for _, is := range page.Issues {
		row := issueRow(is, toSeries(buckets, sparks[is.ID]))
		if ev := issueFilterValues(filter); len(ev) > 0 {
			row.URL += "?" + ev.Encode()
		}
		if f, ok := crashes[is.ID]; ok {
			row.Culprit = culprit(f)
		}
		v.Rows = append(v.Rows, row)
	}
	if n := len(page.Issues); n > 0 {
		olderExist := q.Before != nil || page.HasMore
		newerExist := q.After != nil || (q.Before != nil && page.HasMore)
		if olderExist {
			u := cloneValues(base)
			u.Set("after", db.CursorOf(q.Sort, page.Issues[n-1]).Format(q.Sort))
			v.NextURL = listURL(u)
		}
		if newerExist {
			u := cloneValues(base)
			u.Set("before", db.CursorOf(q.Sort, page.Issues[0]).Format(q.Sort))
			v.PrevURL = listURL(u)
		}
	}
	return render(c, http.StatusOK, views.IssuesPage(nav, v))
}

func issueRow(is db.Issue, spark views.Series) views.IssueRow {
	return views.IssueRow{ID: is.ID, Name: is.Name, Description: is.Description, NameChars: is.NameChars,
		DescriptionChars: is.DescriptionChars, Status: is.Status,
		Occurrences: is.Occurrences, UsersAffected: is.UsersAffected, FirstSeen: is.FirstSeen, LastSeen: is.LastSeen,
		RegressedAt: is.RegressedAt, Assignee: is.AssigneeEmail, URL: fmt.Sprintf("/issues/%d", is.ID), Spark: spark}
}

// culprit names a crash-site frame the way the issue page does.
func culprit(f event.Frame) views.Culprit {
	info := describeFrame(f)
	return views.Culprit{Function: info.ResolvedName, File: displaySource(info.Source), Line: info.Line, Minified: !info.Resolved}
}

// withCursor adds the page's cursor to a list query, so bulk actions come back to the same page.
func withCursor(base url.Values, c echo.Context) url.Values {
	u := cloneValues(base)
	for _, k := range []string{"after", "before"} {
		if v := c.QueryParam(k); v != "" {
			u[k] = []string{v}
		}
	}
	return u
}

func statusTabLabel(s string) string {
	switch s {
	case views.StatusActive:
		return "Active"
	case views.StatusResolved:
		return "Resolved"
	case views.StatusSuppressed:
		return "Suppressed"
	}
	return "All"
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

// loadIssue is the issue of the :id path parameter, or a 404.
func (h *Handlers) loadIssue(c echo.Context, projectID int64) (db.Issue, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return db.Issue{}, err
	}
	is, err := h.issues.Issue(c.Request().Context(), projectID, id)
	if errors.Is(err, db.ErrNotFound) {
		return db.Issue{}, echo.NewHTTPError(http.StatusNotFound, "There is no such issue.")
	}
	return is, err
}

func decodeStored(se db.StoredEvent) (event.Event, error) {
	ev, err := event.DecodeStored(se.Data, se.Raw)
	if err != nil {
		return event.Event{}, fmt.Errorf("stored event %s: %w", se.UUID, err)
	}
	return ev, nil
}

// SetIssueStatus is the resolve / resolve in release / suppress / reopen form of the issue page.
func (h *Handlers) SetIssueStatus(c echo.Context) error {
	_, project, err := h.issueNav(c)
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	status := c.FormValue("status")
	if !triage.ValidStatus(status) {
		return echo.NewHTTPError(http.StatusBadRequest, "Unknown status "+strconv.Quote(status)+": use active, resolved or suppressed.")
	}
	release := strings.TrimSpace(c.FormValue("resolved_in_release"))
	if len(release) > maxFilterLen {
		return echo.NewHTTPError(http.StatusBadRequest, "A release name is limited to 500 characters.")
	}
	err = h.triage.ChangeIssueStatus(c.Request().Context(), project.ID, id,
		db.StatusChange{Status: status, ResolvedInRelease: release, Actor: currentUser(c).Email})
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such issue.")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/issues/%d", id))
}
