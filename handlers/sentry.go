package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/metrics"
	"github.com/stacklens/stacklens/pipeline"
)

// SentryEnvelope takes POST /api/{project_id}/envelope/ from Sentry SDKs.
func (h *Handlers) SentryEnvelope(c echo.Context) error {
	return h.sentryIngest(c, event.SentryEnvelope)
}

// SentryStore takes the older POST /api/{project_id}/store/ (one event as JSON).
func (h *Handlers) SentryStore(c echo.Context) error {
	return h.sentryIngest(c, event.SentryStore)
}

// sentryError answers as Sentry's ingest does: {"detail": …}, and the same
// sentence in X-Sentry-Error, which the SDKs log.
func sentryError(c echo.Context, status int, detail string) error {
	if detail != "" {
		detail = strings.ToUpper(detail[:1]) + detail[1:]
	}
	c.Response().Header().Set("X-Sentry-Error", detail)
	return c.JSON(status, map[string]string{"detail": detail})
}

func (h *Handlers) sentryIngest(c echo.Context, endpoint event.SentryEndpoint) error {
	req := c.Request()
	if req.Method == http.MethodOptions { // a preflight the CORS middleware did not recognise
		return c.NoContent(http.StatusNoContent)
	}
	received := time.Now()
	// Sentry SDKs back off on 429 by X-Sentry-Rate-Limits
	// ("<seconds>:<categories>:<scope>"); the admission checks shared with
	// PostHog capture set Retry-After, which this repeats in Sentry's form.
	c.Response().Before(func() {
		res := c.Response()
		if retry := res.Header().Get("Retry-After"); res.Status == http.StatusTooManyRequests && retry != "" {
			res.Header().Set("X-Sentry-Rate-Limits", retry+":error;default:project")
		}
	})
	pathProject := c.Param("project_id")
	in := event.SentryInput{
		Endpoint:        endpoint,
		ContentEncoding: req.Header.Get(echo.HeaderContentEncoding),
		Query:           req.URL.Query(),
		XSentryAuth:     req.Header.Get("X-Sentry-Auth"),
		Authorization:   req.Header.Get(echo.HeaderAuthorization),
	}
	// A key the request names is checked before the body is read; a key
	// only in the envelope header is checked once that line is decoded.
	var project db.Project
	if key := event.SentryKey(in); key != "" {
		p, err := h.sentryProject(c, key, pathProject)
		if err != nil {
			return err
		}
		project = p
	}
	body, readErr := h.readCaptureBody(c)
	if readErr != nil {
		return sentryError(c, readErr.Status, readErr.Detail)
	}
	in.Body = body
	sr, err := event.DecodeSentry(in, h.opts.EventLimits)
	if err != nil {
		var de *event.Error
		if errors.As(err, &de) {
			return sentryError(c, de.Status, de.Msg)
		}
		return sentryError(c, http.StatusBadRequest, "The request could not be decoded: "+err.Error())
	}
	if project.ID == 0 {
		if sr.PublicKey == "" {
			return sentryError(c, http.StatusUnauthorized,
				"No DSN public key: send sentry_key in the query, X-Sentry-Auth, or a dsn in the envelope header. Copy the DSN from Project settings.")
		}
		p, err := h.sentryProject(c, sr.PublicKey, pathProject)
		if err != nil {
			return err
		}
		project = p
	}
	if len(sr.Ignored) > 0 {
		h.log.Debug("sentry items ignored", "project", project.ID, "items", sr.IgnoredSummary())
	}

	answerID := sr.EnvelopeID
	rows := make([]db.InboxRow, 0, len(sr.Events))
	for _, ev := range sr.Events {
		payload := ev.JSON
		if ev.ID == "" {
			// Every event gets its id before it is acknowledged, so a retry
			// after a lost answer is recognised as the same event.
			ev.ID = strings.ReplaceAll(event.NewUUID(), "-", "") // Sentry writes ids without dashes
			if payload, err = event.WithSentryEventID(ev.JSON, ev.ID); err != nil {
				return sentryError(c, http.StatusBadRequest, err.Error())
			}
		}
		answerID = ev.ID
		rows = append(rows, db.InboxRow{ProjectID: project.ID, Format: pipeline.FormatSentry, ReceivedAt: received, Payload: payload, UUID: ev.ID})
	}
	if err := h.admit(c, metrics.SourceSentry, project, rows); err != nil {
		return err
	}
	if answerID == "" {
		// Sessions, client reports and the like carry no id: accepted, not kept.
		return c.JSON(http.StatusOK, map[string]any{})
	}
	return c.JSON(http.StatusOK, map[string]string{"id": answerID})
}

// errAnswered stops a Sentry request whose refusal was already written in
// Sentry's shape (web's error handler leaves a written answer alone).
var errAnswered = errors.New("sentry ingest: refusal already written")

// answered is the error that stops the handler after sentryError wrote a refusal.
func answered(writeErr error) error {
	if writeErr != nil {
		return writeErr
	}
	return errAnswered
}

// sentryProject finds the project of a DSN public key (the project token)
// and checks that the project id in the URL is that project's. When they do
// not fit it answers the request itself and returns errAnswered.
func (h *Handlers) sentryProject(c echo.Context, key, pathProject string) (db.Project, error) {
	p, err := h.ingest.ProjectByToken(c.Request().Context(), key)
	if errors.Is(err, db.ErrNotFound) {
		return db.Project{}, answered(sentryError(c, http.StatusForbidden,
			"The DSN's public key is not known to this server. Copy the DSN from Project settings."))
	}
	if err != nil {
		return db.Project{}, err
	}
	if pathProject != strconv.FormatInt(p.ID, 10) {
		return db.Project{}, answered(sentryError(c, http.StatusForbidden, fmt.Sprintf(
			"The DSN's public key belongs to project %d, but the URL names project %q. Copy the DSN from Project settings.", p.ID, pathProject)))
	}
	return p, nil
}
