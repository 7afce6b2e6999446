package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/internal/promtext"
)

// scrape fetches /metrics (with headers) and returns the status and body.
func scrape(t *testing.T, s *server, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read /metrics: %v", err)
	}
	if resp.StatusCode == http.StatusOK && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Errorf("/metrics Content-Type %q, want Prometheus's text/plain; version=0.0.4", resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, string(b)
}

// metricsOf scrapes /metrics, checks the whole answer against the text
// format and returns its samples.
func metricsOf(t *testing.T, s *server, headers map[string]string) promtext.Samples {
	t.Helper()
	status, body := scrape(t, s, headers)
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: status %d: %s", status, truncate(body, 500))
	}
	samples, err := promtext.Parse(body)
	if err != nil {
		t.Fatalf("/metrics is not Prometheus's text format: %v\n%s", err, truncate(body, 4000))
	}
	return samples
}

func sentryStoreBody(t *testing.T, typ string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"event_id": strings.ReplaceAll(newUUID(), "-", ""), "platform": "node",
		"exception": map[string]any{"values": []any{map[string]any{"type": typ, "value": "from sentry",
			"stacktrace": map[string]any{"frames": []any{map[string]any{"filename": "app.js", "function": "f", "lineno": 1, "in_app": true, "context_line": "f()"}}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMetricsCountCaptureOutcomes sends accepted and refused events through
// both SDK families' endpoints and reads the counts back from /metrics.
func TestMetricsCountCaptureOutcomes(t *testing.T) {
	s := startServer(t, serverOptions{MaxBodyBytes: 64 << 10, Env: []string{
		"STACKLENS_RATE_LIMIT=1", "STACKLENS_RATE_LIMIT_BURST=10", "STACKLENS_INBOX_MAX_EVENTS=20"}})
	b := newBrowser(t, s)
	b.login(t)
	token2 := createProject(t, b, "Metrics second")
	token3 := createProject(t, b, "Metrics third")
	missing := httptest.NewServer(http.NotFoundHandler()) // the minified file of one frame is not there
	defer missing.Close()

	before := metricsOf(t, s, nil)
	if v := before.Sum("stacklens_events_accepted_total"); v != 0 {
		t.Fatalf("accepted before any event: %v", v)
	}
	json := map[string]string{"Content-Type": "application/json"}
	batch := func(token string, n int, typ string) []byte {
		events := make([]captureEvent, n)
		for i := range events {
			events[i] = newException(typ, "metrics test")
		}
		return batchBody(t, token, events...)
	}
	expect := func(what string, status, want int, body []byte) {
		t.Helper()
		if status != want {
			t.Fatalf("%s: status %d, want %d: %s", what, status, want, truncate(string(body), 300))
		}
	}
	// Project 1: its burst of 10 accepted, the next 10 throttled.
	st, body := postCapture(t, s, "/batch/", json, batch(s.Token, 10, "MetricsError"))
	expect("10 events", st, http.StatusOK, body)
	st, body = postCapture(t, s, "/batch/", json, batch(s.Token, 10, "MetricsError"))
	expect("10 more events at once", st, http.StatusTooManyRequests, body)
	st, body = postCapture(t, s, "/batch/", json, []byte("this is not JSON"))
	expect("a body that is not JSON", st, http.StatusBadRequest, body)
	st, body = postCapture(t, s, "/e/", json, batch("phc_nobody_has_this", 1, "MetricsError"))
	expect("an unknown token", st, http.StatusUnauthorized, body)
	st, body = postCapture(t, s, "/batch/", json, []byte(`{"api_key":"`+s.Token+`","batch":[`+strings.Repeat(" ", 70<<10)+`]}`))
	expect("a body over 64 KiB", st, http.StatusRequestEntityTooLarge, body)
	// Project 2: one Sentry event, one PostHog event whose minified file answers 404.
	st, body = postCapture(t, s, "/api/2/store/?sentry_key="+token2, json, sentryStoreBody(t, "SentryMetricsError"))
	expect("a Sentry event", st, http.StatusOK, body)
	fetching := newException("FetchMetricsError", "needs a map")
	fetching.Properties["$exception_list"].([]any)[0].(map[string]any)["stacktrace"] = map[string]any{"type": "raw", "frames": []any{
		map[string]any{"platform": "web:javascript", "filename": missing.URL + "/assets/app.min.js", "function": "a", "lineno": 1, "colno": 10, "in_app": true}}}
	st, body = postCapture(t, s, "/batch/", json, batchBody(t, token2, fetching))
	expect("an event with a minified frame", st, http.StatusOK, body)
	st, body = postCapture(t, s, "/api/2/store/?sentry_key=phc_nobody_has_this", json, sentryStoreBody(t, "SentryMetricsError"))
	expect("a Sentry event with an unknown key", st, http.StatusForbidden, body)
	st, body = postCapture(t, s, "/api/2/store/?sentry_key="+token2, json, []byte("{not json"))
	expect("a Sentry body that is not JSON", st, http.StatusBadRequest, body)
	// Project 3: a full bucket takes 21 events, more than the inbox's 20 may hold.
	st, body = postCapture(t, s, "/batch/", json, batch(token3, 21, "TooManyError"))
	expect("21 events into an inbox of 20", st, http.StatusServiceUnavailable, body)

	waitForTotal(t, newAPI(s), 10)
	waitForTotal(t, projectAPI(s, 2), 2)
	var got promtext.Samples
	waitFor(t, "the pipeline's counters to reach 12 stored events and one fetch", func(context.Context) (bool, string, error) {
		got = metricsOf(t, s, nil)
		stored, fetches := got.Sum("stacklens_events_processed_total", `outcome="stored"`), got.Sum("stacklens_symbol_set_fetches_total")
		return stored == 12 && fetches == 1, fmt.Sprintf("stored %v, fetches %v", stored, fetches), nil
	})
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"stacklens_events_accepted_total", []string{`source="posthog"`}, 11},
		{"stacklens_events_accepted_total", []string{`source="sentry"`}, 1},
		{"stacklens_capture_rejected_total", []string{`source="posthog"`, `status="429"`, `reason="throttled"`}, 1},
		{"stacklens_capture_rejected_total", []string{`source="posthog"`, `status="400"`, `reason="invalid_payload"`}, 1},
		{"stacklens_capture_rejected_total", []string{`source="posthog"`, `status="401"`, `reason="invalid_api_key"`}, 1},
		{"stacklens_capture_rejected_total", []string{`source="posthog"`, `status="413"`, `reason="payload_too_large"`}, 1},
		{"stacklens_capture_rejected_total", []string{`source="posthog"`, `status="503"`, `reason="inbox_full"`}, 1},
		{"stacklens_capture_rejected_total", []string{`source="posthog"`}, 5},
		{"stacklens_capture_rejected_total", []string{`source="sentry"`, `status="403"`, `reason="invalid_api_key"`}, 1},
		{"stacklens_capture_rejected_total", []string{`source="sentry"`, `status="400"`, `reason="invalid_payload"`}, 1},
		{"stacklens_capture_rejected_total", []string{`source="sentry"`}, 2},
		{"stacklens_events_processed_total", []string{`outcome="rejected"`}, 0},
		{"stacklens_symbol_set_fetches_total", []string{`outcome="http_status"`}, 1},
		{"stacklens_symbol_set_fetches_total", nil, 1},
		{"stacklens_inbox_events", nil, 0},
		{"stacklens_inbox_bytes", nil, 0},
		{"stacklens_processing_lag_seconds", nil, 0},
		// Capture requests are timed: 7 PostHog and 3 Sentry requests; 4 refused PostHog and 2 refused Sentry ones are 4xx.
		{"stacklens_http_request_duration_seconds_count", []string{`group="capture"`}, 7},
		{"stacklens_http_request_duration_seconds_count", []string{`group="capture"`, `class="4xx"`}, 4},
		{"stacklens_http_request_duration_seconds_count", []string{`group="sentry"`, `class="4xx"`}, 2},
		{"stacklens_http_request_duration_seconds_count", []string{`group="sentry"`, `class="2xx"`}, 1},
	} {
		if v := got.Sum(c.name, c.labels...); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
	if t.Failed() {
		_, all := scrape(t, s, nil)
		t.Log(all)
	}
	for _, cache := range []string{"parsed_maps", "frame_resolutions", "crash_sites"} {
		if _, ok := got[`stacklens_cache_lookups_total{cache="`+cache+`",result="hit"}`]; !ok {
			t.Errorf("no hit count of the %s cache", cache)
		}
	}
	if got.Sum("stacklens_http_request_duration_seconds_count", `group="pages"`) == 0 {
		t.Errorf("page requests (sign-in, settings) were not timed")
	}

	// Through a proxy on this machine a request is not local: refused.
	if st, body := scrape(t, s, map[string]string{"X-Forwarded-For": "203.0.113.9"}); st != http.StatusForbidden || !strings.Contains(body, "STACKLENS_METRICS_TOKEN") {
		t.Errorf("/metrics through a proxy without a token: status %d %s, want 403 naming STACKLENS_METRICS_TOKEN", st, truncate(body, 300))
	}
}

// TestMetricsToken: with STACKLENS_METRICS_TOKEN set, /metrics needs it, from anywhere.
func TestMetricsToken(t *testing.T) {
	const token = "metrics-e2e-secret"
	s := startServer(t, serverOptions{Env: []string{"STACKLENS_METRICS_TOKEN=" + token}})
	for _, h := range []map[string]string{nil, {"Authorization": "Bearer wrong"}} {
		if st, body := scrape(t, s, h); st != http.StatusUnauthorized || !strings.Contains(body, "STACKLENS_METRICS_TOKEN") {
			t.Errorf("/metrics with %v: status %d %s, want 401 naming STACKLENS_METRICS_TOKEN", h, st, truncate(body, 300))
		}
	}
	got := metricsOf(t, s, map[string]string{"Authorization": "Bearer " + token, "X-Forwarded-For": "203.0.113.9"})
	if _, ok := got["stacklens_inbox_events"]; !ok {
		t.Errorf("no stacklens_inbox_events with the token")
	}
}
