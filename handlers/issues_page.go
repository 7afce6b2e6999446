package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/views"
)

const (
	eventsPerPage  = 25
	topValuesShown = 5
)

// IssuePage shows one issue with one of its events: the latest, or the one
// named by /issues/{id}/events/{uuid} or ?event={uuid}. The address of an
// issue merged into another leads there (308).
func (h *Handlers) IssuePage(c echo.Context) error {
	nav, project, err := h.issueNav(c)
	if ok, answer := redirectToSurvivor(c, err); ok {
		return answer
	}
	if err != nil {
		return err
	}
	is, err := h.loadIssue(c, project.ID)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	rangeKey := c.QueryParam("range")
	chart := chartRanges[0]
	found := rangeKey == ""
	for _, r := range chartRanges {
		if r.Key == rangeKey {
			chart, found = r, true
		}
	}
	if !found {
		return echo.NewHTTPError(http.StatusBadRequest, "Unknown chart range "+strconv.Quote(rangeKey)+": use 24h, 7d or 30d.")
	}
	// The list's event filters (release, lib, environment, tag) carry over:
	// counts, chart, values and events are then those of the events kept.
	// "range" here is the chart's, not the list's "seen within".
	filter, fq, err := parseIssueFilter(func(k string) string {
		if k == "range" {
			return ""
		}
		return c.QueryParam(k)
	}, "", time.Now())
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	ef, keep := fq.Events(), issueFilterValues(filter)
	v := views.IssueView{ID: is.ID, Name: is.Name, Description: is.Description, Status: is.Status,
		ResolvedInRelease: is.ResolvedInRelease, RegressedAt: is.RegressedAt, Occurrences: is.Occurrences,
		UsersAffected: is.UsersAffected, FirstSeen: is.FirstSeen, LastSeen: is.LastSeen,
		StatusURL: fmt.Sprintf("/issues/%d/status", is.ID), EditURL: fmt.Sprintf("/issues/%d/edit", is.ID),
		AssignURL: fmt.Sprintf("/issues/%d/assignee", is.ID), AssigneeID: is.AssigneeID}
	if ef.Any() {
		counts, err := h.issues.IssuesEventCounts(ctx, project.ID, []int64{is.ID}, ef)
		if err != nil {
			return err
		}
		c := counts[is.ID]
		v.Occurrences, v.UsersAffected = c.Events, c.Users
		v.Filtered = views.IssueFilterNote{Text: filterNote(filter), AllURL: fmt.Sprintf("/issues/%d", is.ID)}
	}

	uuid := firstNonEmpty(c.Param("uuid"), c.QueryParam("event"))
	showAll := c.QueryParam("all") == "1"
	if err := h.fillEvent(ctx, &v, is, uuid, showAll, ef, keep); err != nil {
		return err
	}
	v.Event.ShowAllURL = showAllURL(c.Request().URL, !showAll)
	if err := h.fillEventList(ctx, &v, is, c.QueryParam("events_after"), ef, keep); err != nil {
		return err
	}
	buckets := db.BucketsEndingAt(time.Now(), chart.Step, chart.N)
	counts, err := h.issues.IssueOccurrences(ctx, project.ID, is.ID, buckets, ef)
	if err != nil {
		return err
	}
	v.Chart = toSeries(buckets, counts)
	for _, r := range chartRanges {
		q := cloneValues(keep)
		if r.Key != chartRanges[0].Key {
			q.Set("range", r.Key)
		}
		v.ChartRanges = append(v.ChartRanges, views.Link{Label: r.Label, URL: linkWith(c.Request().URL.Path, q), Active: r.Key == chart.Key})
	}
	if err := h.fillFacets(ctx, &v, is, ef); err != nil {
		return err
	}
	if err := h.fillHistory(ctx, &v, is); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.IssuePage(nav, v))
}

// showAllURL is this page showing all of the event (ShowAllLimits), or,
// when all is false, showing the default amount.
func showAllURL(page *url.URL, all bool) string {
	q := page.Query()
	q.Del("all")
	if all {
		q.Set("all", "1")
	}
	u := page.Path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u + "#stack-title"
}

