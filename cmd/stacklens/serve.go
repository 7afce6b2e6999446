package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/handlers"
	"github.com/stacklens/stacklens/metrics"
	"github.com/stacklens/stacklens/notify"
	"github.com/stacklens/stacklens/pipeline"
	"github.com/stacklens/stacklens/ratelimit"
	"github.com/stacklens/stacklens/retention"
	"github.com/stacklens/stacklens/symbols"
	"github.com/stacklens/stacklens/trustedproxy"
	"github.com/stacklens/stacklens/web"
)

type serveConfig struct {
	Addr             string
	DBPath           string
	DatabaseURL      string // postgres://...: PostgreSQL instead of the SQLite file
	AdminEmail       string
	AdminPassword    string
	ProjectToken     string
	APIKey           string
	FetchAllowPriv   bool
	PublicURL        string
	PostHogAssetsURL string
	MaxBodyBytes     int64
	EventLimits      event.Limits
	MapCacheBytes    int64
	MaxUploadBytes   int64
	TrustedProxies   trustedproxy.List
	SMTP             notify.SMTPConfig
	Pressure         pressureConfig
	Fetch            fetchLimits
	MetricsToken     string
	Retention        retention.Config
	LogLevel         slog.Level
}

// fetchLimits bound source-map fetching (symbols.FetchConfig and the
// per-project cap on new refs).
type fetchLimits struct {
	ConnectTimeout   time.Duration
	FirstByteTimeout time.Duration
	TotalTimeout     time.Duration
	Concurrency      int
	PerHost          int
	NewRefsPerHour   int
}

const serveHelp = `Usage: stacklens serve [flags]

Runs the server. Every flag can also be set by the environment variable shown.

Symbolication fetch limits: source maps are fetched in the background, never
holding up other events; the fetch-* flags bound how many run at once (in all
and per host), how long each may take, and how many new bundle URLs one
project may have fetched per hour (past it, frames say fetch_rate_limited and
are retried later).

`

