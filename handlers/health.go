package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Healthz is liveness: 200 while the process runs and the database answers a
// query that reads it. It stays 200 when capture is refused (disk full, inbox
// full): restarting the process would not help; /readyz tells that apart.
func (h *Handlers) Healthz(c echo.Context) error {
	if err := h.health.Ping(c.Request().Context()); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "database_unusable", "detail": err.Error()})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readiness is /readyz's answer.
type readiness struct {
	Status string `json:"status"` // "ready" or "not_ready"
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
	// What was measured, so an operator sees how close to the limits it runs.
	InboxEvents    int64 `json:"inbox_events"`
	InboxBytes     int64 `json:"inbox_bytes"`
	InboxMaxEvents int64 `json:"inbox_max_events"`
	InboxMaxBytes  int64 `json:"inbox_max_bytes"`
	// The disk under the database, when this process can measure it (not
	// on PostgreSQL, whose disk belongs to the database server).
	FreeDiskBytes   *uint64 `json:"free_disk_bytes,omitempty"`
	MinFreeDisk     *uint64 `json:"min_free_disk_bytes,omitempty"`
	WriterRoundTrip string  `json:"writer_round_trip,omitempty"`
}

// Readyz is readiness: 200 when capture can be accepted now (inbox not full,
// disk writable and above the free-space threshold, the writer commits in
// time, the database answers); else 503 with a JSON reason.
func (h *Handlers) Readyz(c echo.Context) error {
	ctx := c.Request().Context()
	r := h.inbox.Ready(ctx)
	out := readiness{Status: "ready", Reason: r.Reason, Detail: r.Detail,
		InboxEvents: r.Inbox.Events, InboxBytes: r.Inbox.Bytes, InboxMaxEvents: r.Limits.MaxEvents, InboxMaxBytes: r.Limits.MaxBytes}
	if r.DiskMeasured {
		out.FreeDiskBytes, out.MinFreeDisk = &r.FreeDiskBytes, &r.Limits.MinFreeDiskBytes
	}
	if r.WriterRoundTrip > 0 {
		out.WriterRoundTrip = r.WriterRoundTrip.String()
	}
	if r.Ready {
		if err := h.health.Ping(ctx); err != nil {
			out.Reason, out.Detail = "database_unusable", "The database does not answer: "+err.Error()
			r.Ready = false
		}
	}
	if !r.Ready {
		out.Status = "not_ready"
		return c.JSON(http.StatusServiceUnavailable, out)
	}
	return c.JSON(http.StatusOK, out)
}
