package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// processDeadline is how long a test waits for the background worker to turn
// accepted events into issues before it gives up.
const processDeadline = 30 * time.Second

// The JSON API's shapes, as the contract promises them.
type apiIssue struct {
	ID          json.Number `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Status      string      `json:"status"`
	FirstSeen   string      `json:"first_seen"`
	LastSeen    string      `json:"last_seen"`
	Occurrences int         `json:"occurrences"`
}

type apiEvent struct {
	UUID          string         `json:"uuid"`
	Timestamp     string         `json:"timestamp"`
	DistinctID    string         `json:"distinct_id"`
	Properties    map[string]any `json:"properties"`
	ExceptionList []apiException `json:"exception_list"`
}

type apiException struct {
	Type      string         `json:"type"`
	Value     string         `json:"value"`
	Mechanism map[string]any `json:"mechanism"`
	Frames    []apiFrame     `json:"frames"`
}

type apiFrame struct {
	RawID          string   `json:"raw_id"`
	MangledName    string   `json:"mangled_name"`
	ResolvedName   string   `json:"resolved_name"`
	Source         string   `json:"source"`
	Line           int      `json:"line"`
	Column         int      `json:"column"`
	InApp          bool     `json:"in_app"`
	Resolved       bool     `json:"resolved"`
	ResolveFailure string   `json:"resolve_failure"`
	ContextLine    string   `json:"context_line"`
	PreContext     []string `json:"pre_context"`
	PostContext    []string `json:"post_context"`
	Platform       string   `json:"platform"`
}

// api talks to the JSON API of one server with the admin's personal API key.
type api struct {
	base string
	key  string
	http *http.Client
}

func newAPI(s *server) *api {
	return &api{base: s.URL + "/api/projects/1/error_tracking", key: apiKey, http: &http.Client{Timeout: 10 * time.Second}}
}

// do sends one request and decodes a 2xx JSON answer into out (when not nil).
func (a *api) do(ctx context.Context, method, path string, body, out any) error {
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, reader)
	if err != nil {
		return fmt.Errorf("build %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, truncate(string(raw), 500))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode %s %s: %w (body %s)", method, path, err, truncate(string(raw), 500))
	}
	return nil
}

func (a *api) issues(ctx context.Context) ([]apiIssue, error) {
	var page struct {
		Results []apiIssue `json:"results"`
	}
	if err := a.do(ctx, http.MethodGet, "/issues", nil, &page); err != nil {
		return nil, err
	}
	return page.Results, nil
}

func (a *api) issue(ctx context.Context, id string) (apiIssue, error) {
	var is apiIssue
	err := a.do(ctx, http.MethodGet, "/issues/"+id, nil, &is)
	return is, err
}

func (a *api) events(ctx context.Context, issueID string, limit int) ([]apiEvent, error) {
	var page struct {
		Results []apiEvent `json:"results"`
	}
	if err := a.do(ctx, http.MethodGet, fmt.Sprintf("/issues/%s/events?limit=%d", issueID, limit), nil, &page); err != nil {
		return nil, err
	}
	return page.Results, nil
}

// waitFor polls check until it reports done or processDeadline passes; then it
// fails the test with the last state check described.
func waitFor(t *testing.T, what string, check func(ctx context.Context) (done bool, state string, err error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), processDeadline)
	defer cancel()
	var state string
	var lastErr error
	for {
		done, st, err := check(ctx)
		if err == nil && done {
			return
		}
		state, lastErr = st, err
		select {
		case <-ctx.Done():
			t.Fatalf("gave up after %s waiting for %s; last state: %s; last error: %v", processDeadline, what, state, lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitForIssues waits until exactly n issues exist (failing at once if more
// appear) and returns them.
func waitForIssues(t *testing.T, a *api, n int) []apiIssue {
	t.Helper()
	var got []apiIssue
	waitFor(t, fmt.Sprintf("%d issues", n), func(ctx context.Context) (bool, string, error) {
		issues, err := a.issues(ctx)
		if err != nil {
			return false, "", err
		}
		got = issues
		if len(issues) > n {
			t.Fatalf("want %d issues, got %d: %s", n, len(issues), describeIssues(issues))
		}
		return len(issues) == n, describeIssues(issues), nil
	})
	return got
}

// locatedEvent is a stored event with the id of the issue it belongs to.
type locatedEvent struct {
	IssueID string
	Event   apiEvent
}

// allEvents collects the newest 100 events of every issue, keyed by uuid.
func allEvents(ctx context.Context, a *api) (map[string]locatedEvent, error) {
	issues, err := a.issues(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]locatedEvent{}
	for _, is := range issues {
		events, err := a.events(ctx, is.ID.String(), 100)
		if err != nil {
			return nil, err
		}
		for _, ev := range events {
			out[ev.UUID] = locatedEvent{IssueID: is.ID.String(), Event: ev}
		}
	}
	return out, nil
}

// waitForEvents waits until every uuid is stored under some issue and returns them all.
func waitForEvents(t *testing.T, a *api, uuids []string) map[string]locatedEvent {
	t.Helper()
	var got map[string]locatedEvent
	waitFor(t, fmt.Sprintf("events %v", uuids), func(ctx context.Context) (bool, string, error) {
		events, err := allEvents(ctx, a)
		if err != nil {
			return false, "", err
		}
		got = events
		var missing []string
		for _, u := range uuids {
			if _, ok := events[u]; !ok {
				missing = append(missing, u)
			}
		}
		return len(missing) == 0, fmt.Sprintf("missing %v", missing), nil
	})
	return got
}

func describeIssues(issues []apiIssue) string {
	var parts []string
	for _, is := range issues {
		parts = append(parts, fmt.Sprintf("#%s %s: %q (%s, %d)", is.ID, is.Name, is.Description, is.Status, is.Occurrences))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// issueNamed returns the issue with this name and description, if any.
func issueNamed(issues []apiIssue, name, description string) (apiIssue, bool) {
	for _, is := range issues {
		if is.Name == name && is.Description == description {
			return is, true
		}
	}
	return apiIssue{}, false
}
