// Package web builds stacklens's HTTP server: middleware order, the one route
// table (routes.go), error pages, static files and graceful shutdown.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/handlers"
	"github.com/stacklens/stacklens/pipeline"
	"github.com/stacklens/stacklens/static"
	"github.com/stacklens/stacklens/symbols"
	"github.com/stacklens/stacklens/views"
)

// Store is the storage the server needs (*db.DB implements it, asserted in
// cmd/stacklens/storage.go): the handlers', the inbox writer the server runs,
// and the inbox's load and the storage's caches for /metrics.
type Store interface {
	handlers.Store
	InboxStats
	Caches
	NewInboxWriter(limits db.InboxLimits) *db.InboxWriter
}

// Server is a running stacklens: HTTP, the inbox writer and the pipeline worker.
type Server struct {
	echo   *echo.Echo
	inbox  *db.InboxWriter
	worker *pipeline.Worker
	log    *slog.Logger
}

// New wires a server over open storage.
func New(d Store, worker *pipeline.Worker, resolver *symbols.Resolver, opts handlers.Options, log *slog.Logger) *Server {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// c.RealIP() believes X-Forwarded-For only from the trusted proxies
	// (echo's default believes it from anyone).
	e.IPExtractor = opts.TrustedProxies.ClientIP
	inbox := d.NewInboxWriter(opts.InboxLimits)
	h := handlers.New(d, inbox, worker, resolver, opts, log)
	e.HTTPErrorHandler = errorHandler(log, h)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true}))
	e.Use(observeRequests(opts.Metrics, log))
	if opts.Metrics != nil {
		collectGauges(opts.Metrics, d, d, resolver)
	}
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection: "", ContentTypeNosniff: "nosniff", XFrameOptions: "DENY", ReferrerPolicy: "same-origin",
	}))
	e.Use(securityHeaders(opts.TrustedProxies))
	routes(e, h, static.Handler(), opts.Metrics)
	return &Server{echo: e, inbox: inbox, worker: worker, log: log}
}

// Handler is the HTTP handler, for tests that serve it themselves.
func (s *Server) Handler() http.Handler { return s.echo }

// Serve runs until ctx is done, then shuts down gracefully: the listener
// closes, in-flight requests finish (their events committed), then the inbox
// writer and the worker stop after their current batch.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.inbox.Run(bg) }()
	go func() { defer wg.Done(); s.worker.Run(bg) }()

	srv := &http.Server{Handler: s.echo, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if shutdownErr := srv.Shutdown(shutdownCtx); shutdownErr != nil {
		s.log.Warn("shutdown did not finish cleanly", "err", shutdownErr)
	}
	stopBackground()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// apiPath tells whether errors on path are answered as JSON rather than a page.
func apiPath(path string) bool {
	// The API, and the signed upload and download links it hands posthog-cli.
	for _, p := range []string{"/api/", "/uploads/", "/downloads/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	for _, p := range []string{"/e", "/i/", "/batch", "/capture", "/track", "/flags", "/decide", "/array/", "/healthz", "/readyz", "/metrics"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// errorHandler is the one place refusals and failures are written (the
// convention is in handlers/errors.go): PostHog's {"type","code","detail"}
// on API and SDK paths, else the error page, with the navigation of a
// signed-in person. Only unexpected errors are logged.
func errorHandler(log *slog.Logger, h *handlers.Handlers) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		e, expected := handlers.AsError(err, c.Request().Method)
		if !expected {
			log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
		if e.RetryAfter > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
		}
		if apiPath(c.Request().URL.Path) {
			_ = c.JSON(e.Status, map[string]string{"type": e.Type(), "code": e.Code, "detail": e.Detail})
			return
		}
		nav := h.ErrorNav(c)
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
		c.Response().WriteHeader(e.Status)
		_ = views.ErrorPage(nav, e.Status, e.Detail).Render(c.Request().Context(), c.Response())
	}
}

// serveStatic serves stacklens's own assets and hands the rest of /static/
// (posthog-js's lazily loaded scripts) to fallback.
func serveStatic(files http.Handler, fallback echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if static.Has(c.Request().URL.Path) {
			files.ServeHTTP(c.Response(), c.Request())
			return nil
		}
		return fallback(c)
	}
}
