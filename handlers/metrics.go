package handlers

import (
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/metrics"
)

// Metrics answers GET /metrics in Prometheus's text format. With
// STACKLENS_METRICS_TOKEN set it needs `Authorization: Bearer <token>`;
// without, it answers only requests made directly from this machine.
func (h *Handlers) Metrics(c echo.Context) error {
	if err := h.metricsAllowed(c.Request()); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, metrics.ContentType)
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	c.Response().WriteHeader(http.StatusOK)
	if err := h.opts.Metrics.WriteText(c.Request().Context(), c.Response()); err != nil {
		h.log.Warn("metrics incomplete", "err", err)
	}
	return nil
}

func (h *Handlers) metricsAllowed(r *http.Request) error {
	if want := h.opts.MetricsToken; want != "" {
		if subtle.ConstantTimeCompare([]byte(bearerToken(r)), []byte(want)) == 1 {
			return nil
		}
		return &Error{Status: http.StatusUnauthorized, Code: "metrics_token_required",
			Detail: "GET /metrics needs the token set in STACKLENS_METRICS_TOKEN, sent as Authorization: Bearer <token>."}
	}
	// A proxy on this machine would make every visitor look local: a request
	// that came through one (it says so in X-Forwarded-For or Forwarded) is
	// not treated as local.
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host)
	forwarded := r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != ""
	if err == nil && ip != nil && ip.IsLoopback() && !forwarded {
		return nil
	}
	return &Error{Status: http.StatusForbidden, Code: "metrics_local_only",
		Detail: "GET /metrics answers only requests from this machine; set STACKLENS_METRICS_TOKEN to scrape it from elsewhere with Authorization: Bearer <token>."}
}

// countAccepted counts events a capture request committed to the inbox.
func (h *Handlers) countAccepted(source string, n int) {
	h.opts.Metrics.EventsAccepted(source, n)
}

// CaptureRejectionReason is the reason /metrics gives a refused capture
// request: the refusal's code when the handler returned one, else a code
// named for the status (Sentry's answers are written in Sentry's shape).
func CaptureRejectionReason(err error, status int) string {
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	switch {
	case status == http.StatusBadRequest:
		return "invalid_payload"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "invalid_api_key"
	case status == http.StatusRequestEntityTooLarge:
		return "payload_too_large"
	case status == http.StatusTooManyRequests:
		return "throttled"
	case status == http.StatusServiceUnavailable:
		return "unavailable"
	case status >= 500:
		return "server_error"
	}
	return strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
}
