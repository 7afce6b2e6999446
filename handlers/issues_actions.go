package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/views"
)

// bulkStatus maps the list's bulk actions to the status they set.
var bulkStatus = map[string]string{"resolve": db.StatusResolved, "suppress": db.StatusSuppressed, "reopen": db.StatusActive}

// maxBulk caps how many issues one bulk action takes (a page holds 50).
const maxBulk = 500

// BulkIssues applies the action of the list's bulk form to the ticked
// issues: resolve, suppress, reopen, or merge (which asks for the issue to
// keep unless the form names it in `into`).
func (h *Handlers) BulkIssues(c echo.Context) error {
	nav, project, err := h.nav(c, views.SectionIssues)
	if err != nil {
		return err
	}
	ids, err := formIDs(c)
	if err != nil {
		return err
	}
	back := returnURL(c.FormValue("return"))
	action := c.FormValue("action")
	ctx := c.Request().Context()
	if status, ok := bulkStatus[action]; ok {
		n, err := h.triage.ChangeIssuesStatus(ctx, project.ID, ids, db.StatusChange{Status: status, Actor: currentUser(c).Email})
		if errors.Is(err, db.ErrNotFound) {
			return echo.NewHTTPError(http.StatusBadRequest, "One of the ticked issues no longer exists; nothing was changed. Reload the list and try again.")
		}
		if err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, withQuery(back, url.Values{"done": {action}, "count": {strconv.Itoa(n)}}))
	}
	if action != "merge" {
		return echo.NewHTTPError(http.StatusBadRequest, "Unknown action "+strconv.Quote(action)+": use resolve, suppress, reopen or merge.")
	}
	if len(ids) < 2 {
		return echo.NewHTTPError(http.StatusBadRequest, "Tick at least two issues to merge.")
	}
	if c.FormValue("into") != "" {
		return h.merge(c, project.ID, ids, back)
	}
	v := views.MergeView{ActionURL: "/issues/merge", ReturnURL: back, CSRF: nav.CSRF}
	for _, id := range ids {
		is, err := h.issues.Issue(ctx, project.ID, id)
		if errors.Is(err, db.ErrNotFound) {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("Issue #%d no longer exists. Reload the list and try again.", id))
		}
		if err != nil {
			return err
		}
		v.Issues = append(v.Issues, issueRow(is, views.Series{}))
	}
	v.Keep = mergeKeep(v.Issues)
	return render(c, http.StatusOK, views.MergePage(nav, v))
}

// mergeKeep is the index of the issue a merge keeps unless the person
// chooses another: the one with the most events, the oldest of those
// (first seen earliest, then lowest id). Ticking order says nothing about
// which issue matters, and keeping the big, old issue keeps its address,
// history and links in tickets alive.
func mergeKeep(rows []views.IssueRow) int {
	keep := 0
	for i, r := range rows {
		k := rows[keep]
		switch {
		case r.Occurrences != k.Occurrences:
			if r.Occurrences > k.Occurrences {
				keep = i
			}
		case !r.FirstSeen.Equal(k.FirstSeen):
			if r.FirstSeen.Before(k.FirstSeen) {
				keep = i
			}
		case r.ID < k.ID:
			keep = i
		}
	}
	return keep
}

// MergeIssues merges the issues in `ids` into the one in `into` (the merge page's form).
func (h *Handlers) MergeIssues(c echo.Context) error {
	_, project, err := h.nav(c, views.SectionIssues)
	if err != nil {
		return err
	}
	ids, err := formIDs(c)
	if err != nil {
		return err
	}
	return h.merge(c, project.ID, ids, returnURL(c.FormValue("return")))
}

func (h *Handlers) merge(c echo.Context, projectID int64, ids []int64, back string) error {
	into, err := strconv.ParseInt(c.FormValue("into"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "Choose the issue to merge into.")
	}
	var from []int64
	for _, id := range ids {
		if id != into {
			from = append(from, id)
		}
	}
	if len(from) == len(ids) {
		return echo.NewHTTPError(http.StatusBadRequest, "The issue to merge into must be one of the ticked issues.")
	}
	if len(from) == 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "Tick at least two issues to merge.")
	}
	_, err = h.triage.MergeIssuesBy(c.Request().Context(), projectID, into, from, currentUser(c).Email)
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusBadRequest, "One of these issues no longer exists; nothing was merged. Go back to "+back+" and try again.")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/issues/%d", into))
}

// EditIssue saves the name and description form of the issue page.
func (h *Handlers) EditIssue(c echo.Context) error {
	_, project, err := h.issueNav(c)
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	name := strings.TrimSpace(c.FormValue("name"))
	description := strings.TrimSpace(c.FormValue("description"))
	switch {
	case name == "":
		return echo.NewHTTPError(http.StatusBadRequest, "The name cannot be empty.")
	case len(name) > 500:
		return echo.NewHTTPError(http.StatusBadRequest, "The name is limited to 500 characters.")
	case len(description) > 5000:
		return echo.NewHTTPError(http.StatusBadRequest, "The description is limited to 5,000 characters.")
	}
	err = h.triage.EditIssue(c.Request().Context(), project.ID, id, name, description, currentUser(c).Email)
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such issue.")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/issues/%d", id))
}

// AssignIssue saves the assignee select of the issue page ("" = nobody).
func (h *Handlers) AssignIssue(c echo.Context) error {
	_, project, err := h.issueNav(c)
	if err != nil {
		return err
	}
	is, err := h.loadIssue(c, project.ID)
	if err != nil {
		return err
	}
	var userID int64
	if raw := c.FormValue("assignee"); raw != "" {
		userID, err = strconv.ParseInt(raw, 10, 64)
		if err != nil || userID <= 0 {
			return echo.NewHTTPError(http.StatusBadRequest, "The assignee must be a user id, or empty for nobody.")
		}
	}
	err = h.triage.AssignIssue(c.Request().Context(), project.ID, is.ID, userID, currentUser(c).Email)
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusBadRequest, "There is no such user.")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/issues/%d", is.ID))
}

// formIDs reads the ticked issue ids of a form.
func formIDs(c echo.Context) ([]int64, error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	raw := form["ids"]
	if len(raw) == 0 {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "Tick at least one issue first.")
	}
	if len(raw) > maxBulk {
		return nil, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("At most %d issues at a time.", maxBulk))
	}
	seen := map[int64]bool{}
	var ids []int64
	for _, s := range raw {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return nil, echo.NewHTTPError(http.StatusBadRequest, "Issue ids must be numbers; got "+strconv.Quote(s)+".")
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// returnURL is where a bulk action goes back to: the issue list the form
// was on, never another site.
func returnURL(s string) string {
	if s == "/issues" || strings.HasPrefix(s, "/issues?") {
		return s
	}
	return "/issues"
}

func withQuery(u string, extra url.Values) string {
	path, query, _ := strings.Cut(u, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		q = url.Values{}
	}
	for k, v := range extra {
		q[k] = v
	}
	return path + "?" + q.Encode()
}

// bulkNotice confirms a bulk action on the list it returned to.
func bulkNotice(done, count string) string {
	n, err := strconv.Atoi(count)
	if err != nil || n < 0 {
		return ""
	}
	verb := map[string]string{"resolve": "resolved", "suppress": "suppressed", "reopen": "reopened"}[done]
	if verb == "" {
		return ""
	}
	if n == 1 {
		return "1 issue " + verb + "."
	}
	return strconv.Itoa(n) + " issues " + verb + "."
}
