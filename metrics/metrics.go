// Package metrics counts what stacklens does and writes it in Prometheus's
// text exposition format (version 0.0.4) for GET /metrics. It is written by
// hand: a few counters, one histogram and gauges read at scrape time do not
// need the Prometheus client library and its dependencies.
//
// A *Metrics is made once in main's wiring and handed to the parts that
// count; every method is safe on a nil *Metrics (it counts nothing), so
// tests and tools that do not care need not make one.
package metrics

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Capture sources: which SDK family's endpoint took the request.
const (
	SourcePostHog = "posthog"
	SourceSentry  = "sentry"
)

// Metrics holds stacklens's counters. Make it with New.
type Metrics struct {
	eventsAccepted   *counterVec // source
	captureRejected  *counterVec // source, status, reason
	eventsProcessed  *counterVec // outcome: stored | rejected
	batches          *counterVec // (none)
	batchSeconds     *histogram
	fetches          *counterVec // outcome
	retentionDeleted *counterVec // kind
	retentionRuns    *counterVec // outcome
	requests         *histogram  // group, class

	mu        sync.Mutex
	collected []collected // read at scrape time, in registration order
}

// New makes an empty set of metrics.
func New() *Metrics {
	return &Metrics{
		eventsAccepted: newCounterVec("stacklens_events_accepted_total",
			"Events answered 200 and committed to the inbox, by SDK family.", "source"),
		captureRejected: newCounterVec("stacklens_capture_rejected_total",
			"Capture requests refused, by SDK family, status and reason (invalid_payload, invalid_api_key, payload_too_large, throttled, inbox_full, disk_low, unavailable).",
			"source", "status", "reason"),
		eventsProcessed: newCounterVec("stacklens_events_processed_total",
			"Inbox rows the pipeline finished: stored as events, or rejected (kept in inbox_rejected).", "outcome"),
		batches: newCounterVec("stacklens_pipeline_batches_total", "Pipeline batches processed."),
		batchSeconds: newHistogram("stacklens_pipeline_batch_duration_seconds",
			"Time to process one pipeline batch (parse, symbolicate, group, store).", nil),
		fetches: newCounterVec("stacklens_symbol_set_fetches_total",
			"Source-map fetches by the worker, by outcome: stored, or the failure code.", "outcome"),
		retentionDeleted: newCounterVec("stacklens_retention_deleted_total",
			"Rows removed by retention, by kind (events, frame_resolutions, symbol_sets, inbox_rejected).", "kind"),
		retentionRuns: newCounterVec("stacklens_retention_runs_total",
			"Retention passes over all projects, by outcome (ok, failed).", "outcome"),
		requests: newHistogram("stacklens_http_request_duration_seconds",
			"HTTP request durations by route group and status class.", []string{"group", "class"}),
	}
}

// EventsAccepted counts n events committed to the inbox from source.
func (m *Metrics) EventsAccepted(source string, n int) {
	if m != nil && n > 0 {
		m.eventsAccepted.add(float64(n), source)
	}
}

// CaptureRejected counts one refused capture request.
func (m *Metrics) CaptureRejected(source string, status int, reason string) {
	if m != nil {
		m.captureRejected.add(1, source, strconv.Itoa(status), reason)
	}
}

// BatchProcessed counts one pipeline batch: events stored, rows rejected, and how long it took.
func (m *Metrics) BatchProcessed(stored, rejected int, took time.Duration) {
	if m == nil {
		return
	}
	m.batches.add(1)
	m.batchSeconds.observe(took.Seconds())
	if stored > 0 {
		m.eventsProcessed.add(float64(stored), "stored")
	}
	if rejected > 0 {
		m.eventsProcessed.add(float64(rejected), "rejected")
	}
}

// Fetched counts one source-map fetch by outcome ("stored" or a failure code).
func (m *Metrics) Fetched(outcome string) {
	if m != nil {
		m.fetches.add(1, outcome)
	}
}

// RetentionDeleted counts n rows of kind removed by retention.
func (m *Metrics) RetentionDeleted(kind string, n int64) {
	if m != nil && n > 0 {
		m.retentionDeleted.add(float64(n), kind)
	}
}

// RetentionRun counts one retention pass ("ok" or "failed").
func (m *Metrics) RetentionRun(outcome string) {
	if m != nil {
		m.retentionRuns.add(1, outcome)
	}
}

// Request records one HTTP request's duration under its route group and status.
func (m *Metrics) Request(group string, status int, took time.Duration) {
	if m != nil {
		m.requests.observe(took.Seconds(), group, strconv.Itoa(status/100)+"xx")
	}
}

// Sample is one value of a metric read at scrape time, with its label values
// in the order the metric's label names were given.
type Sample struct {
	Labels []string
	Value  float64
}

// Kind is a metric type of the exposition format.
type Kind string

const (
	Gauge   Kind = "gauge"
	Counter Kind = "counter"
)

type collected struct {
	kind   Kind
	name   string
	help   string
	labels []string
	read   func(ctx context.Context) ([]Sample, error)
}

