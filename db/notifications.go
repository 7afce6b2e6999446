package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kinds of notification channel.
const (
	ChannelWebhook = "webhook"
	ChannelEmail   = "email"
)

// Formats of a webhook channel's body.
const (
	WebhookSlack = "slack"
	WebhookJSON  = "json"
)

// Triggers of a notification, as stored with each delivery attempt.
const (
	TriggerNewIssue   = "issue.created"
	TriggerRegression = "issue.regressed"
	TriggerTest       = "test"
)

// deliveriesKeptPerChannel bounds the attempt history: enough to show what
// went wrong lately without the table growing for ever.
const deliveriesKeptPerChannel = 200

// NotificationChannel is one place a project's notifications go.
type NotificationChannel struct {
	ID           int64
	ProjectID    int64
	Name         string
	Kind         string   // ChannelWebhook or ChannelEmail
	URL          string   // webhook only
	Format       string   // webhook only: WebhookSlack or WebhookJSON
	EmailTo      []string // email only
	OnNewIssue   bool
	OnRegression bool
	Enabled      bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Wants tells whether the channel is enabled and subscribed to trigger.
func (ch NotificationChannel) Wants(trigger string) bool {
	switch trigger {
	case TriggerNewIssue:
		return ch.Enabled && ch.OnNewIssue
	case TriggerRegression:
		return ch.Enabled && ch.OnRegression
	}
	return false
}

const channelColumns = "id, project_id, name, kind, url, format, email_to, on_new_issue, on_regression, enabled, created_at, updated_at"

func scanChannel(row interface{ Scan(...any) error }) (NotificationChannel, error) {
	var ch NotificationChannel
	var to string
	var created, updated int64
	if err := row.Scan(&ch.ID, &ch.ProjectID, &ch.Name, &ch.Kind, &ch.URL, &ch.Format, &to,
		&ch.OnNewIssue, &ch.OnRegression, &ch.Enabled, &created, &updated); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return NotificationChannel{}, ErrNotFound
		}
		return NotificationChannel{}, err
	}
	if to != "" {
		ch.EmailTo = strings.Split(to, ",")
	}
	ch.CreatedAt, ch.UpdatedAt = fromMillis(created), fromMillis(updated)
	return ch, nil
}

