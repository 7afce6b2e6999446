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
	// FirstByteTimeout bounds the wait for a response's headers once the
	// request is sent: a host that accepts connections and never answers
	// fails after it, not after TotalTimeout.
	FirstByteTimeout time.Duration
	// TotalTimeout bounds a whole Fetch: minified file, redirects and map.
	TotalTimeout time.Duration
	// MaxBytes caps each response body, enforced while reading.
	MaxBytes int64
	// MaxRedirects is how many redirects one request may follow.
	MaxRedirects int
	// MaxConcurrent is how many fetches run at once; more wait their turn.
	MaxConcurrent int
	// MaxPerHost is how many of them may go to one host name, so one slow
	// or hostile host cannot take every slot.
	MaxPerHost int
	UserAgent  string
}

// DefaultUserAgent is sent with every fetch unless configured otherwise.
const DefaultUserAgent = "stacklens/1 (source map fetcher)"

// DefaultFetchConfig is what the server uses unless told otherwise.
func DefaultFetchConfig() FetchConfig {
	return FetchConfig{
		ConnectTimeout:   5 * time.Second,
		FirstByteTimeout: 10 * time.Second,
		TotalTimeout:     30 * time.Second,
		MaxBytes:         50 << 20,
		MaxRedirects:     5,
		MaxConcurrent:    16,
		MaxPerHost:       4,
		UserAgent:        DefaultUserAgent,
	}
}

// withDefaults fills zero fields from DefaultFetchConfig.
func (c FetchConfig) withDefaults() FetchConfig {
	d := DefaultFetchConfig()
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = d.ConnectTimeout
	}
	if c.FirstByteTimeout <= 0 {
		c.FirstByteTimeout = d.FirstByteTimeout
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = d.MaxConcurrent
	}
	if c.MaxPerHost <= 0 {
		c.MaxPerHost = d.MaxPerHost
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
	slots     *fetchSlots
}

// NewFetcher returns a fetcher that dials through netguard unless
// cfg.AllowPrivate.
func NewFetcher(cfg FetchConfig) *Fetcher {
	cfg = cfg.withDefaults()
	policy := netguard.Policy{AllowPrivate: cfg.AllowPrivate}
	transport := policy.Transport(cfg.ConnectTimeout)
	transport.ResponseHeaderTimeout = cfg.FirstByteTimeout
	return &Fetcher{cfg: cfg, transport: transport, slots: newFetchSlots(cfg.MaxConcurrent, cfg.MaxPerHost)}
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
// non-nil. Concurrent calls for the same URL share one download. It first
// waits for a slot (MaxConcurrent in all, MaxPerHost per host name), as long
// as the ctx of the caller who started it lasts; then it runs to completion
// (bounded by TotalTimeout) even if that caller gives up. A caller whose ctx
// ends first gets a fetch_timeout or network_error failure at once.
func (f *Fetcher) Fetch(ctx context.Context, minifiedURL string) (*Fetched, *Failure) {
	key := strings.TrimSpace(minifiedURL)
	if i := strings.IndexByte(key, '#'); i >= 0 {
		key = key[:i]
	}
	flight := f.flights.DoChan(key, func() (any, error) {
		release, err := f.slots.acquire(ctx, hostOf(key))
		if err != nil {
			return fetchOutcome{failure: Failf(FailureNetworkError, "fetching %s was cancelled while it waited for a free fetch slot: %v", key, err)}, nil
		}
		defer release()
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
