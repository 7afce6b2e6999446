package metrics

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/internal/promtext"
)

func TestWriteTextParsesAndCounts(t *testing.T) {
	m := New()
	m.EventsAccepted(SourcePostHog, 3)
	m.EventsAccepted(SourcePostHog, 2)
	m.EventsAccepted(SourceSentry, 1)
	m.CaptureRejected(SourcePostHog, 429, "throttled")
	m.CaptureRejected(SourceSentry, 400, `odd "reason"`+"\n")
	m.BatchProcessed(7, 1, 30*time.Millisecond)
	m.Request("pages", 200, 3*time.Millisecond)
	m.Request("pages", 404, 2*time.Second)
	m.Request("pages", 200, time.Minute) // past the last bucket: only +Inf
	m.Collect(Gauge, "stacklens_test_depth", "A gauge read at scrape time.", []string{"kind"},
		func(context.Context) ([]Sample, error) {
			return []Sample{{Labels: []string{"events"}, Value: 12}, {Labels: []string{"bytes"}, Value: 3400}}, nil
		})
	m.Collect(Gauge, "stacklens_test_broken", "Fails.", nil, func(context.Context) ([]Sample, error) {
		return nil, errors.New("no database")
	})
	var b strings.Builder
	err := m.WriteText(context.Background(), &b)
	if err == nil || !strings.Contains(err.Error(), "stacklens_test_broken") {
		t.Errorf("WriteText error %v, want one naming the failed collector", err)
	}
	got, perr := promtext.Parse(b.String())
	if perr != nil {
		t.Fatalf("output does not parse: %v\n%s", perr, b.String())
	}
	for key, want := range map[string]float64{
		`stacklens_events_accepted_total{source="posthog"}`:                                        5,
		`stacklens_events_accepted_total{source="sentry"}`:                                         1,
		`stacklens_capture_rejected_total{source="posthog",status="429",reason="throttled"}`:       1,
		`stacklens_capture_rejected_total{source="sentry",status="400",reason="odd \"reason\"\n"}`: 1,
		`stacklens_events_processed_total{outcome="stored"}`:                                       7,
		`stacklens_events_processed_total{outcome="rejected"}`:                                     1,
		`stacklens_pipeline_batches_total`:                                                         1,
		`stacklens_http_request_duration_seconds_bucket{group="pages",class="2xx",le="0.005"}`:     1,
		`stacklens_http_request_duration_seconds_bucket{group="pages",class="2xx",le="30"}`:        1,
		`stacklens_http_request_duration_seconds_bucket{group="pages",class="2xx",le="+Inf"}`:      2,
		`stacklens_http_request_duration_seconds_count{group="pages",class="4xx"}`:                 1,
		`stacklens_http_request_duration_seconds_bucket{group="pages",class="4xx",le="1"}`:         0,
		`stacklens_http_request_duration_seconds_bucket{group="pages",class="4xx",le="2.5"}`:       1,
		`stacklens_test_depth{kind="bytes"}`:                                                       3400,
		`stacklens_retention_deleted_total`:                                                        -1, // absent until something is deleted
	} {
		v, ok := got[key]
		if want == -1 {
			if ok {
				t.Errorf("%s present (%v) before anything was counted", key, v)
			}
			continue
		}
		if !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", key, v, ok, want)
		}
	}
	if strings.Contains(b.String(), "stacklens_test_broken ") {
		t.Errorf("a failed collector's metric was written")
	}
	if s := got.Sum("stacklens_events_accepted_total"); s != 6 {
		t.Errorf("Sum of accepted = %v, want 6", s)
	}
}

func TestNilMetricsCountNothing(t *testing.T) {
	var m *Metrics
	m.EventsAccepted(SourcePostHog, 1)
	m.CaptureRejected(SourceSentry, 503, "inbox_full")
	m.BatchProcessed(1, 0, time.Second)
	m.Request("api", 200, time.Millisecond)
	m.Collect(Gauge, "x", "y", nil, nil)
	if err := m.WriteText(context.Background(), &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
}

func TestParseRefusesMalformed(t *testing.T) {
	for name, text := range map[string]string{
		"no TYPE":     "# HELP a_total x\na_total 1\n",
		"bad label":   "# HELP a x\n# TYPE a gauge\na{b=c} 1\n",
		"bad value":   "# HELP a x\n# TYPE a gauge\na one\n",
		"no value":    "# HELP a x\n# TYPE a gauge\na\n",
		"twice":       "# HELP a x\n# TYPE a gauge\na 1\na 2\n",
		"empty line":  "# HELP a x\n# TYPE a gauge\n\na 1\n",
		"bad type":    "# HELP a x\n# TYPE a meter\na 1\n",
		"space label": "# HELP a x\n# TYPE a gauge\na{b=\"c\", d=\"e\"} 1\n",
	} {
		if _, err := promtext.Parse(text); err == nil {
			t.Errorf("%s: parsed without error:\n%s", name, text)
		}
	}
}
