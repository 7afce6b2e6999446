package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestReplayRecordedSDKRequests sends every request the real SDKs were recorded
// sending, byte for byte, to a fresh server with the recording's token, and
// checks the answers, the issues and events the API reports, and the issue pages.
func TestReplayRecordedSDKRequests(t *testing.T) {
	for _, rec := range loadRecordings(t) {
		t.Run(rec.Name, func(t *testing.T) {
			assets := httptest.NewServer(http.NotFoundHandler())
			t.Cleanup(assets.Close)
			s := startServer(t, serverOptions{Token: tokenOf(t, rec), AssetsURL: assets.URL})

			var sent []recordedException
			for _, r := range rec.Requests {
				checkReplayAnswer(t, s, assets.URL, r)
				if r.captureRequest() {
					sent = append(sent, r.exceptions(t)...)
				}
			}
			if len(sent) == 0 {
				t.Fatalf("%s: no $exception events in its capture requests", rec.Name)
			}
			checkStoredAsSent(t, s, sent)
		})
	}
}

// checkReplayAnswer replays one recorded request and checks the answer the
// contract promises for its kind.
func checkReplayAnswer(t *testing.T, s *server, assetsURL string, r recordedRequest) {
	t.Helper()
	resp, body := replay(t, s, r)
	what := r.Method + " " + r.URL
	origin := r.Headers["origin"]
	if origin != "" {
		allowed := resp.Header.Get("Access-Control-Allow-Origin")
		// A browser also needs CORS headers on a redirect it follows in CORS
		// mode (posthog-js loads its scripts with crossorigin="anonymous").
		if (resp.StatusCode/100 == 2 || resp.StatusCode/100 == 3) && allowed != "*" && allowed != origin {
			t.Errorf("%s from origin %s: status %d with Access-Control-Allow-Origin %q, want %q or *", what, origin, resp.StatusCode, allowed, origin)
		}
	}
	switch {
	case r.Method == http.MethodOptions:
		if resp.StatusCode/100 != 2 {
			t.Errorf("%s (CORS preflight): status %d, want 2xx", what, resp.StatusCode)
		}
	case r.captureRequest():
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d, want 200; body %s", what, resp.StatusCode, truncate(string(body), 500))
		}
		var answer struct {
			Status int `json:"status"`
		}
		if err := json.Unmarshal(body, &answer); err != nil || answer.Status != 1 {
			t.Errorf(`%s: answer %s, want {"status":1}`, what, truncate(string(body), 300))
		}
	case strings.HasPrefix(r.Path, "/array/") && strings.HasSuffix(r.Path, "/config.js"):
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "_POSTHOG_REMOTE_CONFIG") {
			t.Errorf("%s: status %d, body %s; want 200 setting window._POSTHOG_REMOTE_CONFIG", what, resp.StatusCode, truncate(string(body), 300))
		}
	case strings.HasPrefix(r.Path, "/array/") && strings.HasSuffix(r.Path, "/config"):
		if resp.StatusCode != http.StatusOK || !json.Valid(body) {
			t.Errorf("%s: status %d, body %s; want 200 with JSON", what, resp.StatusCode, truncate(string(body), 300))
		}
	case r.Path == "/flags/" || r.Path == "/decide/":
		var flags map[string]any
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &flags) != nil {
			t.Errorf("%s: status %d, body %s; want 200 with JSON", what, resp.StatusCode, truncate(string(body), 300))
		} else if r.Path == "/flags/" {
			if _, ok := flags["flags"]; !ok {
				t.Errorf("%s: answer %s has no flags key", what, truncate(string(body), 300))
			}
		}
	case isVersionedStatic(r.Path):
		want := assetsURL + r.Path
		if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != want {
			t.Errorf("%s: status %d Location %q; want a redirect to %s", what, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	default:
		t.Logf("%s: answered %d (no promise checked for this path)", what, resp.StatusCode)
	}
}

// isVersionedStatic matches /static/{version}/{file}.js.
func isVersionedStatic(path string) bool {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	return len(parts) == 3 && parts[0] == "static" && parts[1] != "" && strings.HasSuffix(parts[2], ".js")
}

// checkStoredAsSent waits until every sent event is stored, then checks: one
// issue per distinct error, named by its type and value, each event as sent,
// and the issue list and pages showing them.
func checkStoredAsSent(t *testing.T, s *server, sent []recordedException) {
	t.Helper()
	a := newAPI(s)
	var uuids []string
	distinct := map[[2]string]bool{}
	for _, ev := range sent {
		uuids = append(uuids, ev.UUID)
		top := ev.Properties.ExceptionList[0]
		distinct[[2]string{top.Type, top.Value}] = true
	}
	stored := waitForEvents(t, a, uuids)
	issues := waitForIssues(t, a, len(distinct))

	b := newBrowser(t, s)
	b.login(t)
	checkIssueList(t, b, issues)
	for _, ev := range sent {
		got := stored[ev.UUID]
		checkEventAsSent(t, got.Event, ev)
		top := ev.Properties.ExceptionList[0]
		is, err := a.issue(t.Context(), got.IssueID)
		if err != nil {
			t.Fatalf("get issue %s: %v", got.IssueID, err)
		}
		if is.Name != top.Type || is.Description != top.Value {
			t.Errorf("issue %s of event %s: %s: %q, want %s: %q", got.IssueID, ev.UUID, is.Name, is.Description, top.Type, top.Value)
		}
		checkIssuePage(t, b, got.IssueID, expectationFromSent(ev))
		logFrames(t, ev.UUID, got.Event)
	}
}

// logFrames records what the server made of each frame (names, resolution),
// for reading in -v output.
func logFrames(t *testing.T, label string, ev apiEvent) {
	t.Helper()
	for i, ex := range ev.ExceptionList {
		for j, f := range ex.Frames {
			t.Logf("%s exception %d (%s) frame %d: %s failure=%q", label, i, ex.Type, j, describeFrame(f), f.ResolveFailure)
		}
	}
}
