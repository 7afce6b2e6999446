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
	"github.com/stacklens/stacklens/notify"
	"github.com/stacklens/stacklens/views"
)

const notificationsPath = "/settings/notifications"

// notices shown after a redirect, by the `done` query parameter.
var doneNotices = map[string]string{
	"added":    "Channel added.",
	"saved":    "Channel saved.",
	"enabled":  "Channel enabled.",
	"disabled": "Channel disabled.",
	"deleted":  "Channel deleted.",
}

// NotificationsPage lists the project's notification channels, the forms
// that add one and the latest delivery attempts.
func (h *Handlers) NotificationsPage(c echo.Context) error {
	nav, p, err := h.nav(c, views.SectionNotifications)
	if err != nil {
		return err
	}
	v, err := h.notificationsView(c, p.ID)
	if err != nil {
		return err
	}
	v.Notice = doneNotices[c.QueryParam("done")]
	if id, err := strconv.ParseInt(c.QueryParam("test"), 10, 64); err == nil {
		dl, err := h.notifications.NotificationDelivery(c.Request().Context(), p.ID, id)
		switch {
		case err == nil:
			row := deliveryRow(dl)
			v.Test = &row
		case !errors.Is(err, db.ErrNotFound):
			return err
		}
	}
	return render(c, http.StatusOK, views.NotificationsPage(nav, v))
}

func (h *Handlers) notificationsView(c echo.Context, projectID int64) (views.NotificationsView, error) {
	ctx := c.Request().Context()
	channels, err := h.notifications.NotificationChannels(ctx, projectID)
	if err != nil {
		return views.NotificationsView{}, err
	}
	last, err := h.notifications.LastNotificationDeliveries(ctx, projectID)
	if err != nil {
		return views.NotificationsView{}, err
	}
	failures, err := h.notifications.RecentNotificationDeliveries(ctx, projectID, true, 10)
	if err != nil {
		return views.NotificationsView{}, err
	}
	recent, err := h.notifications.RecentNotificationDeliveries(ctx, projectID, false, 30)
	if err != nil {
		return views.NotificationsView{}, err
	}
	v := views.NotificationsView{
		EmailConfigured: h.opts.Notifications != nil && h.opts.Notifications.EmailConfigured(),
		NewWebhook:      newChannelForm(views.ChannelKindWebhook),
		NewEmail:        newChannelForm(views.ChannelKindEmail),
	}
	for _, ch := range channels {
		row := channelRow(ch)
		if dl, ok := last[ch.ID]; ok {
			d := deliveryRow(dl)
			row.Last = &d
		}
		v.Channels = append(v.Channels, row)
	}
	for _, dl := range failures {
		v.Failures = append(v.Failures, deliveryRow(dl))
	}
	for _, dl := range recent {
		v.Deliveries = append(v.Deliveries, deliveryRow(dl))
	}
	return v, nil
}

// CreateNotificationChannel adds a webhook or email channel from the form.
func (h *Handlers) CreateNotificationChannel(c echo.Context) error {
	nav, p, err := h.nav(c, views.SectionNotifications)
	if err != nil {
		return err
	}
	kind := c.FormValue("kind")
	if kind != db.ChannelWebhook && kind != db.ChannelEmail {
		return echo.NewHTTPError(http.StatusBadRequest, "Choose a webhook or an email channel.")
	}
	ch, form, err := channelFromForm(c, db.NotificationChannel{ProjectID: p.ID, Kind: kind, Enabled: true})
	if err != nil {
		v, verr := h.notificationsView(c, p.ID)
		if verr != nil {
			return verr
		}
		form.Error = err.Error()
		if kind == db.ChannelWebhook {
			v.NewWebhook = form
		} else {
			v.NewEmail = form
		}
		return render(c, http.StatusBadRequest, views.NotificationsPage(nav, v))
	}
	if _, err := h.notifications.CreateNotificationChannel(c.Request().Context(), ch); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, inProject(notificationsPath, p.ID, url.Values{"done": {"added"}}))
}

// NotificationChannelPage shows one channel's form and its latest attempts.
func (h *Handlers) NotificationChannelPage(c echo.Context) error {
	nav, ch, err := h.channelFromPath(c)
	if err != nil {
		return err
	}
	v, err := h.channelEditView(c, ch, channelForm(ch))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.NotificationChannelPage(nav, v))
}

