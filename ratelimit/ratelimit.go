// Package ratelimit owns per-key token buckets: how many events a project may
// send per second, with a burst, and how long a refused sender should wait.
// Several processes on one database share each project's limit through a
// Usage store (see Buckets.Sync).
package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"
)

// Limit is a sustained rate with a burst. A zero (or negative) PerSecond
// means no limit.
type Limit struct {
	PerSecond float64
	Burst     float64
}

// Unlimited reports whether l lets everything through.
func (l Limit) Unlimited() bool { return l.PerSecond <= 0 }

// Usage is where the processes sharing a database count the events they
// accepted, per project (db.DB implements it).
type Usage interface {
	// AddCaptureUsage adds accepted[p] to project p's count of accepted
	// events, for every p in one transaction, and returns each count after
	// the addition. Projects that no longer exist are left out.
	AddCaptureUsage(ctx context.Context, accepted map[int64]int64) (map[int64]int64, error)
}

// Buckets holds one token bucket per key (a project id). It is safe for
// concurrent use; make one with New and share it.
//
// Alone, a process's buckets limit only what it accepts. Sync makes the
// processes sharing a database share the limits instead: each one adds what
// it accepted to a cluster-wide count per project, reads back what the
// others accepted meanwhile and takes that from its own bucket too (a
// bucket may go into debt, which refuses until the refill pays it back).
// So every process's bucket is the cluster's bucket, only late by what the
// others accepted since their last Sync and its own. Requests never wait
// for the database.
//
// The bound: with N processes syncing every T, over any span of time Δ the
// cluster accepts at most PerSecond·Δ + Burst (what one process alone
// would) plus what the other N−1 accepted unseen, which is at most
// (N−1)·(Burst + 2·T·PerSecond): a one-off excess, paid back as debt, not
// a rate. A bucket new to a process (a process starting, a project it had
// not seen for a while) starts full before it has seen the others, which
// that Burst term covers; a request bigger than the burst adds its excess
// over the burst, as it does for one process. Refills are counted on each
// process's own clock. With the defaults (1000/s, burst 10000, T = 1 s) and
// three processes that excess is at most 24,000 events.
//
// Dividing the rate by the number of live processes would need no debt,
// but would hold a project to 1/N of its limit whenever its traffic is not
// spread evenly (one SDK on one kept-alive connection reaches one node).
type Buckets struct {
	mu  sync.Mutex
	m   map[int64]*bucket
	now func() time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
	limit  Limit
	// unsynced is what this process accepted since its last Sync.
	unsynced int64
	// clusterTotal is the cluster's count of accepted events as of the
	// last Sync; known says there was one.
	clusterTotal int64
	known        bool
}

// New makes an empty set of buckets.
func New() *Buckets {
	return &Buckets{m: map[int64]*bucket{}, now: time.Now}
}

// Take takes n tokens from key's bucket under limit. A request fits when the
// bucket holds n tokens, or (for a request bigger than the burst) when the
// bucket is full; a bigger request then leaves the bucket in debt, so big
// batches cannot slip past the rate. When it does not fit, nothing is taken
// and retryAfter says when it would.
//
// The limit is passed on every call (it comes from the project's settings),
// so a changed setting applies from the next request: the bucket keeps its
// tokens, capped at the new burst.
func (b *Buckets) Take(key int64, limit Limit, n int) (ok bool, retryAfter time.Duration) {
	if limit.Unlimited() || n <= 0 {
		return true, 0
	}
	burst := math.Max(limit.Burst, 1)
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	bk, found := b.m[key]
	if !found {
		bk = &bucket{tokens: burst, at: now, limit: limit}
		b.m[key] = bk
	}
	bk.refill(now, limit)
	need := math.Min(float64(n), burst)
	if bk.tokens >= need {
		bk.tokens -= float64(n)
		bk.unsynced += int64(n)
		return true, 0
	}
	wait := (need - bk.tokens) / limit.PerSecond
	return false, time.Duration(math.Ceil(wait * float64(time.Second)))
}

func (bk *bucket) refill(now time.Time, limit Limit) {
	if elapsed := now.Sub(bk.at).Seconds(); elapsed > 0 {
		bk.tokens += elapsed * limit.PerSecond
		bk.at = now
	}
	bk.tokens = math.Min(bk.tokens, math.Max(limit.Burst, 1))
	bk.limit = limit
}

// idleBefore is how long a bucket may go without a request before Sync
// forgets it: by then it would be full again by its own refill (the next
// request starts a full one), and the process stops writing its usage.
func (bk *bucket) idleBefore() time.Duration {
	full := time.Duration(math.Max(bk.limit.Burst, 1) / bk.limit.PerSecond * float64(time.Second))
	return max(time.Minute, full)
}

// Sync adds what this process accepted since the last Sync to the cluster's
// counts in usage, and takes what the other processes accepted meanwhile
// from this process's buckets. Run calls it every interval; its cost is one
// write transaction for all the projects with a bucket, none while there
// is none.
func (b *Buckets) Sync(ctx context.Context, usage Usage) error {
	now := b.now()
	b.mu.Lock()
	pushed := make(map[int64]int64, len(b.m))
	for key, bk := range b.m {
		if bk.unsynced == 0 && now.Sub(bk.at) > bk.idleBefore() {
			delete(b.m, key)
			continue
		}
		pushed[key] = bk.unsynced
	}
	b.mu.Unlock()
	if len(pushed) == 0 {
		return nil
	}
	totals, err := usage.AddCaptureUsage(ctx, pushed)
	if err != nil {
		return fmt.Errorf("share the capture rate limits: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for key, mine := range pushed {
		bk, ok := b.m[key]
		if !ok {
			continue
		}
		total, exists := totals[key]
		if !exists {
			delete(b.m, key) // the project is gone
			continue
		}
		bk.unsynced -= mine
		if bk.known {
			if others := total - bk.clusterTotal - mine; others > 0 {
				bk.tokens -= float64(others)
			}
		}
		bk.clusterTotal, bk.known = total, true
	}
	return nil
}

// Run calls Sync every interval until ctx is done. A failed Sync is logged
// and the buckets go on limiting this process alone until one succeeds.
func (b *Buckets) Run(ctx context.Context, usage Usage, interval time.Duration, log *slog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if err := b.Sync(ctx, usage); err != nil && ctx.Err() == nil {
			log.Warn("capture rate limits are per process until the database answers", "err", err)
		}
	}
}