// fillEvent shows the chosen event (or the latest) with the links to step
// through the others, within the default limits or, with showAll, ShowAllLimits.
// Without a uuid the latest event f keeps is shown; the links step through
// the events f keeps, and carry keep, the filter's query.
func (h *Handlers) fillEvent(ctx context.Context, v *views.IssueView, is db.Issue, uuid string, showAll bool, f db.EventFilter, keep url.Values) error {
	var se db.StoredEvent
	if uuid != "" {
		var err error
		se, err = h.issues.IssueEvent(ctx, is.ProjectID, is.ID, uuid)
		if errors.Is(err, db.ErrNotFound) {
			return echo.NewHTTPError(http.StatusNotFound, "Issue "+strconv.FormatInt(is.ID, 10)+" has no event "+strconv.Quote(uuid)+".")
		}
		if err != nil {
			return err
		}
	} else {
		latest, err := h.issues.LatestIssueEvent(ctx, is.ProjectID, is.ID, f)
		if errors.Is(err, db.ErrNotFound) {
			return nil // none stored (counted while suppressed), or none the filter keeps
		}
		if err != nil {
			return err
		}
		se = latest
	}
	ev, err := decodeStored(se)
	if err != nil {
		return err
	}
	if err := h.issues.ApplyCurrentResolutions(ctx, is.ProjectID, &ev); err != nil {
		return err
	}
	limits := views.DefaultLimits()
	if showAll {
		limits = views.ShowAllLimits()
	}
	v.Event = h.eventView(ctx, is.ProjectID, ev, se, limits)
	v.Event.ShowingAll = showAll
	v.Event.RawURL = eventURL(is.ID, se.UUID) + "/raw"
	n, err := h.issues.IssueEventNeighbors(ctx, is.ProjectID, is.ID, se, f)
	if err != nil {
		return err
	}
	link := func(u string) string {
		if u == "" {
			return ""
		}
		return linkWith(eventURL(is.ID, u), keep)
	}
	v.EventNav = views.EventNav{First: link(n.First), Previous: link(n.Previous), Next: link(n.Next), Latest: link(n.Latest)}
	return nil
}

func eventURL(issueID int64, uuid string) string {
	return fmt.Sprintf("/issues/%d/events/%s", issueID, url.PathEscape(uuid))
}

