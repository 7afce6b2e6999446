// Package ratelimit owns per-key token buckets: how many events a project may
// send per second, with a burst, and how long a refused sender should wait.
package ratelimit

import (
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

// Buckets holds one token bucket per key (a project id). It is safe for
// concurrent use; make one with New and share it.
type Buckets struct {
	mu  sync.Mutex
	m   map[int64]*bucket
	now func() time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
	limit  Limit
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
	if elapsed := now.Sub(bk.at).Seconds(); elapsed > 0 {
		bk.tokens += elapsed * limit.PerSecond
	}
	bk.at = now
	bk.tokens = math.Min(bk.tokens, burst)
	bk.limit = limit
	need := math.Min(float64(n), burst)
	if bk.tokens >= need {
		bk.tokens -= float64(n)
		return true, 0
	}
	wait := (need - bk.tokens) / limit.PerSecond
	return false, time.Duration(math.Ceil(wait * float64(time.Second)))
}
