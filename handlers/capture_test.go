package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/handlers"
	"github.com/stacklens/stacklens/internal/testserver"
	"github.com/stacklens/stacklens/ratelimit"
)

func post(t *testing.T, s *testserver.Server, path, contentType, body string, header ...string) testserver.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return s.Do(req)
}

// Capture (handlers/capture.go): what SDKs are answered.
func TestCaptureAnswers(t *testing.T) {
	s := testserver.New(t, func(o *handlers.Options) { o.MaxBodyBytes = 4096 })
	event := `{"api_key":"` + testserver.ProjectToken + `","event":"$pageview","distinct_id":"u","properties":{}}`
	for _, c := range []struct {
		name, path, body string
		header           []string
		status           int
		says             string
	}{
		{"an event", "/e/", event, nil, 200, `{"status":1}`},
		{"a batch", "/batch/", `{"api_key":"` + testserver.ProjectToken + `","batch":[` + event + `]}`, nil, 200, `{"status":1}`},
		{"v1 with a bearer token", "/i/v1/analytics/events", `{"batch":[{"event":"$pageview","distinct_id":"u","properties":{}}]}`,
			[]string{"Authorization", "Bearer " + testserver.ProjectToken}, 200, `{"results":{}}`},
		{"not JSON", "/e/", `{"api_key":`, nil, 400, `"type":"validation_error"`},
		{"no token", "/e/", `{"event":"$exception","properties":{}}`, nil, 401, `"code":"invalid_api_key"`},
		{"mixed tokens", "/batch/", `{"batch":[{"event":"a","properties":{"token":"` + testserver.ProjectToken + `"}},{"event":"b","properties":{"token":"phc_other"}}]}`,
			nil, 401, "several projects"},
		{"too large", "/e/", `{"api_key":"` + testserver.ProjectToken + `","pad":"` + strings.Repeat("x", 5000) + `"}`, nil, 413, `"code":"payload_too_large"`},
	} {
		res := post(t, s, c.path, "application/json", c.body, c.header...)
		if res.Status != c.status || !strings.Contains(res.Body, c.says) {
			t.Errorf("%s: %d %s, want %d with %s", c.name, res.Status, res.Body, c.status, c.says)
		}
	}
	req, _ := http.NewRequest(http.MethodOptions, s.URL+"/e/", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	if res := s.Do(req); res.Status != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("preflight: %d, allow-origin %q", res.Status, res.Header.Get("Access-Control-Allow-Origin"))
	}
}

// posthog-js's start-up requests (handlers/remoteconfig.go).
func TestRemoteConfig(t *testing.T) {
	s := testserver.New(t)
	js := s.Get("/array/" + testserver.ProjectToken + "/config.js")
	if js.Status != http.StatusOK || !strings.Contains(js.Body, "_POSTHOG_REMOTE_CONFIG") || strings.Contains(js.Body, "surveys") {
		t.Errorf("config.js: %d %s", js.Status, js.Body)
	}
	if res := s.Get("/array/" + testserver.ProjectToken + "/config"); res.Status != http.StatusOK || !strings.Contains(res.Body, `"supportedCompression"`) {
		t.Errorf("config: %d %s", res.Status, res.Body)
	}
	if res := post(t, s, "/flags/?v=2", "application/json", `{"token":"`+testserver.ProjectToken+`"}`); res.Status != http.StatusOK || !strings.Contains(res.Body, `"flags":{}`) {
		t.Errorf("flags: %d %s", res.Status, res.Body)
	}
}

// Health endpoints (handlers/health.go).
func TestHealth(t *testing.T) {
	s := testserver.New(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if res := s.Get(path); res.Status != http.StatusOK {
			t.Errorf("%s: %d %s", path, res.Status, res.Body)
		}
	}
}

// Admission (handlers/admission.go): past its rate limit a project's events
// are refused with 429, Retry-After and PostHog's throttled shape.
func TestCaptureOverRateLimit(t *testing.T) {
	s := testserver.New(t, func(o *handlers.Options) {
		o.RateLimits = ratelimit.New()
		o.DefaultRateLimit = ratelimit.Limit{PerSecond: 0.001, Burst: 1}
	})
	event := `{"api_key":"` + testserver.ProjectToken + `","event":"$exception","distinct_id":"u","properties":{}}`
	if res := post(t, s, "/e/", "application/json", event); res.Status != http.StatusOK {
		t.Fatalf("first event: %d %s", res.Status, res.Body)
	}
	res := post(t, s, "/e/", "application/json", event)
	if res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" ||
		!strings.Contains(res.Body, `"type":"throttled_error"`) || !strings.Contains(res.Body, "events were not stored") {
		t.Errorf("second event: %d Retry-After %q %s", res.Status, res.Header.Get("Retry-After"), res.Body)
	}
}
