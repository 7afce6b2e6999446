package handlers

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/views"
)

// The error convention: a handler (or middleware) that refuses a request
// returns an error and writes nothing. An *Error says the status, a stable
// code and a sentence; echo's *echo.HTTPError (its own 404 and 405, and the
// pages' echo.NewHTTPError(status, sentence)) is taken the same way with a
// code made from the status; any other error is a 500 whose cause is
// logged, not shown. web's error handler is the one place that writes
// them: PostHog's {"type","code","detail"} on API and SDK paths, the error
// page — with the person's navigation when they are signed in — elsewhere.

// Error is a refusal a handler returns.
type Error struct {
	Status int
	Code   string // stable, for scripts: "not_found", "content_hash_mismatch"
	Detail string // a sentence a person understands
	// RetryAfter, when positive, is sent as Retry-After (seconds).
	RetryAfter int
	// Internal is the cause, for the log; never shown.
	Internal error
}

func (e *Error) Error() string {
	if e.Internal != nil {
		return e.Detail + ": " + e.Internal.Error()
	}
	return e.Detail
}

func (e *Error) Unwrap() error { return e.Internal }

// Type is PostHog's error type for the status.
func (e *Error) Type() string {
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return "authentication_error"
	case e.Status == http.StatusNotFound:
		return "invalid_request"
	case e.Status == http.StatusTooManyRequests:
		return "throttled_error"
	case e.Status >= 500:
		return "server_error"
	}
	return "validation_error"
}

// apiError is the refusal of an API or SDK request, in PostHog's terms.
func apiError(status int, code, detail string) *Error {
	return &Error{Status: status, Code: code, Detail: detail}
}

// internalMessage is what a person is told about an unexpected error.
const internalMessage = "Something went wrong on our side; the error was logged."

// AsError turns what a handler returned into the refusal to answer.
// expected is false for errors that are not refusals (bugs, a database that
// fails): they become a 500 and should be logged.
func AsError(err error, method string) (e *Error, expected bool) {
	if errors.As(err, &e) {
		return e, true
	}
	var he *echo.HTTPError
	if !errors.As(err, &he) {
		return &Error{Status: http.StatusInternalServerError, Code: "server_error", Detail: internalMessage, Internal: err}, false
	}
	detail, ok := he.Message.(string)
	if !ok {
		detail = http.StatusText(he.Code)
	}
	switch {
	case he.Code == http.StatusNotFound && detail == "Not Found":
		detail = "There is nothing at this address."
	case he.Code == http.StatusMethodNotAllowed:
		detail = method + " is not allowed here."
	}
	code := strings.ToLower(strings.ReplaceAll(http.StatusText(he.Code), " ", "_"))
	return &Error{Status: he.Code, Code: code, Detail: detail, Internal: he.Internal}, he.Code < 500
}

// ErrorNav is the navigation an error page shows: the signed-in person's
// (so a 404 keeps their menu, not a "Sign in" button), nil for everyone
// else. It looks the session up itself, because the error may have come
// before or without the session middleware.
func (h *Handlers) ErrorNav(c echo.Context) *views.Nav {
	user, ok := c.Get(userContextKey).(db.User)
	cookie, err := c.Cookie(sessionCookie)
	if err != nil || cookie.Value == "" {
		return nil
	}
	ctx := c.Request().Context()
	if !ok {
		if _, user, err = h.accounts.SessionUser(ctx, HashSecret(cookie.Value), time.Now()); err != nil {
			return nil
		}
	}
	nav := views.Nav{UserEmail: user.Email, CSRF: csrfTokenFor(cookie.Value)}
	// The error may be about the project asked for: fall back to the first one.
	p, err := h.selectedProject(c)
	if err != nil {
		p, _ = h.projects.FirstProject(ctx)
	}
	nav.ProjectID, nav.ProjectName = p.ID, p.Name
	if projects, err := h.projects.Projects(ctx); err == nil {
		for _, o := range projects {
			nav.Projects = append(nav.Projects, views.ProjectOption{ID: o.ID, Name: o.Name})
		}
	}
	return &nav
}
