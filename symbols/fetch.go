package symbols

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/stacklens/stacklens/netguard"
)

// FetchConfig bounds what the fetcher may do on the network. Zero fields
// take the values of DefaultFetchConfig.
type FetchConfig struct {
	// AllowPrivate lets the fetcher reach loopback, private and link-local
	// addresses (STACKLENS_FETCH_ALLOW_PRIVATE).
	AllowPrivate bool
	// ConnectTimeout bounds each TCP connect and TLS handshake.
	ConnectTimeout time.Duration
	// TotalTimeout bounds a whole Fetch: minified file, redirects and map.
	TotalTimeout time.Duration
	// MaxBytes caps each response body, enforced while reading.
	MaxBytes int64
	// MaxRedirects is how many redirects one request may follow.
	MaxRedirects int
	UserAgent    string
}

// DefaultUserAgent is sent with every fetch unless configured otherwise.
const DefaultUserAgent = "stacklens/1 (source map fetcher)"

// DefaultFetchConfig is what the server uses unless told otherwise.
func DefaultFetchConfig() FetchConfig {
	return FetchConfig{
		ConnectTimeout: 5 * time.Second,
		TotalTimeout:   30 * time.Second,
		MaxBytes:       50 << 20,
		MaxRedirects:   5,
		UserAgent:      DefaultUserAgent,
	}
}

// withDefaults fills zero fields from DefaultFetchConfig.
func (c FetchConfig) withDefaults() FetchConfig {
	d := DefaultFetchConfig()
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = d.ConnectTimeout
	}
	if c.TotalTimeout <= 0 {
		c.TotalTimeout = d.TotalTimeout
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = d.MaxBytes
	}
	if c.MaxRedirects <= 0 {
		c.MaxRedirects = d.MaxRedirects
	}
	if c.UserAgent == "" {
		c.UserAgent = d.UserAgent
	}
	return c
}

// Fetcher downloads minified files and their source maps. It is safe for
// concurrent use; concurrent fetches of one URL share one download.
type Fetcher struct {
	cfg       FetchConfig
	transport http.RoundTripper
	flights   singleflight.Group
}

// NewFetcher returns a fetcher that dials through netguard unless
// cfg.AllowPrivate.
func NewFetcher(cfg FetchConfig) *Fetcher {
	cfg = cfg.withDefaults()
	policy := netguard.Policy{AllowPrivate: cfg.AllowPrivate}
	return &Fetcher{cfg: cfg, transport: policy.Transport(cfg.ConnectTimeout)}
}

// Fetched is a minified file and the source map it points at. The map has
// passed a cheap check (JSON, version 3, mappings or sections); the full
// parse is ParseSourceMap's job. Byte slices may be shared with other
// callers of the same fetch: do not modify them.
type Fetched struct {
	MinifiedURL string
	Minified    []byte
	// MapURL is where the map was fetched from. For an inline data: map it
	// is the minified file's URL, the base its sources resolve against.
	MapURL string
	// Map is the source map with any ")]}'" guard line and BOM removed.
	Map   []byte
	Steps []Step
}

type fetchOutcome struct {
	fetched *Fetched
	failure *Failure
}

// Fetch downloads minifiedURL and its source map (how the map is found:
// docs/ARCHITECTURE.md, "Wire formats"). Exactly one of the results is
// non-nil. Concurrent calls for the same URL share one
// download, which runs to completion (bounded by TotalTimeout) even if the
// caller who started it gives up; a caller whose ctx ends first gets a
// fetch_timeout or network_error failure at once.
func (f *Fetcher) Fetch(ctx context.Context, minifiedURL string) (*Fetched, *Failure) {
	key := strings.TrimSpace(minifiedURL)
	if i := strings.IndexByte(key, '#'); i >= 0 {
		key = key[:i]
	}
	flight := f.flights.DoChan(key, func() (any, error) {
		runCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.cfg.TotalTimeout)
		defer cancel()
		fetched, failure := f.fetch(runCtx, key)
		return fetchOutcome{fetched, failure}, nil
	})
	select {
	case res := <-flight:
		outcome := res.Val.(fetchOutcome)
		if outcome.failure != nil {
			failure := *outcome.failure
			failure.Steps = slices.Clone(failure.Steps)
			return nil, &failure
		}
		fetched := *outcome.fetched
		fetched.Steps = slices.Clone(fetched.Steps)
		return &fetched, nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, Failf(FailureFetchTimeout, "fetching %s did not finish before the caller's deadline", key)
		}
		return nil, Failf(FailureNetworkError, "fetching %s was cancelled: %v", key, ctx.Err())
	}
}
