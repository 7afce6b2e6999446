package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/handlers"
	"github.com/stacklens/stacklens/internal/lru"
	"github.com/stacklens/stacklens/metrics"
	"github.com/stacklens/stacklens/symbols"
)

// statusOf is the status a request is answered with: what was written, else
// the refusal's when the handler returned an error (web's error handler
// writes it afterwards).
func statusOf(c echo.Context, err error) int {
	if c.Response().Committed {
		return c.Response().Status
	}
	if err != nil {
		e, _ := handlers.AsError(err, c.Request().Method)
		return e.Status
	}
	if s := c.Response().Status; s != 0 {
		return s
	}
	return http.StatusOK
}

// observeRequests times every request under its route group and status
// class, and logs it at debug level (route pattern, status, duration, bytes
// written); failures are logged by the error handler.
func observeRequests(m *metrics.Metrics, log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			took := time.Since(start)
			status, group := statusOf(c, err), routeGroup(c.Path())
			m.Request(group, status, took)
			if log.Enabled(c.Request().Context(), slog.LevelDebug) {
				log.Debug("request", "method", c.Request().Method, "route", c.Path(), "group", group, "status", status,
					"duration_ms", float64(took.Microseconds())/1000, "bytes_in", c.Request().ContentLength, "bytes_out", c.Response().Size)
			}
			return err
		}
	}
}

// routeGroup names the part of stacklens a route belongs to, from its
// pattern in the route table (never the raw path, which would make a label
// value per URL).
func routeGroup(route string) string {
	switch {
	case route == "" || route == "/*" || strings.HasSuffix(route, "/*") && !strings.HasPrefix(route, "/static/"):
		return "unmatched"
	case strings.HasPrefix(route, "/api/:project_id/"):
		return "sentry"
	case strings.Contains(route, "/symbol_sets") || strings.HasPrefix(route, "/uploads/") || strings.HasPrefix(route, "/downloads/"):
		return "symbol_set_api"
	case strings.HasPrefix(route, "/api/"):
		return "api"
	case strings.HasPrefix(route, "/static/"):
		return "static"
	case route == "/healthz" || route == "/readyz" || route == "/metrics":
		return "health"
	case strings.HasPrefix(route, "/array/") || strings.HasPrefix(route, "/flags") || strings.HasPrefix(route, "/decide"):
		return "sdk_config"
	case isCaptureRoute(route):
		return "capture"
	}
	return "pages"
}

func isCaptureRoute(route string) bool {
	for _, p := range []string{"/e", "/i/v0/e", "/i/v1/analytics/events", "/batch", "/capture", "/track"} {
		if route == p || route == p+"/" {
			return true
		}
	}
	return false
}

// countRejections counts capture requests answered with an error status, by
// reason; it goes outside the admission checks so their refusals count too.
func countRejections(m *metrics.Metrics, source string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			if c.Request().Method == http.MethodOptions {
				return err
			}
			if status := statusOf(c, err); status >= 400 {
				m.CaptureRejected(source, status, handlers.CaptureRejectionReason(err, status))
			}
			return err
		}
	}
}

// InboxStats is what /metrics reads about the inbox.
type InboxStats interface {
	// InboxLoad is the inbox's size, from counters (no query).
	InboxLoad() db.InboxLoad
	// OldestInboxRow tells when the row that has waited longest was
	// received; ok is false when the inbox is empty.
	OldestInboxRow(ctx context.Context) (received time.Time, ok bool, err error)
}

// Caches is what /metrics reads about the storage's own caches.
type Caches interface {
	// CacheStats reports the storage's caches by name (see cacheNames).
	CacheStats() map[string]lru.Stats
}

// collectGauges makes /metrics read what others keep: the inbox's size
// (from the writer's counters), how long its oldest row has waited, and the
// lookups in the storage's and the resolver's caches.
func collectGauges(m *metrics.Metrics, d InboxStats, caches Caches, resolver *symbols.Resolver) {
	m.Collect(metrics.Gauge, "stacklens_inbox_events", "Events accepted and waiting for the pipeline.", nil,
		func(context.Context) ([]metrics.Sample, error) {
			return []metrics.Sample{{Value: float64(d.InboxLoad().Events)}}, nil
		})
	m.Collect(metrics.Gauge, "stacklens_inbox_bytes", "Payload bytes of the events waiting for the pipeline.", nil,
		func(context.Context) ([]metrics.Sample, error) {
			return []metrics.Sample{{Value: float64(d.InboxLoad().Bytes)}}, nil
		})
	m.Collect(metrics.Gauge, "stacklens_processing_lag_seconds",
		"How long the oldest event waiting in the inbox has waited (0 when the inbox is empty).", nil,
		func(ctx context.Context) ([]metrics.Sample, error) {
			oldest, ok, err := d.OldestInboxRow(ctx)
			if err != nil {
				return nil, err
			}
			lag := 0.0
			if ok {
				lag = max(0, time.Since(oldest).Seconds())
			}
			return []metrics.Sample{{Value: lag}}, nil
		})
	allCaches := func() map[string]lru.Stats {
		all := map[string]lru.Stats{}
		for name, st := range caches.CacheStats() {
			all[name] = st
		}
		if resolver != nil {
			for name, st := range resolver.CacheStats() {
				all[name] = st
			}
		}
		return all
	}
	m.Collect(metrics.Counter, "stacklens_cache_lookups_total",
		"Lookups in the caches by result (hit, miss); hit rate = hits / (hits + misses).",
		[]string{"cache", "result"},
		func(context.Context) ([]metrics.Sample, error) {
			stats := allCaches()
			var out []metrics.Sample
			for _, name := range cacheNames {
				if st, ok := stats[name]; ok {
					out = append(out, metrics.Sample{Labels: []string{name, "hit"}, Value: float64(st.Hits)},
						metrics.Sample{Labels: []string{name, "miss"}, Value: float64(st.Misses)})
				}
			}
			return out, nil
		})
	m.Collect(metrics.Gauge, "stacklens_cache_bytes", "Bytes held by each cache.", []string{"cache"},
		func(context.Context) ([]metrics.Sample, error) {
			stats := allCaches()
			var out []metrics.Sample
			for _, name := range cacheNames {
				if st, ok := stats[name]; ok {
					out = append(out, metrics.Sample{Labels: []string{name}, Value: float64(st.Bytes)})
				}
			}
			return out, nil
		})
}

// cacheNames orders the caches on /metrics: the resolver's, then the storage's.
var cacheNames = []string{"parsed_maps", "frame_resolutions", "symbol_set_records", "highlighted_sources", "crash_sites"}
