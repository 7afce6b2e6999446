package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
)

// TestAPINeedsPersonalKey checks that the JSON API answers 401 without a key
// and with a wrong one, and 200 with the admin's key.
func TestAPINeedsPersonalKey(t *testing.T) {
	s := startServer(t, serverOptions{})
	path := s.URL + "/api/projects/1/error_tracking/issues"
	for name, header := range map[string]string{"no Authorization": "", "a wrong key": "Bearer phx_wrong_key", "the project token": "Bearer " + s.Token} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, path, nil)
		if err != nil {
			t.Fatalf("build request: %v", err)
		}
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET issues with %s: %v", name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /api/…/issues with %s: status %d, want 401", name, resp.StatusCode)
		}
	}
	if _, err := newAPI(s).issues(t.Context()); err != nil {
		t.Errorf("GET /api/…/issues with the personal API key: %v", err)
	}
}

// TestResolvedIssueReopens resolves an issue through the API (PATCH) and
// checks that the same error arriving again reopens it as one issue with two
// occurrences, newest event first.
func TestResolvedIssueReopens(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	first := newException("RegressionError", "fixed once, broken again")
	postException(t, s, s.Token, first)
	issues := waitForIssues(t, a, 1)
	id := issues[0].ID.String()

	var patched apiIssue
	if err := a.do(t.Context(), http.MethodPatch, "/issues/"+id, map[string]string{"status": "resolved"}, &patched); err != nil {
		t.Fatalf("PATCH issue %s to resolved: %v", id, err)
	}
	if got, err := a.issue(t.Context(), id); err != nil || got.Status != "resolved" {
		t.Fatalf("issue %s after PATCH: %+v (err %v), want status resolved", id, got, err)
	}

	again := newException("RegressionError", "fixed once, broken again")
	postException(t, s, s.Token, again)
	waitFor(t, "the resolved issue to reopen with 2 occurrences", func(ctx context.Context) (bool, string, error) {
		got, err := a.issue(ctx, id)
		if err != nil {
			return false, "", err
		}
		return got.Status == "active" && got.Occurrences == 2, fmt.Sprintf("%+v", got), nil
	})
	waitForIssues(t, a, 1)
	events, err := a.events(t.Context(), id, 10)
	if err != nil {
		t.Fatalf("events of issue %s: %v", id, err)
	}
	if len(events) != 2 || events[0].UUID != again.UUID || events[1].UUID != first.UUID {
		var got []string
		for _, ev := range events {
			got = append(got, ev.UUID)
		}
		t.Errorf("events of issue %s: %v, want newest first [%s %s]", id, got, again.UUID, first.UUID)
	}
	if events, err := a.events(t.Context(), id, 1); err != nil || len(events) != 1 {
		t.Errorf("events?limit=1 of issue %s: %d events (err %v), want 1", id, len(events), err)
	}
}
