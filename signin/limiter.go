// Package signin holds the rules that make password sign-in safe to expose:
// how many failed attempts an account and a client address may make before
// they have to wait.
package signin

import (
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Limits say how many failed sign-ins are allowed within Window.
type Limits struct {
	Window     time.Duration
	PerAccount int // failures for one email, from anywhere
	PerAddress int // failures from one client address (an IPv6 /64), for any emails
}

// DefaultLimits are 10 failures per account and 30 per address in 15 minutes:
// enough for a person who forgot which password they used, far too few to
// guess one.
func DefaultLimits() Limits {
	return Limits{Window: 15 * time.Minute, PerAccount: 10, PerAddress: 30}
}

// maxKeys bounds the limiter's memory: past it, expired entries are swept,
// and if that is not enough arbitrary entries are forgotten until a tenth of
// the room is free (so the sweep does not run again on the next failure).
const maxKeys = 100_000

// Limiter counts failed sign-ins in memory (per process). It is safe for
// concurrent use.
type Limiter struct {
	limits Limits
	mu     sync.Mutex
	// failures holds, per key, the times of the most recent failures, oldest
	// first, at most the key's limit of them.
	failures map[string][]time.Time
}

// NewLimiter makes a limiter with limits.
func NewLimiter(limits Limits) *Limiter {
	return &Limiter{limits: limits, failures: map[string][]time.Time{}}
}

func accountKey(email string) string { return "account:" + strings.ToLower(strings.TrimSpace(email)) }

// addressKey groups IPv6 clients by /64, the block one subscriber usually
// gets, so rotating through it does not buy more attempts.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "address:" + ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "address:" + p.String()
	}
	return "address:" + a.String()
}

// Allow tells whether a sign-in for email from ip may be tried now; if not,
// it also says how long until it may. Unknown emails are counted exactly
// like known ones, so the answer says nothing about which accounts exist.
func (l *Limiter) Allow(email, ip string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	wait := max(l.waitLocked(accountKey(email), l.limits.PerAccount, now), l.waitLocked(addressKey(ip), l.limits.PerAddress, now))
	return wait <= 0, wait
}

// waitLocked is how long key must wait before its next attempt (0 or less: none).
func (l *Limiter) waitLocked(key string, limit int, now time.Time) time.Duration {
	times := l.pruneLocked(key, now)
	if len(times) < limit {
		return 0
	}
	return times[len(times)-limit].Add(l.limits.Window).Sub(now)
}

// pruneLocked drops failures older than the window and returns what is left.
func (l *Limiter) pruneLocked(key string, now time.Time) []time.Time {
	times := l.failures[key]
	cut := 0
	for cut < len(times) && !times[cut].After(now.Add(-l.limits.Window)) {
		cut++
	}
	if cut == len(times) {
		delete(l.failures, key)
		return nil
	}
	if cut > 0 {
		times = times[cut:]
		l.failures[key] = times
	}
	return times
}

// Fail records a failed sign-in for email from ip.
func (l *Limiter) Fail(email, ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addLocked(accountKey(email), l.limits.PerAccount, now)
	l.addLocked(addressKey(ip), l.limits.PerAddress, now)
}

func (l *Limiter) addLocked(key string, limit int, now time.Time) {
	times := l.pruneLocked(key, now)
	if times == nil && len(l.failures) >= maxKeys {
		l.makeRoomLocked(now)
	}
	times = append(times, now)
	if len(times) > limit {
		times = times[len(times)-limit:]
	}
	l.failures[key] = times
}

func (l *Limiter) makeRoomLocked(now time.Time) {
	for key := range l.failures {
		l.pruneLocked(key, now)
	}
	for key := range l.failures {
		if len(l.failures) < maxKeys-maxKeys/10 {
			break
		}
		delete(l.failures, key)
	}
}

// Succeed forgets the account's failures after a right password: the person
// is back in, and their next typo should not lock them out. The address's
// count stays, so one good account does not launder guesses at others.
func (l *Limiter) Succeed(email string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, accountKey(email))
}
