// Package handlers holds stacklens's HTTP handlers, one file per page or API
// area. Handlers are thin: parse the request, call storage (the interfaces in
// stores.go) and domain packages, render a view.
package handlers

import (
	"log/slog"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/artifactbundle"
	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/metrics"
	"github.com/stacklens/stacklens/notify"
	"github.com/stacklens/stacklens/pipeline"
	"github.com/stacklens/stacklens/ratelimit"
	"github.com/stacklens/stacklens/retention"
	"github.com/stacklens/stacklens/signin"
	"github.com/stacklens/stacklens/symbols"
	"github.com/stacklens/stacklens/trustedproxy"
)

// Options are the settings handlers need.
type Options struct {
	// MaxBodyBytes caps a capture request's body as received (before decompression).
	MaxBodyBytes int64
	// MaxUploadBytes caps one uploaded source map (and its minified file); 0 means symbols.DefaultMaxUploadBytes.
	MaxUploadBytes int64
	// EventLimits cap decompressed bodies and single events.
	EventLimits event.Limits
	// PostHogAssetsURL is where posthog-js's lazily loaded scripts are redirected to.
	PostHogAssetsURL string
	// PublicURL is how users reach the server; empty means derive it from the request.
	PublicURL string
	// SecureCookies marks cookies Secure even on requests that did not
	// come over HTTPS (set when PublicURL is https://).
	SecureCookies bool
	// TrustedProxies are the proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (STACKLENS_TRUSTED_PROXIES).
	TrustedProxies trustedproxy.List
	// SignInLimits cap failed sign-ins; the zero value means signin.DefaultLimits.
	SignInLimits signin.Limits
	// Notifications sends test notifications from the settings page; nil when not running.
	Notifications *notify.Notifier
	// InboxLimits cap the inbox (events, bytes) and keep free disk space; web.New gives them to the inbox writer.
	InboxLimits db.InboxLimits
	// RateLimits holds the per-project token buckets of capture; nil means no rate limits.
	RateLimits *ratelimit.Buckets
	// DefaultRateLimit applies to projects without a limit of their own.
	DefaultRateLimit ratelimit.Limit
	// Retention is the server's default retention, which projects' settings override.
	Retention retention.Policy
	// Metrics counts accepted events and is written by GET /metrics; nil counts nothing.
	Metrics *metrics.Metrics
	// MetricsToken, when set, is the Bearer token GET /metrics needs
	// (STACKLENS_METRICS_TOKEN); when empty only local requests are answered.
	MetricsToken string
}

// Handlers carries what every handler needs. Build it with New.
type Handlers struct {
	// Storage, one field per resource (stores.go).
	ingest        IngestStore
	health        HealthStore
	issues        IssueStore
	triage        TriageStore
	projects      ProjectStore
	accounts      AccountStore
	notifications NotificationStore
	releases      ReleaseStore
	symbolSets    SymbolSetStore

	inbox  Inbox
	worker *pipeline.Worker
	// symbols gives pages the original sources of resolved frames.
	symbols *symbols.Resolver
	// uploads stores uploaded source maps (browser, bulk, posthog-cli, sentry-cli).
	uploads *symbols.Uploads
	// bundles runs sentry-cli's chunked uploads.
	bundles *artifactbundle.Service
	opts    Options
	log     *slog.Logger
	// signins counts failed sign-ins per account and client address, in the database.
	signins *signin.Limiter
	// dummyPasswordHash is checked against when an email is unknown, so
	// that answer takes as long as a wrong password for a real account.
	dummyPasswordHash []byte
	// crossOrigin refuses form posts browsers mark as cross-site.
	crossOrigin *http.CrossOriginProtection
}

// New wires the handlers.
func New(store Store, inbox Inbox, worker *pipeline.Worker, resolver *symbols.Resolver, opts Options, log *slog.Logger) *Handlers {
	if opts.SignInLimits == (signin.Limits{}) {
		opts.SignInLimits = signin.DefaultLimits()
	}
	return &Handlers{
		ingest: store, health: store, issues: store, triage: store, projects: store,
		accounts: store, notifications: store, releases: store, symbolSets: store,
		inbox: inbox, worker: worker, symbols: resolver, opts: opts, log: log,
		uploads: symbols.NewUploads(store, worker, symbols.UploadConfig{MaxBytes: opts.MaxUploadBytes}),
		bundles: artifactbundle.New(store, artifactbundle.Config{MaxUploadBytes: opts.MaxUploadBytes}),
		signins: signin.NewLimiter(store, opts.SignInLimits), dummyPasswordHash: dummyPasswordHash(),
		crossOrigin: newCrossOriginProtection(opts.PublicURL)}
}

func render(c echo.Context, status int, component templ.Component) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return component.Render(c.Request().Context(), c.Response())
}

// publicURL is the base URL users reach this server at.
func (h *Handlers) publicURL(c echo.Context) string {
	if h.opts.PublicURL != "" {
		return h.opts.PublicURL
	}
	return h.opts.TrustedProxies.Scheme(c.Request()) + "://" + c.Request().Host
}