func parseServeConfig(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var cfg serveConfig
	fs.StringVar(&cfg.Addr, "addr", env("STACKLENS_ADDR", "127.0.0.1:8000"), "listen address (STACKLENS_ADDR)")
	fs.StringVar(&cfg.DBPath, "db", env("STACKLENS_DB", "./stacklens.db"), "SQLite database file (STACKLENS_DB)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", env("STACKLENS_DATABASE_URL", ""),
		"PostgreSQL database, postgres://user:password@host:5432/name; set it to run several stacklens processes on one database (STACKLENS_DATABASE_URL)")
	fs.StringVar(&cfg.AdminEmail, "admin-email", env("STACKLENS_ADMIN_EMAIL", ""), "create this admin at start if no user exists (STACKLENS_ADMIN_EMAIL)")
	fs.StringVar(&cfg.AdminPassword, "admin-password", env("STACKLENS_ADMIN_PASSWORD", ""), "password of that admin (STACKLENS_ADMIN_PASSWORD)")
	fs.StringVar(&cfg.ProjectToken, "project-token", env("STACKLENS_PROJECT_TOKEN", ""), "capture token of the default project; generated when empty (STACKLENS_PROJECT_TOKEN)")
	fs.StringVar(&cfg.APIKey, "api-key", env("STACKLENS_API_KEY", ""), "a personal API key for the first admin, for CI and scripts (STACKLENS_API_KEY)")
	fs.StringVar(&cfg.PublicURL, "public-url", env("STACKLENS_PUBLIC_URL", ""), "URL users reach the server at; derived from requests when empty (STACKLENS_PUBLIC_URL)")
	fs.StringVar(&cfg.PostHogAssetsURL, "posthog-assets-url", env("STACKLENS_POSTHOG_ASSETS_URL", "https://us-assets.i.posthog.com"),
		"where posthog-js's lazily loaded scripts (/static/<version>/exception-autocapture.js) are redirected (STACKLENS_POSTHOG_ASSETS_URL)")
	allowPrivate, err := strconv.ParseBool(env("STACKLENS_FETCH_ALLOW_PRIVATE", "false"))
	if err != nil {
		return cfg, fmt.Errorf("STACKLENS_FETCH_ALLOW_PRIVATE must be true or false: %w", err)
	}
	fs.BoolVar(&cfg.FetchAllowPriv, "fetch-allow-private", allowPrivate, "allow fetching source maps from, and sending webhooks to, loopback and private addresses (STACKLENS_FETCH_ALLOW_PRIVATE)")
	maxBody, err := strconv.ParseInt(env("STACKLENS_MAX_BODY_BYTES", strconv.Itoa(20<<20)), 10, 64)
	if err != nil || maxBody <= 0 {
		return cfg, fmt.Errorf("STACKLENS_MAX_BODY_BYTES must be a positive number of bytes")
	}
	fs.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", maxBody, "largest capture request body accepted, before decompression (STACKLENS_MAX_BODY_BYTES)")
	if err := decodeLimitFlags(fs, env, &cfg.EventLimits); err != nil {
		return cfg, err
	}
	cacheBytes, err := strconv.ParseInt(env("STACKLENS_MAP_CACHE_BYTES", strconv.Itoa(256<<20)), 10, 64)
	if err != nil || cacheBytes <= 0 {
		return cfg, fmt.Errorf("STACKLENS_MAP_CACHE_BYTES must be a positive number of bytes")
	}
	fs.Int64Var(&cfg.MapCacheBytes, "map-cache-bytes", cacheBytes, "memory for parsed source maps (STACKLENS_MAP_CACHE_BYTES)")
	uploadBytes, err := strconv.ParseInt(env("STACKLENS_MAX_UPLOAD_BYTES", strconv.FormatInt(symbols.DefaultMaxUploadBytes, 10)), 10, 64)
	if err != nil || uploadBytes <= 0 {
		return cfg, fmt.Errorf("STACKLENS_MAX_UPLOAD_BYTES must be a positive number of bytes")
	}
	fs.Int64Var(&cfg.MaxUploadBytes, "max-upload-bytes", uploadBytes, "largest source map (or minified file) accepted by uploads (STACKLENS_MAX_UPLOAD_BYTES)")
	proxies, err := trustedproxy.Parse(env("STACKLENS_TRUSTED_PROXIES", ""))
	if err != nil {
		return cfg, fmt.Errorf("STACKLENS_TRUSTED_PROXIES: %w", err)
	}
	cfg.TrustedProxies = proxies
	fs.Func("trusted-proxies", "comma-separated CIDRs or addresses of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed; none when empty (STACKLENS_TRUSTED_PROXIES)",
		func(s string) error {
			l, err := trustedproxy.Parse(s)
			cfg.TrustedProxies = l
			return err
		})
	if err := smtpFlags(fs, env, &cfg.SMTP); err != nil {
		return cfg, err
	}
	if err := pressureFlags(fs, env, &cfg.Pressure); err != nil {
		return cfg, err
	}
	if err := fetchFlags(fs, env, &cfg.Fetch); err != nil {
		return cfg, err
	}
	if err := retentionFlags(fs, env, &cfg.Retention); err != nil {
		return cfg, err
	}
	fs.StringVar(&cfg.MetricsToken, "metrics-token", env("STACKLENS_METRICS_TOKEN", ""),
		"Bearer token GET /metrics requires; when empty /metrics answers only requests from this machine (STACKLENS_METRICS_TOKEN)")
	if err := cfg.LogLevel.UnmarshalText([]byte(env("STACKLENS_LOG_LEVEL", "info"))); err != nil {
		return cfg, fmt.Errorf("STACKLENS_LOG_LEVEL must be debug, info, warn or error: %w", err)
	}
	fs.TextVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "least severe log lines written: debug (also one line per request and per pipeline batch), info, warn, error (STACKLENS_LOG_LEVEL)")
	fs.Usage = func() {
		fmt.Fprint(stderr, serveHelp)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, errHelpShown
		}
		return cfg, errUsage
	}
	if cfg.SMTP.Host != "" && cfg.SMTP.From == "" {
		return cfg, errors.New("STACKLENS_SMTP_HOST is set: set STACKLENS_SMTP_FROM too, the address notification emails come from")
	}
	if cfg.SMTP.From != "" {
		if _, err := mail.ParseAddress(cfg.SMTP.From); err != nil {
			return cfg, fmt.Errorf("STACKLENS_SMTP_FROM %q is not an email address: %w", cfg.SMTP.From, err)
		}
	}
	if (cfg.AdminEmail == "") != (cfg.AdminPassword == "") {
		return cfg, errors.New("set both STACKLENS_ADMIN_EMAIL and STACKLENS_ADMIN_PASSWORD, or neither")
	}
	return cfg, nil
}

