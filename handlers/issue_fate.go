package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
)

// issueMerged rides on the 410 of an issue id that was merged away, so the
// issue page can answer a redirect to the surviving issue instead.
type issueMerged struct{ into int64 }

func (m issueMerged) Error() string { return fmt.Sprintf("merged into issue %d", m.into) }

// missingIssue is the answer for an issue id that names no issue: 404 when
// it never did (or names another project's), 410 saying what became of it
// when it was merged or deleted. Ids are never given out again, so an old
// link cannot land on an unrelated issue.
func (h *Handlers) missingIssue(c echo.Context, projectID, id int64) error {
	fate, err := h.issues.IssueFate(c.Request().Context(), projectID, id)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "There is no such issue.")
	case err != nil:
		return fmt.Errorf("what became of issue %d: %w", id, err)
	case fate.MergedInto != 0:
		return echo.NewHTTPError(http.StatusGone,
			fmt.Sprintf("Issue %d was merged into issue %d; its events are there now.", id, fate.MergedInto)).
			SetInternal(issueMerged{into: fate.MergedInto})
	default:
		return echo.NewHTTPError(http.StatusGone, fmt.Sprintf("Issue %d was deleted along with its project.", id))
	}
}

// mergedInto tells whether err says the issue was merged, and into which.
func mergedInto(err error) (int64, bool) {
	var m issueMerged
	if errors.As(err, &m) {
		return m.into, true
	}
	return 0, false
}

// redirectToSurvivor answers a page request for a merged issue with a
// permanent redirect (308) to the issue it went into, the same event or
// query kept; ok is false when err is not about a merged issue.
func redirectToSurvivor(c echo.Context, err error) (ok bool, answer error) {
	into, merged := mergedInto(err)
	if !merged || (c.Request().Method != http.MethodGet && c.Request().Method != http.MethodHead) {
		return false, nil
	}
	target := fmt.Sprintf("/issues/%d", into)
	if uuid := c.Param("uuid"); uuid != "" {
		target = eventURL(into, uuid)
	}
	if q := c.Request().URL.RawQuery; q != "" {
		target += "?" + q
	}
	return true, c.Redirect(http.StatusPermanentRedirect, target)
}
