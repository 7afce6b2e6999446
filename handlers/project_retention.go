package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/retention"
	"github.com/stacklens/stacklens/views"
)

// retentionFields are the settings form's retention inputs: name, what it
// is, its largest value.
var retentionFields = []struct {
	name, what string
	most       int64
}{
	{"retention_days", "Days events are kept", retention.MaxDays},
	{"retention_max_events", "Events kept per issue", retention.MaxEvents},
	{"symbol_set_retention_days", "Days an unused symbol set is kept", retention.MaxDays},
}

// formRetention reads the settings form's retention fields: empty goes
// back to the server's default, a whole number 0 or more is the project's
// own (0 keeps forever). sent is false when the form has none of them (it
// then changes nothing).
func formRetention(c echo.Context, projectID int64) (r db.ProjectRetention, sent bool, err error) {
	form, err := c.FormParams()
	if err != nil {
		return r, false, echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.").SetInternal(err)
	}
	r.ProjectID = projectID
	targets := []**int64{&r.EventDays, &r.MaxEventsPerIssue, &r.SymbolSetDays}
	for i, f := range retentionFields {
		values, ok := form[f.name]
		if !ok {
			continue
		}
		sent = true
		raw := strings.TrimSpace(values[0])
		if raw == "" {
			continue
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 || n > f.most {
			return r, false, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf(
				"%s must be a whole number from 0 (keep forever) to %d, or empty for the server's default; %q is not. Nothing was saved.", f.what, f.most, raw))
		}
		*targets[i] = &n
	}
	return r, sent, nil
}

// retentionView fills the settings page's Retention fieldset.
func (h *Handlers) retentionView(ctx context.Context, projectID int64) (views.RetentionView, error) {
	own, err := h.projects.ProjectRetention(ctx, projectID)
	if err != nil {
		return views.RetentionView{}, fmt.Errorf("retention settings of project %d: %w", projectID, err)
	}
	field := func(v *int64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatInt(*v, 10)
	}
	d := h.opts.Retention
	rejectedKept := fmt.Sprintf("The newest %d are kept", retention.DefaultRejectedPerProject)
	if days := retention.For(d, own).EventDays; days > 0 {
		rejectedKept += fmt.Sprintf(", none longer than events (%d days)", days)
	}
	return views.RetentionView{
		EventDays: field(own.EventDays), MaxEventsPerIssue: field(own.MaxEventsPerIssue), SymbolSetDays: field(own.SymbolSetDays),
		DefaultEventDays: keepText(d.EventDays, "days"), DefaultMaxEventsPerIssue: keepText(d.MaxEventsPerIssue, "events"),
		DefaultSymbolSetDays: keepText(d.SymbolSetDays, "days"), RejectedKept: rejectedKept + "; older ones are deleted.",
	}, nil
}

// keepText says a default: "90 days", or "forever" for 0.
func keepText(n int64, unit string) string {
	if n == 0 {
		return "forever"
	}
	return strconv.FormatInt(n, 10) + " " + unit
}