// Collect registers a metric whose samples read is asked for at every
// scrape (values someone else keeps: the inbox's size, a cache's hits).
// Call it while wiring, before serving.
func (m *Metrics) Collect(kind Kind, name, help string, labels []string, read func(ctx context.Context) ([]Sample, error)) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.collected = append(m.collected, collected{kind: kind, name: name, help: help, labels: labels, read: read})
}

// WriteText writes every metric in the text exposition format. A collector
// that fails is left out (and named in the returned error) so the rest
// still reaches Prometheus.
func (m *Metrics) WriteText(ctx context.Context, w io.Writer) error {
	if m == nil {
		return nil
	}
	var b strings.Builder
	for _, c := range []*counterVec{m.eventsAccepted, m.captureRejected, m.eventsProcessed, m.batches, m.fetches, m.retentionDeleted, m.retentionRuns} {
		c.write(&b)
	}
	m.batchSeconds.write(&b)
	m.requests.write(&b)
	m.mu.Lock()
	cs := slices.Clone(m.collected)
	m.mu.Unlock()
	var failed []string
	for _, c := range cs {
		samples, err := c.read(ctx)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", c.name, err))
			continue
		}
		header(&b, c.name, c.help, c.kind)
		for _, s := range samples {
			sample(&b, c.name, c.labels, s.Labels, s.Value)
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	if len(failed) > 0 {
		return fmt.Errorf("metrics left out: %s", strings.Join(failed, "; "))
	}
	return nil
}

// ContentType is the exposition format's media type.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// counterVec is a counter with labels; values keyed by the joined label values.
type counterVec struct {
	name, help string
	labels     []string
	mu         sync.Mutex
	values     map[string]float64
}

func newCounterVec(name, help string, labels ...string) *counterVec {
	return &counterVec{name: name, help: help, labels: labels, values: map[string]float64{}}
}

const labelSep = "\xff"

func (c *counterVec) add(v float64, labelValues ...string) {
	key := strings.Join(labelValues, labelSep)
	c.mu.Lock()
	c.values[key] += v
	c.mu.Unlock()
}

func (c *counterVec) write(b *strings.Builder) {
	c.mu.Lock()
	keys := make([]string, 0, len(c.values))
	for k := range c.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	values := make([]float64, len(keys))
	for i, k := range keys {
		values[i] = c.values[k]
	}
	c.mu.Unlock()
	header(b, c.name, c.help, Counter)
	if len(c.labels) == 0 && len(keys) == 0 {
		sample(b, c.name, nil, nil, 0) // an unlabelled counter exists from the start
	}
	for i, k := range keys {
		var lv []string
		if len(c.labels) > 0 {
			lv = strings.Split(k, labelSep)
		}
		sample(b, c.name, c.labels, lv, values[i])
	}
}

// requestBuckets cover a cached page (a millisecond) to a slow upload.
var requestBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// histogram is a histogram with labels and fixed buckets.
type histogram struct {
	name, help string
	labels     []string
	mu         sync.Mutex
	series     map[string]*series
}

type series struct {
	counts []uint64 // per bucket, not cumulative
	count  uint64
	sum    float64
}

func newHistogram(name, help string, labels []string) *histogram {
	return &histogram{name: name, help: help, labels: labels, series: map[string]*series{}}
}

func (h *histogram) observe(v float64, labelValues ...string) {
	key := strings.Join(labelValues, labelSep)
	i := sort.SearchFloat64s(requestBuckets, v) // first bucket with bound >= v
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.series[key]
	if s == nil {
		s = &series{counts: make([]uint64, len(requestBuckets))}
		h.series[key] = s
	}
	if i < len(requestBuckets) {
		s.counts[i]++
	}
	s.count++
	s.sum += v
}

func (h *histogram) write(b *strings.Builder) {
	h.mu.Lock()
	defer h.mu.Unlock()
	keys := make([]string, 0, len(h.series))
	for k := range h.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	header(b, h.name, h.help, "histogram")
	names := append(slices.Clone(h.labels), "le")
	for _, k := range keys {
		s := h.series[k]
		var lv []string
		if len(h.labels) > 0 {
			lv = strings.Split(k, labelSep)
		}
		var cumulative uint64
		for i, bound := range requestBuckets {
			cumulative += s.counts[i]
			sample(b, h.name+"_bucket", names, append(slices.Clone(lv), formatValue(bound)), float64(cumulative))
		}
		sample(b, h.name+"_bucket", names, append(slices.Clone(lv), "+Inf"), float64(s.count))
		sample(b, h.name+"_sum", h.labels, lv, s.sum)
		sample(b, h.name+"_count", h.labels, lv, float64(s.count))
	}
}

func header(b *strings.Builder, name, help string, kind Kind) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, kind)
}

func sample(b *strings.Builder, name string, labelNames, labelValues []string, v float64) {
	b.WriteString(name)
	if len(labelNames) > 0 {
		b.WriteByte('{')
		for i, n := range labelNames {
			if i > 0 {
				b.WriteByte(',')
			}
			val := ""
			if i < len(labelValues) {
				val = labelValues[i]
			}
			b.WriteString(n)
			b.WriteString(`="`)
			b.WriteString(escapeLabel(val))
			b.WriteByte('"')
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(formatValue(v))
	b.WriteByte('\n')
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
func escapeLabel(s string) string { return labelEscaper.Replace(s) }
