package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/stacklens/stacklens/handlers"
	"github.com/stacklens/stacklens/metrics"
)

// routes is the one route table of stacklens, grouped by resource. Each
// URL's handler is in handlers/, in the file named for its resource.
func routes(e *echo.Echo, h *handlers.Handlers, staticFiles http.Handler, m *metrics.Metrics) {
	// Capture refusals are counted by reason for /metrics, PostHog's and Sentry's apart.
	postHogRejections, sentryRejections := countRejections(m, metrics.SourcePostHog), countRejections(m, metrics.SourceSentry)
	// Who may call what. Groups are made here, in this order, because echo
	// gives each group a catch-all that runs the group's middleware on
	// unknown URLs below its prefix, and the last group made with a prefix
	// wins: unknown pages ask for a session, as pages do.
	//   sdk: SDK endpoints, any origin, no cookies, no CSRF (they carry a project token).
	//   api: JSON API for scripts and CI, authenticated by personal API keys.
	//   pages: forms with a CSRF check; app: those that also need a session.
	sdk := e.Group("", sdkCORS())
	//   sentry: Sentry SDK ingest, any origin, no cookies, no CSRF (they carry the DSN's public key).
	sentry := e.Group("/api/:project_id", sentryCORS())
	api := e.Group("/api/projects/:project", h.RequireAPIKey)
	pages := e.Group("", h.CSRF)
	app := pages.Group("", h.RequireSession)
	// Upload forms: the size cap goes before the CSRF check, which parses the body.
	uploadPages := e.Group("/settings/symbol-sets", h.LimitUploadBody, h.CSRF, h.RequireSession)
	// sentry-cli's API (chunk uploads, artifact bundles, releases), personal API keys as tokens.
	sentryCLI := e.Group("/api/0", h.RequireAPIKey)
	// posthog-cli's symbol-set API, under both of PostHog's prefixes.
	var symbolSetAPIs []*echo.Group
	for _, prefix := range []string{"/api/projects/:project", "/api/environments/:project"} {
		symbolSetAPIs = append(symbolSetAPIs, e.Group(prefix+"/error_tracking/symbol_sets", h.RequireAPIKey))
	}

	// Server: health, metrics (handlers/health.go, handlers/metrics.go), static files, the start page.
	e.GET("/healthz", h.Healthz)
	e.GET("/readyz", h.Readyz)
	e.GET("/metrics", h.Metrics)
	// posthog-js loads its lazy scripts from /static/ on the API host, from other origins.
	e.Match([]string{http.MethodGet, http.MethodHead, http.MethodOptions}, "/static/*", serveStatic(staticFiles, h.PostHogAsset), sdkCORS())
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/issues") })

	// Capture: PostHog SDKs send events here (handlers/capture.go).
	for _, path := range []string{"/e/", "/i/v0/e/", "/batch/", "/capture/", "/track/", "/e", "/batch", "/capture", "/track", "/i/v0/e"} {
		sdk.Match([]string{http.MethodGet, http.MethodPost, http.MethodOptions}, path, h.Capture, postHogRejections, h.RefuseCaptureWhenFull)
	}
	sdk.Match([]string{http.MethodPost, http.MethodOptions}, "/i/v1/analytics/events", h.CaptureV1, postHogRejections, h.RefuseCaptureWhenFull)
	// Sentry SDKs send envelopes (and, older ones, /store/ events) here (handlers/sentry.go).
	for _, path := range []string{"/envelope/", "/envelope"} {
		sentry.Match([]string{http.MethodPost, http.MethodOptions}, path, h.SentryEnvelope, sentryRejections, h.RefuseCaptureWhenFull)
	}
	for _, path := range []string{"/store/", "/store"} {
		sentry.Match([]string{http.MethodPost, http.MethodOptions}, path, h.SentryStore, sentryRejections, h.RefuseCaptureWhenFull)
	}

	// SDK configuration: what posthog-js asks for at start (handlers/remoteconfig.go).
	sdk.Match([]string{http.MethodGet, http.MethodOptions}, "/array/:token/config.js", h.RemoteConfigJS)
	sdk.Match([]string{http.MethodGet, http.MethodOptions}, "/array/:token/config", h.RemoteConfigJSON)
	for _, path := range []string{"/flags/", "/flags", "/decide/", "/decide"} {
		sdk.Match([]string{http.MethodGet, http.MethodPost, http.MethodOptions}, path, h.Flags)
	}

	// Sign-in: the first admin's setup, login, logout (handlers/auth.go).
	pages.GET("/login", h.LoginForm)
	pages.POST("/login", h.Login)
	pages.GET("/setup", h.SetupForm)
	pages.POST("/setup", h.Setup)
	app.POST("/logout", h.Logout)

	// Users: the team, roles and invitations; the link an invited person
	// opens needs no session (handlers/users.go).
	app.GET("/settings/users", h.UsersPage)
	app.POST("/settings/users/invites", h.CreateInvite)
	app.POST("/settings/users/invites/:id/revoke", h.RevokeInvite)
	app.POST("/settings/users/:id/role", h.SetUserRole)
	app.POST("/settings/users/:id/delete", h.RemoveUser)
	pages.GET("/invite/:token", h.InvitePage)
	pages.POST("/invite/:token", h.AcceptInvite)

	// Issues: the list and its bulk actions, one issue with its events and
	// triage actions (handlers/issues*.go), and the same as JSON (handlers/api.go).
	app.GET("/issues", h.IssuesPage)
	app.POST("/issues/bulk", h.BulkIssues)
	app.POST("/issues/merge", h.MergeIssues)
	app.GET("/issues/:id", h.IssuePage)
	app.GET("/issues/:id/events/:uuid", h.IssuePage)
	app.GET("/issues/:id/events/:uuid/raw", h.IssueEventRaw)
	app.POST("/issues/:id/status", h.SetIssueStatus)
	app.POST("/issues/:id/edit", h.EditIssue)
	app.POST("/issues/:id/assignee", h.AssignIssue)
	api.GET("/error_tracking/issues", h.APIIssues)
	api.GET("/error_tracking/issues/", h.APIIssues)
	api.GET("/error_tracking/issues/:id", h.APIIssue)
	api.PATCH("/error_tracking/issues/:id", h.APIUpdateIssue)
	api.GET("/error_tracking/issues/:id/events", h.APIIssueEvents)

	// Projects: the list, create, rename, delete (handlers/projects.go) and
	// the selected project's settings (handlers/project.go).
	app.GET("/settings/projects", h.ProjectsPage)
	app.POST("/settings/projects", h.CreateProject)
	app.POST("/settings/projects/:id/rename", h.RenameProject)
	app.GET("/settings/projects/:id/delete", h.DeleteProjectPage)
	app.POST("/settings/projects/:id/delete", h.DeleteProject)
	app.GET("/settings/project", h.ProjectSettingsPage)
	app.POST("/settings/project", h.UpdateProjectSettings)

	// API keys: personal keys for scripts and CI, listed on the project
	// settings page (handlers/apikeys.go).
	app.POST("/settings/project/api-keys", h.CreateAPIKey)
	app.POST("/settings/project/api-keys/:id/revoke", h.RevokeAPIKey)

	// Symbol sets: the pages, the browser's uploads (handlers/symbolsets*.go),
	// posthog-cli's API (handlers/symbolsets_api*.go) and the signed links
	// that API hands out.
	app.GET("/settings/symbol-sets", h.SymbolSetsPage)
	app.GET("/settings/symbol-sets/upload", h.BulkUploadPage)
	app.POST("/settings/symbol-sets/upload/confirm", h.BulkUploadConfirm)
	app.GET("/settings/symbol-sets/:id", h.SymbolSetPage)
	app.GET("/settings/symbol-sets/:id/download", h.DownloadSymbolSetFile)
	app.POST("/settings/symbol-sets/:id/retry", h.RetrySymbolSetFetch)
	app.POST("/settings/symbol-sets/:id/delete", h.DeleteSymbolSetPage)
	uploadPages.POST("/upload", h.BulkUploadPreview)
	uploadPages.POST("/:id/upload", h.UploadSymbolSet)
	for _, sets := range symbolSetAPIs {
		// posthog-cli sends some paths with a trailing slash and some without.
		route := func(method, path string, handler echo.HandlerFunc, m ...echo.MiddlewareFunc) {
			sets.Add(method, path, handler, m...)
			sets.Add(method, path+"/", handler, m...)
		}
		route(http.MethodGet, "", h.APIListSymbolSets)
		route(http.MethodPost, "", h.APILegacyCreateSymbolSet, h.LimitUploadBody)
		route(http.MethodPost, "/bulk_start_upload", h.APIBulkStartUpload)
		route(http.MethodPost, "/bulk_finish_upload", h.APIBulkFinishUpload)
		route(http.MethodPost, "/bulk_delete", h.APIBulkDeleteSymbolSets)
		route(http.MethodPost, "/start_upload", h.APILegacyStartUpload)
		route(http.MethodGet, "/:id", h.APIGetSymbolSet)
		route(http.MethodDelete, "/:id", h.APIDeleteSymbolSet)
		route(http.MethodGet, "/:id/download", h.APIDownloadSymbolSet)
		route(http.MethodPut, "/:id/finish_upload", h.APILegacyFinishUpload)
	}
	// sentry-cli: source-map uploads as artifact bundles and the releases
	// of sentry-cli and the bundler plugins (handlers/sentrycli*.go). It
	// sends every path with a trailing slash; both forms are accepted.
	e.GET("/api/0/", h.SentryAPIRoot)
	e.GET("/api/0", h.SentryAPIRoot)
	sentryRoute := func(method, path string, handler echo.HandlerFunc) {
		sentryCLI.Add(method, path+"/", handler)
		sentryCLI.Add(method, path, handler)
	}
	sentryRoute(http.MethodGet, "/organizations/:org/chunk-upload", h.SentryChunkUploadOptions)
	sentryRoute(http.MethodPost, "/organizations/:org/chunk-upload", h.SentryUploadChunks)
	sentryRoute(http.MethodPost, "/organizations/:org/artifactbundle/assemble", h.SentryAssembleBundle)
	sentryRoute(http.MethodGet, "/organizations/:org/releases", h.SentryListReleases)
	sentryRoute(http.MethodPost, "/organizations/:org/releases", h.SentryCreateRelease)
	sentryRoute(http.MethodGet, "/organizations/:org/releases/:version", h.SentryRelease)
	sentryRoute(http.MethodPut, "/organizations/:org/releases/:version", h.SentryUpdateRelease)
	sentryRoute(http.MethodDelete, "/organizations/:org/releases/:version", h.SentryDeleteRelease)
	sentryRoute(http.MethodGet, "/organizations/:org/releases/:version/deploys", h.SentryListDeploys)
	sentryRoute(http.MethodPost, "/organizations/:org/releases/:version/deploys", h.SentryCreateDeploy)
	sentryRoute(http.MethodGet, "/projects/:org/:project/releases", h.SentryListReleases)
	// The signed links' targets: the token in the request is the credential.
	e.POST("/uploads/symbol-sets", h.ReceiveSymbolSetUpload, h.LimitUploadBody)
	e.GET("/downloads/symbol-sets/:token", h.DownloadSymbolSetBlob)

	// Notifications: channels (webhook, email), their settings and test
	// sends (handlers/notifications.go).
	app.GET("/settings/notifications", h.NotificationsPage)
	app.POST("/settings/notifications", h.CreateNotificationChannel)
	app.GET("/settings/notifications/:id", h.NotificationChannelPage)
	app.POST("/settings/notifications/:id", h.UpdateNotificationChannel)
	app.POST("/settings/notifications/:id/enabled", h.SetNotificationChannelEnabled)
	app.POST("/settings/notifications/:id/delete", h.DeleteNotificationChannel)
	app.POST("/settings/notifications/:id/test", h.TestNotificationChannel)
}

// sentryCORS answers browsers' preflights for @sentry/browser from any
// origin with whatever headers it asks for (content-type, sentry-trace,
// baggage, x-sentry-auth…), and lets it read the rate-limit headers.
func sentryCORS() echo.MiddlewareFunc {
	return middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOriginFunc:  func(string) (bool, error) { return true, nil },
		AllowMethods:     []string{http.MethodPost, http.MethodOptions},
		AllowCredentials: true,
		ExposeHeaders:    []string{"X-Sentry-Error", "X-Sentry-Rate-Limits", "Retry-After"},
		MaxAge:           86400,
	})
}

// sdkCORS answers browsers' preflights from any origin, reflecting it so
// posthog-js's credentialed requests are allowed too.
func sdkCORS() echo.MiddlewareFunc {
	return middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOriginFunc:  func(string) (bool, error) { return true, nil },
		AllowMethods:     []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowHeaders:     []string{"*", "Content-Type", "Content-Encoding", "Authorization"},
		AllowCredentials: true,
		MaxAge:           86400,
	})
}