func (h *Handlers) channelEditView(c echo.Context, ch db.NotificationChannel, form views.ChannelForm) (views.ChannelEditView, error) {
	v := views.ChannelEditView{
		Form:            form,
		EmailConfigured: h.opts.Notifications != nil && h.opts.Notifications.EmailConfigured(),
		TestURL:         channelURL(ch.ID, "/test"),
	}
	recent, err := h.notifications.ChannelNotificationDeliveries(c.Request().Context(), ch.ProjectID, ch.ID, 30)
	if err != nil {
		return v, err
	}
	for _, dl := range recent {
		v.Deliveries = append(v.Deliveries, deliveryRow(dl))
	}
	return v, nil
}

// UpdateNotificationChannel saves a channel's form.
func (h *Handlers) UpdateNotificationChannel(c echo.Context) error {
	nav, old, err := h.channelFromPath(c)
	if err != nil {
		return err
	}
	ch, form, err := channelFromForm(c, old)
	if err != nil {
		form.Error = err.Error()
		v, verr := h.channelEditView(c, old, form)
		if verr != nil {
			return verr
		}
		return render(c, http.StatusBadRequest, views.NotificationChannelPage(nav, v))
	}
	if err := h.notifications.UpdateNotificationChannel(c.Request().Context(), ch); err != nil {
		return notFoundChannel(err)
	}
	return c.Redirect(http.StatusSeeOther, inProject(notificationsPath, ch.ProjectID, url.Values{"done": {"saved"}}))
}

// SetNotificationChannelEnabled turns a channel on (enabled=true) or off (enabled=false).
func (h *Handlers) SetNotificationChannelEnabled(c echo.Context) error {
	_, ch, err := h.channelFromPath(c)
	if err != nil {
		return err
	}
	enabled, err := strconv.ParseBool(c.FormValue("enabled"))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "Say enabled=true or enabled=false.")
	}
	if err := h.notifications.SetNotificationChannelEnabled(c.Request().Context(), ch.ProjectID, ch.ID, enabled); err != nil {
		return notFoundChannel(err)
	}
	done := "disabled"
	if enabled {
		done = "enabled"
	}
	return c.Redirect(http.StatusSeeOther, inProject(notificationsPath, ch.ProjectID, url.Values{"done": {done}}))
}

// DeleteNotificationChannel removes a channel and its delivery history.
func (h *Handlers) DeleteNotificationChannel(c echo.Context) error {
	_, ch, err := h.channelFromPath(c)
	if err != nil {
		return err
	}
	if err := h.notifications.DeleteNotificationChannel(c.Request().Context(), ch.ProjectID, ch.ID); err != nil {
		return notFoundChannel(err)
	}
	return c.Redirect(http.StatusSeeOther, inProject(notificationsPath, ch.ProjectID, url.Values{"done": {"deleted"}}))
}

// TestNotificationChannel sends a sample notification now and shows how it went.
func (h *Handlers) TestNotificationChannel(c echo.Context) error {
	_, ch, err := h.channelFromPath(c)
	if err != nil {
		return err
	}
	if h.opts.Notifications == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "Notifications are not running on this server.")
	}
	dl, err := h.opts.Notifications.SendTest(c.Request().Context(), ch)
	if err != nil {
		return fmt.Errorf("send test notification: %w", err)
	}
	return c.Redirect(http.StatusSeeOther, inProject(notificationsPath, ch.ProjectID, url.Values{"test": {strconv.FormatInt(dl.ID, 10)}}))
}

// channelFromPath loads the channel of the :id path parameter; the page
// shows the channel's project, whichever is selected.
func (h *Handlers) channelFromPath(c echo.Context) (views.Nav, db.NotificationChannel, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return views.Nav{}, db.NotificationChannel{}, notFoundChannel(db.ErrNotFound)
	}
	projectID, err := h.notifications.ProjectOfNotificationChannel(c.Request().Context(), id)
	if err != nil {
		return views.Nav{}, db.NotificationChannel{}, notFoundChannel(err)
	}
	nav, p, err := h.navOf(c, views.SectionNotifications, projectID)
	if err != nil {
		return nav, db.NotificationChannel{}, err
	}
	ch, err := h.notifications.NotificationChannel(c.Request().Context(), p.ID, id)
	if err != nil {
		return nav, db.NotificationChannel{}, notFoundChannel(err)
	}
	return nav, ch, nil
}