// CreateNotificationChannel stores a new channel and returns its id.
func (d *DB) CreateNotificationChannel(ctx context.Context, ch NotificationChannel) (int64, error) {
	now := millis(time.Now())
	var newID int64
	err := d.write.QueryRowContext(ctx, `INSERT INTO notification_channels(project_id, name, kind, url, format, email_to,
		on_new_issue, on_regression, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		ch.ProjectID, ch.Name, ch.Kind, ch.URL, ch.Format, strings.Join(ch.EmailTo, ","),
		ch.OnNewIssue, ch.OnRegression, ch.Enabled, now, now).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("create notification channel: %w", err)
	}
	return newID, nil
}

// UpdateNotificationChannel saves a channel's settings (its kind never changes).
func (d *DB) UpdateNotificationChannel(ctx context.Context, ch NotificationChannel) error {
	res, err := d.write.ExecContext(ctx, `UPDATE notification_channels SET name = ?, url = ?, format = ?, email_to = ?,
		on_new_issue = ?, on_regression = ?, enabled = ?, updated_at = ? WHERE project_id = ? AND id = ?`,
		ch.Name, ch.URL, ch.Format, strings.Join(ch.EmailTo, ","), ch.OnNewIssue, ch.OnRegression, ch.Enabled,
		millis(time.Now()), ch.ProjectID, ch.ID)
	if err != nil {
		return fmt.Errorf("update notification channel %d: %w", ch.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetNotificationChannelEnabled turns a channel on or off.
func (d *DB) SetNotificationChannelEnabled(ctx context.Context, projectID, id int64, enabled bool) error {
	res, err := d.write.ExecContext(ctx, "UPDATE notification_channels SET enabled = ?, updated_at = ? WHERE project_id = ? AND id = ?",
		enabled, millis(time.Now()), projectID, id)
	if err != nil {
		return fmt.Errorf("enable notification channel %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteNotificationChannel removes a channel and its delivery history.
func (d *DB) DeleteNotificationChannel(ctx context.Context, projectID, id int64) error {
	res, err := d.write.ExecContext(ctx, "DELETE FROM notification_channels WHERE project_id = ? AND id = ?", projectID, id)
	if err != nil {
		return fmt.Errorf("delete notification channel %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// NotificationChannel loads one channel of a project.
func (d *DB) NotificationChannel(ctx context.Context, projectID, id int64) (NotificationChannel, error) {
	ch, err := scanChannel(d.read.QueryRowContext(ctx, "SELECT "+channelColumns+" FROM notification_channels WHERE project_id = ? AND id = ?", projectID, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return NotificationChannel{}, fmt.Errorf("load notification channel %d: %w", id, err)
	}
	return ch, err
}

// NotificationChannels lists a project's channels, oldest first.
func (d *DB) NotificationChannels(ctx context.Context, projectID int64) ([]NotificationChannel, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT "+channelColumns+" FROM notification_channels WHERE project_id = ? ORDER BY id", projectID)
	if err != nil {
		return nil, fmt.Errorf("list notification channels: %w", err)
	}
	defer rows.Close()
	var out []NotificationChannel
	for rows.Next() {
		ch, err := scanChannel(rows)
		if err != nil {
			return nil, fmt.Errorf("list notification channels: %w", err)
		}
		out = append(out, ch)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list notification channels: %w", err)
	}
	return out, nil
}

// NotificationDelivery is the outcome of one attempt to notify a channel.
type NotificationDelivery struct {
	ID          int64
	ProjectID   int64
	ChannelID   int64
	ChannelName string // filled when listing
	Trigger     string // TriggerNewIssue, TriggerRegression or TriggerTest
	IssueID     int64  // 0 for a test
	IssueName   string
	Attempt     int // 1 for the first try
	OK          bool
	Status      int    // HTTP status or SMTP reply code; 0 when none came
	Error       string // why it failed; empty when OK
	AttemptedAt time.Time
}

const deliveryColumns = `d.id, d.project_id, d.channel_id, c.name, d.trigger, d.issue_id, d.issue_name, d.attempt, d.ok,
	d.status, d.error, d.attempted_at`

func scanDelivery(row interface{ Scan(...any) error }) (NotificationDelivery, error) {
	var dl NotificationDelivery
	var issueID sql.NullInt64
	var at int64
	if err := row.Scan(&dl.ID, &dl.ProjectID, &dl.ChannelID, &dl.ChannelName, &dl.Trigger, &issueID, &dl.IssueName,
		&dl.Attempt, &dl.OK, &dl.Status, &dl.Error, &at); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return NotificationDelivery{}, ErrNotFound
		}
		return NotificationDelivery{}, err
	}
	dl.IssueID = issueID.Int64
	dl.AttemptedAt = fromMillis(at)
	return dl, nil
}

// RecordNotificationDelivery stores one attempt's outcome and returns its id.
// Old attempts of the same channel beyond the kept history are removed.
func (d *DB) RecordNotificationDelivery(ctx context.Context, dl NotificationDelivery) (int64, error) {
	var issueID sql.NullInt64
	if dl.IssueID != 0 {
		issueID = sql.NullInt64{Int64: dl.IssueID, Valid: true}
	}
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("record notification delivery: %w", err)
	}
	defer tx.Rollback()
	var newID int64
	err = tx.QueryRowContext(ctx, `INSERT INTO notification_deliveries(project_id, channel_id, trigger, issue_id, issue_name,
		attempt, ok, status, error, attempted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		dl.ProjectID, dl.ChannelID, dl.Trigger, issueID, dl.IssueName, dl.Attempt, dl.OK, dl.Status, dl.Error, millis(dl.AttemptedAt)).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("record notification delivery: %w", err)
	}
	id := newID
	if _, err := tx.ExecContext(ctx, `DELETE FROM notification_deliveries WHERE channel_id = ? AND id <= (
		SELECT id FROM notification_deliveries WHERE channel_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
		dl.ChannelID, dl.ChannelID, deliveriesKeptPerChannel); err != nil {
		return 0, fmt.Errorf("prune notification deliveries: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("record notification delivery: %w", err)
	}
	return id, nil
}

// NotificationDelivery loads one attempt of a project.
func (d *DB) NotificationDelivery(ctx context.Context, projectID, id int64) (NotificationDelivery, error) {
	dl, err := scanDelivery(d.read.QueryRowContext(ctx, "SELECT "+deliveryColumns+` FROM notification_deliveries d
		JOIN notification_channels c ON c.id = d.channel_id WHERE d.project_id = ? AND d.id = ?`, projectID, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return NotificationDelivery{}, fmt.Errorf("load notification delivery %d: %w", id, err)
	}
	return dl, err
}

// RecentNotificationDeliveries lists a project's latest attempts, newest
// first; with failedOnly, only the attempts that failed.
func (d *DB) RecentNotificationDeliveries(ctx context.Context, projectID int64, failedOnly bool, limit int) ([]NotificationDelivery, error) {
	where := "d.project_id = ?"
	if failedOnly {
		where += " AND d.ok = 0"
	}
	return d.queryDeliveries(ctx, "SELECT "+deliveryColumns+` FROM notification_deliveries d
		JOIN notification_channels c ON c.id = d.channel_id WHERE `+where+` ORDER BY d.id DESC LIMIT ?`, projectID, limit)
}

// ChannelNotificationDeliveries lists one channel's latest attempts, newest first.
func (d *DB) ChannelNotificationDeliveries(ctx context.Context, projectID, channelID int64, limit int) ([]NotificationDelivery, error) {
	return d.queryDeliveries(ctx, "SELECT "+deliveryColumns+` FROM notification_deliveries d
		JOIN notification_channels c ON c.id = d.channel_id WHERE d.channel_id = ? AND d.project_id = ? ORDER BY d.id DESC LIMIT ?`,
		channelID, projectID, limit)
}

// LastNotificationDeliveries returns each channel's latest attempt, by channel id.
func (d *DB) LastNotificationDeliveries(ctx context.Context, projectID int64) (map[int64]NotificationDelivery, error) {
	list, err := d.queryDeliveries(ctx, "SELECT "+deliveryColumns+` FROM notification_deliveries d
		JOIN notification_channels c ON c.id = d.channel_id
		WHERE d.id IN (SELECT max(id) FROM notification_deliveries WHERE project_id = ? GROUP BY channel_id)`, projectID)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]NotificationDelivery, len(list))
	for _, dl := range list {
		out[dl.ChannelID] = dl
	}
	return out, nil
}

func (d *DB) queryDeliveries(ctx context.Context, query string, args ...any) ([]NotificationDelivery, error) {
	rows, err := d.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list notification deliveries: %w", err)
	}
	defer rows.Close()
	var out []NotificationDelivery
	for rows.Next() {
		dl, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("list notification deliveries: %w", err)
		}
		out = append(out, dl)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list notification deliveries: %w", err)
	}
	return out, nil
}