func serve(ctx context.Context, cfg serveConfig, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	// One set of counters for the whole process, read by GET /metrics.
	counters := metrics.New()
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	project, err := store.EnsureDefaultProject(ctx, cfg.ProjectToken, db.NewProjectToken())
	if err != nil {
		return err
	}
	if cfg.ProjectToken != "" && project.ID != db.DefaultProjectID {
		log.Warn("STACKLENS_PROJECT_TOKEN is the token of project 1, which was deleted: it is not applied", "shown_project", project.ID)
	}
	if err := ensureAdmin(ctx, store, cfg); err != nil {
		return err
	}
	fetchCfg := symbols.DefaultFetchConfig()
	fetchCfg.AllowPrivate = cfg.FetchAllowPriv
	fetchCfg.ConnectTimeout, fetchCfg.FirstByteTimeout, fetchCfg.TotalTimeout = cfg.Fetch.ConnectTimeout, cfg.Fetch.FirstByteTimeout, cfg.Fetch.TotalTimeout
	fetchCfg.MaxConcurrent, fetchCfg.MaxPerHost = cfg.Fetch.Concurrency, cfg.Fetch.PerHost
	resolver := symbols.NewResolver(store, symbols.ResolverConfig{Fetch: fetchCfg, CacheBytes: cfg.MapCacheBytes,
		NewRefsPerHour: cfg.Fetch.NewRefsPerHour, Metrics: counters})
	defer resolver.Close() // before the store closes: background fetches stop writing first
	worker := pipeline.New(store, resolver, log)
	worker.SetMetrics(counters)
	notifyCfg := notify.DefaultConfig()
	notifyCfg.PublicURL, notifyCfg.AllowPrivate, notifyCfg.SMTP = cfg.PublicURL, cfg.FetchAllowPriv, cfg.SMTP
	notifier := notify.New(store, notifyCfg, log)
	worker.SetNotifier(notifier)
	rateLimits := ratelimit.New()
	srv := web.New(store, worker, resolver, handlers.Options{
		MaxBodyBytes:     cfg.MaxBodyBytes,
		MaxUploadBytes:   cfg.MaxUploadBytes,
		EventLimits:      cfg.EventLimits,
		PostHogAssetsURL: cfg.PostHogAssetsURL,
		PublicURL:        cfg.PublicURL,
		SecureCookies:    strings.HasPrefix(cfg.PublicURL, "https://"),
		TrustedProxies:   cfg.TrustedProxies,
		Notifications:    notifier,
		InboxLimits:      cfg.Pressure.Inbox,
		RateLimits:       rateLimits,
		Retention:        cfg.Retention.Defaults,
		DefaultRateLimit: cfg.Pressure.defaultLimit(),
		Metrics:          counters,
		MetricsToken:     cfg.MetricsToken,
	}, log)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	printWelcome(stdout, cfg, ln.Addr().String(), project)
	// The notifier outlives ctx until Serve returns, so notices from the
	// worker's last batch are still queued; then it stops.
	notifyCtx, stopNotify := context.WithCancel(context.WithoutCancel(ctx))
	notifyDone := make(chan struct{})
	go func() { defer close(notifyDone); notifier.Run(notifyCtx) }()
	// Retention stops with ctx, between two of its short transactions.
	retentionCtx, stopRetention := context.WithCancel(ctx)
	retentionDone := make(chan struct{})
	go func() {
		defer close(retentionDone)
		retention.New(store, worker, resolver, cfg.Retention, counters, log).Run(retentionCtx)
	}()
	// Every process on the database shares each project's capture limit:
	// its buckets pay for what the others accepted (ratelimit.Buckets).
	shareCtx, stopSharing := context.WithCancel(ctx)
	shareDone := make(chan struct{})
	go func() {
		defer close(shareDone)
		rateLimits.Run(shareCtx, store, rateLimitSyncInterval, log)
	}()
	err = srv.Serve(ctx, ln)
	stopSharing()
	<-shareDone
	stopRetention()
	<-retentionDone
	stopNotify()
	<-notifyDone
	return err
}