// IssueEventRaw downloads one event of an issue as the client sent it, as
// JSON: pages cut long values and long stacks, this has all of it. The
// address under a merged issue leads to the same download under the issue
// it went into (308).
func (h *Handlers) IssueEventRaw(c echo.Context) error {
	_, project, err := h.issueNav(c)
	if into, merged := mergedInto(err); merged {
		return c.Redirect(http.StatusPermanentRedirect, eventURL(into, c.Param("uuid"))+"/raw")
	}
	if err != nil {
		return err
	}
	is, err := h.loadIssue(c, project.ID)
	if err != nil {
		return err
	}
	uuid := c.Param("uuid")
	se, err := h.issues.IssueEvent(c.Request().Context(), project.ID, is.ID, uuid)
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "Issue "+strconv.FormatInt(is.ID, 10)+" has no event "+strconv.Quote(uuid)+".")
	}
	if err != nil {
		return err
	}
	raw := se.Raw
	if len(raw) == 0 {
		raw = se.Data // stored before the event as sent was kept
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="event-%d-%s.json"`, is.ID, fileNameSafe(se.UUID)))
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, raw)
}

// fileNameSafe keeps the letters, digits, '-' and '_' of a client's value,
// for a download's file name.
func fileNameSafe(s string) string {
	out := strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return -1
	}, s)
	return out[:min(len(out), 64)]
}

// fillEventList lists a page of the issue's events, newest first.
// Only events f keeps are listed; links carry keep, the filter's query.
func (h *Handlers) fillEventList(ctx context.Context, v *views.IssueView, is db.Issue, after string, f db.EventFilter, keep url.Values) error {
	var cursor *db.EventCursor
	if ms, id, ok := strings.Cut(after, "."); ok {
		m, err1 := strconv.ParseInt(ms, 10, 64)
		i, err2 := strconv.ParseInt(id, 10, 64)
		if err1 == nil && err2 == nil {
			cursor = &db.EventCursor{Timestamp: time.UnixMilli(m), ID: i}
		}
	}
	list, more, err := h.issues.IssueEventSummaries(ctx, is.ProjectID, is.ID, cursor, eventsPerPage, f)
	if err != nil {
		return err
	}
	for _, e := range list {
		v.Events = append(v.Events, views.EventRow{UUID: e.UUID, Timestamp: e.Timestamp, URL: e.URL, User: e.DistinctID,
			Release: e.Release, Link: linkWith(eventURL(is.ID, e.UUID), keep), Current: e.UUID == v.Event.UUID})
	}
	if more {
		last := list[len(list)-1]
		q := cloneValues(keep)
		q.Set("events_after", fmt.Sprintf("%d.%d", last.Timestamp.UnixMilli(), last.ID))
		v.OlderEventsURL = linkWith(fmt.Sprintf("/issues/%d", is.ID), q) + "#events-title"
	}
	return nil
}

// fillFacets adds the releases seen, the top values and the people to assign.
// Under a filter the top values are those of the events it keeps.
func (h *Handlers) fillFacets(ctx context.Context, v *views.IssueView, is db.Issue, f db.EventFilter) error {
	releases, err := h.issues.IssueReleases(ctx, is.ProjectID, is.ID)
	if err != nil {
		return err
	}
	for _, r := range releases {
		v.Releases = append(v.Releases, r.Value)
	}
	for _, g := range []struct{ key, title string }{
		{db.ValueURL, "URL"}, {db.ValueBrowser, "Browser"}, {db.ValueOS, "OS"}, {db.ValueRelease, "Release"},
	} {
		values, total, err := h.issues.TopValues(ctx, is.ProjectID, is.ID, g.key, topValuesShown)
		if f.Any() {
			values, total, err = h.issues.FilteredTopValues(ctx, is.ProjectID, is.ID, g.key, topValuesShown, f)
		}
		if err != nil {
			return err
		}
		group := views.ValueGroup{Title: g.title, Total: total}
		for _, val := range values {
			group.Values = append(group.Values, views.ValueCount{Value: val.Value, Count: val.Count})
		}
		v.TopValues = append(v.TopValues, group)
	}
	users, err := h.accounts.Users(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		v.Users = append(v.Users, views.UserOption{ID: u.ID, Email: u.Email})
	}
	return nil
}

// fillHistory adds the timeline and the issues merged into this one.
func (h *Handlers) fillHistory(ctx context.Context, v *views.IssueView, is db.Issue) error {
	timeline, err := h.issues.IssueTimeline(ctx, is.ProjectID, is.ID)
	if err != nil {
		return err
	}
	for _, a := range timeline {
		v.Timeline = append(v.Timeline, views.TimelineEntry{At: a.At, Actor: a.Actor, Kind: a.Kind, From: a.From, To: a.To,
			Detail: a.Detail, MergedIssueID: a.MergedIssueID, MergedOccurrences: a.MergedOccurrences})
		if a.Kind == db.ActivityMerge {
			v.Merged = append(v.Merged, views.MergedIssue{ID: a.MergedIssueID, Name: a.Detail, Occurrences: a.MergedOccurrences,
				At: a.At, By: a.Actor})
		}
	}
	return nil
}

// filterNote says which events an issue page counts under a filter.
func filterNote(f views.IssueFilter) string {
	var parts []string
	for _, p := range []struct{ label, value string }{{"release", f.Release}, {"library", f.Lib}, {"environment", f.Env}, {"tag", f.Tag}} {
		if p.value != "" {
			parts = append(parts, p.label+" "+p.value)
		}
	}
	return "Counting only the events of " + strings.Join(parts, ", ") + "."
}
