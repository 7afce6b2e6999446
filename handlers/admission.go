package handlers

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/ratelimit"
)

// projectBurstSeconds is how many seconds' worth of its own limit a project
// may send at once: SDKs flush in bursts (a page's errors, a batch queue).
const projectBurstSeconds = 10

// rateLimitOf is the capture limit that applies to p: its own setting, else the server's default.
func (h *Handlers) rateLimitOf(p db.Project) ratelimit.Limit {
	if p.RateLimit == nil {
		return h.opts.DefaultRateLimit
	}
	perSecond := float64(*p.RateLimit)
	return ratelimit.Limit{PerSecond: perSecond, Burst: perSecond * projectBurstSeconds}
}

// refuseOverRateLimit refuses with 429 and Retry-After when n more events
// would take project p over its rate limit. It reports whether it refused;
// the events are then not stored.
func (h *Handlers) refuseOverRateLimit(c echo.Context, p db.Project, n int) (bool, error) {
	if h.opts.RateLimits == nil {
		return false, nil
	}
	limit := h.rateLimitOf(p)
	ok, wait := h.opts.RateLimits.Take(p.ID, limit, n)
	if ok {
		return false, nil
	}
	seconds := retryAfterSeconds(wait)
	return true, &Error{Status: http.StatusTooManyRequests, Code: "throttled", RetryAfter: seconds,
		Detail: fmt.Sprintf("Project %q sends more than its limit of %s events per second (bursts of %s); these %d events were not stored. Retry in %d s, or raise the limit in Project settings.",
			p.Name, formatCount(limit.PerSecond), formatCount(math.Max(limit.Burst, 1)), n, seconds)}
}

// readCaptureBody reads an SDK request's body, at most MaxBodyBytes of it;
// a larger one is refused 413 without reading further.
func (h *Handlers) readCaptureBody(c echo.Context) ([]byte, *Error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, h.opts.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, apiError(http.StatusRequestEntityTooLarge, "payload_too_large",
				fmt.Sprintf("The request body is larger than the %d bytes this server accepts.", h.opts.MaxBodyBytes))
		}
		return nil, apiError(http.StatusBadRequest, "invalid_body", "The request body could not be read: "+err.Error())
	}
	return body, nil
}

// admit stores the events of one capture request (PostHog's or Sentry's,
// named by source for /metrics) after the checks every SDK path shares:
// the project's rate limit (429), then the inbox's room (503). When it
// returns nil the events are on disk, and the request may be answered 200.
func (h *Handlers) admit(c echo.Context, source string, p db.Project, rows []db.InboxRow) error {
	if len(rows) == 0 {
		return nil
	}
	if limited, err := h.refuseOverRateLimit(c, p, len(rows)); limited {
		return err
	}
	if err := h.inbox.Append(c.Request().Context(), rows); err != nil {
		if refused, ok := db.IsRefused(err); ok {
			return answerRefused(refused)
		}
		// An *Error is an expected refusal, which web's handler does not log.
		h.log.Error("inbox append failed", "source", source, "project", p.ID, "events", len(rows), "err", err)
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", RetryAfter: 5,
			Detail: "The server could not store the events right now; retry shortly.", Internal: err}
	}
	h.countAccepted(source, len(rows))
	h.worker.Notify()
	return nil
}

// answerRefused is the refusal of an append the inbox refused (full, or the disk nearly so): 503 with Retry-After.
func answerRefused(r *db.RefusedError) error {
	return &Error{Status: http.StatusServiceUnavailable, Code: r.Reason, Detail: r.Detail,
		RetryAfter: retryAfterSeconds(r.RetryAfter), Internal: r}
}

// RefuseCaptureWhenFull answers capture requests 503 before their body is
// read while the inbox is full or the disk nearly so: under a flood, decoding
// bodies that cannot be stored would only burn the CPU the pipeline needs.
func (h *Handlers) RefuseCaptureWhenFull(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method != http.MethodOptions {
			if r, refused := db.IsRefused(h.inbox.Refusal()); refused {
				return answerRefused(r)
			}
		}
		return next(c)
	}
}

// retryAfterSeconds rounds a wait up to whole seconds, at least one.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

func formatCount(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// rateLimitField is p's own rate limit as the settings form shows it.
func rateLimitField(p db.Project) string {
	if p.RateLimit == nil {
		return ""
	}
	return strconv.FormatInt(*p.RateLimit, 10)
}

// defaultRateLimitText describes the server's default limit on the settings page.
func (h *Handlers) defaultRateLimitText() string {
	if h.opts.RateLimits == nil || h.opts.DefaultRateLimit.Unlimited() {
		return "no limit"
	}
	return formatCount(h.opts.DefaultRateLimit.PerSecond) + " per second"
}

// formRateLimit reads the settings form's rate_limit field: empty goes back
// to the server's default (nil), a whole number 0 or more is the project's
// own. sent is false for a form without the field, which leaves the limit
// as it is.
func formRateLimit(c echo.Context) (limit *int64, sent bool, err error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, false, echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.").SetInternal(err)
	}
	values, sent := form["rate_limit"]
	if !sent {
		return nil, false, nil
	}
	if raw := strings.TrimSpace(values[0]); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 || n > maxRateLimit {
			return nil, false, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf(
				"The rate limit must be a whole number of events per second from 0 (no limit) to %d, or empty for the server's default; %q is not. Nothing was saved.", maxRateLimit, raw))
		}
		limit = &n
	}
	return limit, true, nil
}

// maxRateLimit keeps a typed limit (times its burst) far from overflow.
const maxRateLimit = 1_000_000_000