// decodeLimitFlags adds the caps on what one capture request may inflate
// to (defaults after Sentry Relay's published limits; see event.DefaultLimits).
func decodeLimitFlags(fs *flag.FlagSet, env func(name, def string) string, lim *event.Limits) error {
	d := event.DefaultLimits()
	positive := func(name string, def int64) (int64, error) {
		n, err := strconv.ParseInt(env(name, strconv.FormatInt(def, 10)), 10, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%s must be a positive number", name)
		}
		return n, nil
	}
	inflated, err := positive("STACKLENS_MAX_INFLATED_BYTES", d.MaxDecompressed)
	if err != nil {
		return err
	}
	eventBytes, err := positive("STACKLENS_MAX_EVENT_BYTES", d.MaxEvent)
	if err != nil {
		return err
	}
	events, err := positive("STACKLENS_MAX_EVENTS_PER_REQUEST", int64(d.MaxEvents))
	if err != nil {
		return err
	}
	fs.Int64Var(&lim.MaxDecompressed, "max-inflated-bytes", inflated, "largest capture body after decompression; more is answered 413 (STACKLENS_MAX_INFLATED_BYTES)")
	fs.Int64Var(&lim.MaxEvent, "max-event-bytes", eventBytes, "largest single event, in bytes of JSON; more is answered 413 (STACKLENS_MAX_EVENT_BYTES)")
	fs.IntVar(&lim.MaxEvents, "max-events-per-request", int(min(events, 1<<31-1)), "most events one capture request may hold; more is answered 413 (STACKLENS_MAX_EVENTS_PER_REQUEST)")
	return nil
}

// smtpFlags adds the outgoing-mail settings for notification emails.
func smtpFlags(fs *flag.FlagSet, env func(name, def string) string, smtp *notify.SMTPConfig) error {
	port, err := strconv.Atoi(env("STACKLENS_SMTP_PORT", "587"))
	if err != nil || port <= 0 || port > 65535 {
		return errors.New("STACKLENS_SMTP_PORT must be a port number")
	}
	fs.StringVar(&smtp.Host, "smtp-host", env("STACKLENS_SMTP_HOST", ""), "SMTP server for notification emails; email channels fail while empty (STACKLENS_SMTP_HOST)")
	fs.IntVar(&smtp.Port, "smtp-port", port, "SMTP port: 465 is TLS from the start, others use STARTTLS when offered (STACKLENS_SMTP_PORT)")
	fs.StringVar(&smtp.Username, "smtp-username", env("STACKLENS_SMTP_USERNAME", ""), "SMTP user name; no AUTH when empty (STACKLENS_SMTP_USERNAME)")
	fs.StringVar(&smtp.Password, "smtp-password", env("STACKLENS_SMTP_PASSWORD", ""), "SMTP password; prefer the environment variable (STACKLENS_SMTP_PASSWORD)")
	fs.StringVar(&smtp.From, "smtp-from", env("STACKLENS_SMTP_FROM", ""), "From address of notification emails, e.g. \"stacklens <alerts@example.com>\" (STACKLENS_SMTP_FROM)")
	return nil
}

