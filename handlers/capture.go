package handlers

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/metrics"
	"github.com/stacklens/stacklens/pipeline"
)

// Capture takes PostHog capture requests (/e/, /i/v0/e/, /batch/, /capture/, /track/).
func (h *Handlers) Capture(c echo.Context) error {
	return h.capture(c, false)
}

// CaptureV1 takes posthog-node's opt-in /i/v1/analytics/events, authenticated by a Bearer token.
func (h *Handlers) CaptureV1(c echo.Context) error {
	return h.capture(c, true)
}

func (h *Handlers) capture(c echo.Context, v1 bool) error {
	req := c.Request()
	received := time.Now()
	body, readErr := h.readCaptureBody(c)
	if readErr != nil {
		return readErr
	}
	in := event.CaptureInput{
		Method:          req.Method,
		ContentType:     req.Header.Get(echo.HeaderContentType),
		ContentEncoding: req.Header.Get(echo.HeaderContentEncoding),
		Query:           req.URL.Query(),
		Body:            body,
		BearerToken:     bearerToken(req),
	}
	// The token decides the project before the batch is split: a huge body
	// with an unknown token is refused having read only as far as its token.
	decoded, err := event.OpenPostHog(in, h.opts.EventLimits)
	if err != nil {
		return decodeFailure(err)
	}
	token, err := decoded.Token()
	if err != nil {
		return decodeFailure(err)
	}
	if token == "" { // no events at all
		return captureOK(c, v1)
	}
	project, err := h.ingest.ProjectByToken(req.Context(), token)
	if errors.Is(err, db.ErrNotFound) {
		return apiError(http.StatusUnauthorized, "invalid_api_key",
			"The project token is not known to this server. Copy the token from Project settings.")
	}
	if err != nil {
		return err
	}
	raws, err := decoded.Events(received)
	if err != nil {
		return decodeFailure(err)
	}
	if len(raws) == 0 {
		return captureOK(c, v1)
	}
	if all, err := event.Tokens(raws); err != nil {
		return decodeFailure(err)
	} else if all != token {
		return apiError(http.StatusUnauthorized, "invalid_api_key", "The request names several project tokens; send one project's events per request.")
	}
	rows := make([]db.InboxRow, 0, len(raws))
	for _, r := range raws {
		if r.Name != "$exception" {
			continue
		}
		// UUID: the client's, or (when it sent none) a random one Append assigns before we answer.
		rows = append(rows, db.InboxRow{ProjectID: project.ID, Format: pipeline.FormatPostHog, ReceivedAt: received, Payload: r.JSON, UUID: r.UUID})
	}
	if err := h.admit(c, metrics.SourcePostHog, project, rows); err != nil {
		return err
	}
	return captureOK(c, v1)
}

func captureOK(c echo.Context, v1 bool) error {
	if v1 {
		return c.JSON(http.StatusOK, map[string]any{"results": map[string]any{}})
	}
	return c.JSON(http.StatusOK, map[string]int{"status": 1})
}

func decodeFailure(err error) error {
	var de *event.Error
	if errors.As(err, &de) {
		code := "invalid_payload"
		switch de.Status {
		case http.StatusRequestEntityTooLarge:
			code = "payload_too_large"
		case http.StatusUnauthorized:
			code = "invalid_api_key"
		}
		return apiError(de.Status, code, de.Msg)
	}
	return apiError(http.StatusBadRequest, "invalid_payload", "The request could not be decoded: "+err.Error())
}

func bearerToken(r *http.Request) string {
	auth := r.Header.Get(echo.HeaderAuthorization)
	if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		return strings.TrimSpace(auth[7:])
	}
	return ""
}