func notFoundChannel(err error) error {
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such notification channel.")
	}
	return err
}

// channelFromForm applies the posted form to base (whose id, project and kind
// it keeps) and validates the result. The form comes back refilled either way.
func channelFromForm(c echo.Context, base db.NotificationChannel) (db.NotificationChannel, views.ChannelForm, error) {
	ch := base
	ch.Name = c.FormValue("name")
	ch.OnNewIssue = c.FormValue("on_new_issue") == "on"
	ch.OnRegression = c.FormValue("on_regression") == "on"
	if base.ID != 0 {
		ch.Enabled = c.FormValue("enabled") == "on"
	}
	form := views.ChannelForm{
		Action: notificationsPath, Kind: ch.Kind, Name: ch.Name, URL: c.FormValue("url"), Format: c.FormValue("format"),
		EmailTo: c.FormValue("email_to"), OnNewIssue: ch.OnNewIssue, OnRegression: ch.OnRegression, Enabled: ch.Enabled,
	}
	if base.ID != 0 {
		form.Action, form.Editing = channelURL(base.ID, ""), true
	}
	switch ch.Kind {
	case db.ChannelWebhook:
		ch.URL, ch.Format = form.URL, form.Format
	case db.ChannelEmail:
		to, err := notify.ParseRecipients(form.EmailTo)
		if err != nil {
			return ch, form, err
		}
		ch.EmailTo = to
	}
	if err := notify.CheckChannel(&ch); err != nil {
		return ch, form, err
	}
	return ch, form, nil
}

func newChannelForm(kind string) views.ChannelForm {
	return views.ChannelForm{Action: notificationsPath, Kind: kind, Format: views.WebhookFormatSlack,
		OnNewIssue: true, OnRegression: true, Enabled: true}
}

func channelForm(ch db.NotificationChannel) views.ChannelForm {
	return views.ChannelForm{
		Action: channelURL(ch.ID, ""), Kind: ch.Kind, Name: ch.Name, URL: ch.URL, Format: ch.Format,
		EmailTo: strings.Join(ch.EmailTo, "\n"), OnNewIssue: ch.OnNewIssue, OnRegression: ch.OnRegression,
		Enabled: ch.Enabled, Editing: true,
	}
}

func channelURL(id int64, suffix string) string {
	return fmt.Sprintf("%s/%d%s", notificationsPath, id, suffix)
}

func channelRow(ch db.NotificationChannel) views.ChannelRow {
	row := views.ChannelRow{
		ID: ch.ID, Name: ch.Name, Kind: ch.Kind, Enabled: ch.Enabled, Triggers: triggersLabel(ch),
		EditURL: channelURL(ch.ID, ""), ToggleURL: channelURL(ch.ID, "/enabled"),
		DeleteURL: channelURL(ch.ID, "/delete"), TestURL: channelURL(ch.ID, "/test"),
	}
	if ch.Kind == db.ChannelWebhook {
		row.Target = ch.URL
		row.Format = "Slack-compatible"
		if ch.Format == db.WebhookJSON {
			row.Format = "JSON"
		}
	} else {
		row.Target = strings.Join(ch.EmailTo, ", ")
	}
	return row
}

func triggersLabel(ch db.NotificationChannel) string {
	switch {
	case ch.OnNewIssue && ch.OnRegression:
		return "New issues, regressions"
	case ch.OnNewIssue:
		return "New issues"
	case ch.OnRegression:
		return "Regressions"
	}
	return "Nothing"
}

func deliveryRow(dl db.NotificationDelivery) views.DeliveryRow {
	row := views.DeliveryRow{
		When: dl.AttemptedAt, Channel: dl.ChannelName, IssueName: dl.IssueName, Attempt: dl.Attempt,
		OK: dl.OK, Status: dl.Status, Error: dl.Error,
	}
	switch dl.Trigger {
	case db.TriggerNewIssue:
		row.Trigger = "New issue"
	case db.TriggerRegression:
		row.Trigger = "Regression"
	default:
		row.Trigger = "Test"
	}
	if dl.IssueID != 0 {
		row.IssueURL = fmt.Sprintf("/issues/%d", dl.IssueID)
	}
	return row
}
