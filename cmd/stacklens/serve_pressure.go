package main

import (
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/ratelimit"
)

// pressureConfig is backpressure: how much may wait in the inbox, the free
// disk space kept, and the default per-project capture rate limit.
type pressureConfig struct {
	Inbox     db.InboxLimits
	RateLimit int64 // events per second per project; 0 = no limit
	RateBurst int64 // events a project may send at once
}

// defaultRateLimit is generous: far above what an app's errors amount to,
// low enough that one leaked token cannot fill the disk in minutes.
const (
	defaultRateLimit = 1000
	defaultRateBurst = 10_000
)

// rateLimitSyncInterval is how often a process adds what it accepted to the
// cluster's count and pays for what the others accepted: the T of the
// overshoot bound in ratelimit.Buckets, for one write transaction a second.
const rateLimitSyncInterval = time.Second

// pressureFlags adds the backpressure settings.
func pressureFlags(fs *flag.FlagSet, env func(name, def string) string, cfg *pressureConfig) error {
	def := db.DefaultInboxLimits()
	nonNegative := func(name string, dflt int64) (int64, error) {
		v, err := strconv.ParseInt(env(name, strconv.FormatInt(dflt, 10)), 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%s must be a whole number, 0 or more", name)
		}
		return v, nil
	}
	maxEvents, err := nonNegative("STACKLENS_INBOX_MAX_EVENTS", def.MaxEvents)
	if err != nil {
		return err
	}
	maxBytes, err := nonNegative("STACKLENS_INBOX_MAX_BYTES", def.MaxBytes)
	if err != nil {
		return err
	}
	minFree, err := nonNegative("STACKLENS_MIN_FREE_DISK_BYTES", int64(def.MinFreeDiskBytes))
	if err != nil {
		return err
	}
	rate, err := nonNegative("STACKLENS_RATE_LIMIT", defaultRateLimit)
	if err != nil {
		return err
	}
	burst, err := nonNegative("STACKLENS_RATE_LIMIT_BURST", defaultRateBurst)
	if err != nil {
		return err
	}
	fs.Int64Var(&cfg.Inbox.MaxEvents, "inbox-max-events", maxEvents, "events that may wait for processing before capture answers 503; 0 = no cap (STACKLENS_INBOX_MAX_EVENTS)")
	fs.Int64Var(&cfg.Inbox.MaxBytes, "inbox-max-bytes", maxBytes, "bytes of events that may wait for processing before capture answers 503; 0 = no cap (STACKLENS_INBOX_MAX_BYTES)")
	fs.Uint64Var(&cfg.Inbox.MinFreeDiskBytes, "min-free-disk-bytes", uint64(minFree), "free space kept on the database's disk: below it capture answers 503 and /readyz is not ready; 0 = no check (STACKLENS_MIN_FREE_DISK_BYTES)")
	fs.Int64Var(&cfg.RateLimit, "rate-limit", rate, "events per second each project may send, unless set in its Project settings; 0 = no limit (STACKLENS_RATE_LIMIT)")
	fs.Int64Var(&cfg.RateBurst, "rate-limit-burst", burst, "events a project may send at once under the default rate limit (STACKLENS_RATE_LIMIT_BURST)")
	return nil
}

// defaultLimit is the rate limit of projects without one of their own.
func (p pressureConfig) defaultLimit() ratelimit.Limit {
	return ratelimit.Limit{PerSecond: float64(p.RateLimit), Burst: float64(max(p.RateBurst, p.RateLimit))}
}
