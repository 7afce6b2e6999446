package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/netguard"
)

// JSONPayload is the body of a webhook in the "json" format.
type JSONPayload struct {
	Event   string         `json:"event"` // "issue.created" or "issue.regressed"
	Test    bool           `json:"test,omitempty"`
	Project JSONProject    `json:"project"`
	Issue   JSONIssue      `json:"issue"`
	Latest  JSONIssueEvent `json:"latest_event"`
	Text    string         `json:"text"`
	SentAt  time.Time      `json:"sent_at"`
}

// JSONProject names the project in a JSON webhook.
type JSONProject struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// JSONIssue is the issue in a JSON webhook, in the API's shape plus its link.
type JSONIssue struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Status      string    `json:"status"`
	Occurrences int64     `json:"occurrences"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	URL         string    `json:"url"`
}

// JSONIssueEvent is the event that created or reopened the issue.
type JSONIssueEvent struct {
	UUID       string    `json:"uuid"`
	Timestamp  time.Time `json:"timestamp"`
	URL        string    `json:"url"`
	CurrentURL string    `json:"current_url,omitempty"`
	Release    string    `json:"release,omitempty"`
	DistinctID string    `json:"distinct_id,omitempty"`
	Lib        string    `json:"lib,omitempty"`
	LibVersion string    `json:"lib_version,omitempty"`
	Browser    string    `json:"browser,omitempty"`
	OS         string    `json:"os,omitempty"`
}

func jsonBody(m Message, now time.Time) ([]byte, error) {
	return json.Marshal(JSONPayload{
		Event:   m.Trigger,
		Test:    m.Test,
		Project: JSONProject{ID: m.Project.ID, Name: m.Project.Name},
		Issue: JSONIssue{
			ID: m.Issue.ID, Name: m.Issue.Name, Description: m.Issue.Description, Status: m.Issue.Status,
			Occurrences: m.Issue.Occurrences, FirstSeen: m.Issue.FirstSeen.UTC(), LastSeen: m.Issue.LastSeen.UTC(), URL: m.IssueURL,
		},
		Latest: JSONIssueEvent{
			UUID: m.Event.UUID, Timestamp: m.Event.Timestamp.UTC(), URL: m.Event.URL, CurrentURL: m.Event.PageURL,
			Release: m.Event.Release, DistinctID: m.Event.DistinctID, Lib: m.Event.Lib, LibVersion: m.Event.LibVersion,
			Browser: m.Event.Browser, OS: m.Event.OS,
		},
		Text:   m.headline(),
		SentAt: now.UTC(),
	})
}

// slackBody is a Slack incoming-webhook message: "text" for notifications
// and clients without blocks, "blocks" for the message itself. Mattermost,
// Rocket.Chat and Discord's /slack endpoint accept the same shape.
func slackBody(m Message) ([]byte, error) {
	title := slackEscape(visible(clip(oneLine(m.Issue.Name), 200)))
	if strings.HasPrefix(m.IssueURL, "http://") || strings.HasPrefix(m.IssueURL, "https://") {
		title = "<" + m.IssueURL + "|" + strings.ReplaceAll(title, "|", "¦") + ">"
	} else {
		// Slack cannot follow a bare path; show it for people who know the host.
		title += " (" + slackEscape(m.IssueURL) + ")"
	}
	what := "New issue"
	switch {
	case m.Test:
		what = "Test notification"
	case m.Trigger == db.TriggerRegression:
		what = "Regression"
	}
	section := fmt.Sprintf("*%s* in %s: *%s*", what, slackEscape(name(m.Project.Name)), title)
	if m.Issue.Description != "" {
		section += "\n>" + strings.ReplaceAll(slackEscape(visible(clip(m.Issue.Description, 1500))), "\n", "\n>")
	}
	facts := m.facts()
	for i := range facts {
		facts[i] = slackEscape(facts[i])
	}
	return json.Marshal(map[string]any{
		"text": slackEscape(m.headline()),
		"blocks": []any{
			map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": section}},
			map[string]any{"type": "context", "elements": []any{map[string]any{"type": "mrkdwn", "text": strings.Join(facts, " · ")}}},
		},
	})
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning to.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// webhookSender posts to webhook URLs through the address guard.
type webhookSender struct {
	client *http.Client
}

func newWebhookSender(policy netguard.Policy, connectTimeout, totalTimeout time.Duration) webhookSender {
	client := policy.Client(connectTimeout, totalTimeout)
	// A redirect would turn the POST into a GET or send the body elsewhere:
	// report it instead, so the person fixes the URL.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return webhookSender{client: client}
}

// send POSTs body and reports the HTTP status (0 when none came) and why it failed.
func (s webhookSender) send(ctx context.Context, url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, permanent(fmt.Errorf("webhook URL: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "stacklens-webhook")
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, netguard.ErrBlocked) {
			return 0, permanent(fmt.Errorf("%w (set STACKLENS_FETCH_ALLOW_PRIVATE=true to allow private addresses)", err))
		}
		return 0, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode/100 == 2:
		return resp.StatusCode, nil
	case resp.StatusCode/100 == 3:
		return resp.StatusCode, permanent(fmt.Errorf("HTTP %d: redirected to %q; use the final URL", resp.StatusCode, resp.Header.Get("Location")))
	}
	err = fmt.Errorf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if text := oneLine(string(snippet)); text != "" {
		err = fmt.Errorf("%w: %s", err, clip(text, 200))
	}
	// Client errors other than timeouts and rate limits will not heal by retrying.
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return resp.StatusCode, permanent(err)
	}
	return resp.StatusCode, err
}
