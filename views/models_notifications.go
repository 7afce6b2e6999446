package views

import (
	"strconv"
	"time"
)

// SectionNotifications is Nav.Active on the notification settings pages.
const SectionNotifications = "notifications"

// Kinds and webhook formats as the notification forms send them.
const (
	ChannelKindWebhook = "webhook"
	ChannelKindEmail   = "email"
	WebhookFormatSlack = "slack"
	WebhookFormatJSON  = "json"
)

// NotificationsView is /settings/notifications: the project's channels, the
// forms that add one, and what recent deliveries did.
type NotificationsView struct {
	Channels []ChannelRow
	// Failures are the latest failed attempts; Deliveries the latest of all.
	Failures   []DeliveryRow
	Deliveries []DeliveryRow
	// EmailConfigured is false while the server has no SMTP settings.
	EmailConfigured bool
	// Notice is a one-line confirmation ("Channel saved.").
	Notice string
	// Test is the outcome of the "Send test" just pressed, if any.
	Test *DeliveryRow
	// NewWebhook and NewEmail are the add forms, refilled (with Error) after a refused submit.
	NewWebhook ChannelForm
	NewEmail   ChannelForm
}

// ChannelRow is one channel in the list, with the URLs of its actions
// (each a POST form with `_csrf`; the toggle sends `enabled=true|false`).
type ChannelRow struct {
	ID        int64
	Name      string
	Kind      string
	Target    string // the webhook URL or the recipients
	Format    string // "Slack" or "JSON" for webhooks
	Triggers  string // "New issues, regressions"
	Enabled   bool
	Last      *DeliveryRow
	EditURL   string
	ToggleURL string
	DeleteURL string
	TestURL   string
}

// DeliveryRow is one delivery attempt.
type DeliveryRow struct {
	When      time.Time
	Channel   string
	Trigger   string // "New issue", "Regression" or "Test"
	IssueName string
	IssueURL  string // empty for tests
	Attempt   int
	OK        bool
	Status    int    // HTTP status or SMTP reply code; 0 when none came
	Error     string // why it failed
}

// ChannelForm is the add or edit form of one channel. It POSTs to Action with
// `name`, `kind`, `url` and `format` (webhook) or `email_to` (email),
// checkboxes `on_new_issue`, `on_regression` and (editing) `enabled`, and `_csrf`.
type ChannelForm struct {
	Action       string
	Kind         string
	Name         string
	URL          string
	Format       string
	EmailTo      string
	OnNewIssue   bool
	OnRegression bool
	Enabled      bool
	Editing      bool
	Error        string
}

// ChannelEditView is /settings/notifications/{id}: the channel's form and its
// latest delivery attempts.
type ChannelEditView struct {
	Form            ChannelForm
	EmailConfigured bool
	Deliveries      []DeliveryRow
	TestURL         string
}

// testDelivered is the banner after a test that went through.
func testDelivered(d DeliveryRow) string {
	s := "Test sent to " + d.Channel + ": delivered"
	if d.Status != 0 {
		s += " (" + strconv.Itoa(d.Status) + ")"
	}
	return s + "."
}