// fetchFlags adds the limits of source-map fetching.
func fetchFlags(fs *flag.FlagSet, env func(name, def string) string, limits *fetchLimits) error {
	d := symbols.DefaultFetchConfig()
	durations := []struct {
		flag, env, help string
		def             time.Duration
		into            *time.Duration
	}{
		{"fetch-connect-timeout", "STACKLENS_FETCH_CONNECT_TIMEOUT", "longest TCP connect and TLS handshake of a source-map fetch", d.ConnectTimeout, &limits.ConnectTimeout},
		{"fetch-first-byte-timeout", "STACKLENS_FETCH_FIRST_BYTE_TIMEOUT", "longest wait for a fetched server's answer once connected", d.FirstByteTimeout, &limits.FirstByteTimeout},
		{"fetch-timeout", "STACKLENS_FETCH_TIMEOUT", "longest whole fetch of a minified file and its map, redirects included", d.TotalTimeout, &limits.TotalTimeout},
	}
	for _, o := range durations {
		v, err := time.ParseDuration(env(o.env, o.def.String()))
		if err != nil || v <= 0 {
			return fmt.Errorf("%s must be a positive duration such as 10s", o.env)
		}
		fs.DurationVar(o.into, o.flag, v, o.help+" ("+o.env+")")
	}
	counts := []struct {
		flag, env, help string
		def, min        int
		into            *int
	}{
		{"fetch-concurrency", "STACKLENS_FETCH_CONCURRENCY", "source-map fetches running at once", d.MaxConcurrent, 1, &limits.Concurrency},
		{"fetch-per-host", "STACKLENS_FETCH_PER_HOST", "source-map fetches running at once against one host name", d.MaxPerHost, 1, &limits.PerHost},
		{"fetch-new-refs-per-hour", "STACKLENS_FETCH_NEW_REFS_PER_HOUR", "new source-map URLs one project may have fetched per hour; -1 for no cap", symbols.DefaultNewRefsPerHour, -1, &limits.NewRefsPerHour},
	}
	for _, o := range counts {
		v, err := strconv.Atoi(env(o.env, strconv.Itoa(o.def)))
		if err != nil || v < o.min || v == 0 {
			if o.min < 0 {
				return fmt.Errorf("%s must be a positive whole number, or -1 for no cap", o.env)
			}
			return fmt.Errorf("%s must be a positive whole number", o.env)
		}
		fs.IntVar(o.into, o.flag, v, o.help+" ("+o.env+")")
	}
	return nil
}

func ensureAdmin(ctx context.Context, store *db.DB, cfg serveConfig) error {
	if cfg.AdminEmail != "" {
		hash, err := handlers.HashPassword(cfg.AdminPassword)
		if err != nil {
			return err
		}
		if _, err := store.CreateFirstAdmin(ctx, cfg.AdminEmail, hash); err != nil && !errors.Is(err, db.ErrExists) {
			return err
		}
	}
	if cfg.APIKey == "" {
		return nil
	}
	admin, err := store.FirstAdmin(ctx)
	if errors.Is(err, db.ErrNotFound) {
		return errors.New("STACKLENS_API_KEY needs a user: set STACKLENS_ADMIN_EMAIL and STACKLENS_ADMIN_PASSWORD too")
	}
	if err != nil {
		return err
	}
	return store.EnsureAPIKey(ctx, admin.ID, "STACKLENS_API_KEY", handlers.HashSecret(cfg.APIKey), maskKey(cfg.APIKey))
}

func maskKey(key string) string {
	if len(key) <= 8 {
		return "****"
	}
	return key[:4] + "…" + key[len(key)-4:]
}

func printWelcome(w io.Writer, cfg serveConfig, listenAddr string, project db.Project) {
	token := project.Token
	base := cfg.PublicURL
	if base == "" {
		host, port, _ := net.SplitHostPort(listenAddr)
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		base = "http://" + net.JoinHostPort(host, port)
	}
	fmt.Fprintf(w, `stacklens is running.

  Dashboard:      %s/
  Database:       %s
  Project token:  %s

Point an SDK at it:
  posthog-js:    posthog.init('%s', { api_host: '%s', capture_exceptions: true })
  posthog-node:  new PostHog('%s', { host: '%s', enableExceptionAutocapture: true })
  Sentry SDKs:   Sentry.init({ dsn: '%s' })

`, base, databaseName(cfg), token, token, base, token, base, event.SentryDSN(base, token, project.ID))
}

// openStore opens PostgreSQL when a database URL is set, else the SQLite file.
func openStore(ctx context.Context, cfg serveConfig) (*db.DB, error) {
	if cfg.DatabaseURL != "" {
		if !strings.HasPrefix(cfg.DatabaseURL, "postgres://") && !strings.HasPrefix(cfg.DatabaseURL, "postgresql://") {
			return nil, errors.New("STACKLENS_DATABASE_URL must be a PostgreSQL URL, postgres://user:password@host:5432/name")
		}
		return db.OpenPostgres(ctx, cfg.DatabaseURL)
	}
	return db.Open(ctx, cfg.DBPath)
}

// databaseName says which database the server uses, without its password.
func databaseName(cfg serveConfig) string {
	if cfg.DatabaseURL == "" {
		return cfg.DBPath
	}
	u, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		return "PostgreSQL"
	}
	return "PostgreSQL " + u.Redacted()
}
