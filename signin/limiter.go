// Package signin holds the rules that make password sign-in safe to expose:
// how many failed attempts an account and a client address may make before
// they have to wait. The failures are kept in a Store (the database), so
// every stacklens process sharing it counts the same ones and a restart
// forgets none.
package signin

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
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

// Store keeps failed sign-ins where every process sharing it sees them
// (db.DB implements it). Accounts and addresses are the keys this package
// makes of an email and a client IP.
type Store interface {
	// RecordSignInFailure keeps one failure naming account from address at
	// at, and deletes the failures at or before forgetBefore.
	RecordSignInFailure(ctx context.Context, account, address string, at, forgetBefore time.Time) error
	// SignInFailuresOfAccount are the times of account's newest failures
	// after since, newest first, at most n of them.
	SignInFailuresOfAccount(ctx context.Context, account string, since time.Time, n int) ([]time.Time, error)
	// SignInFailuresOfAddress are the same for the failures from address.
	SignInFailuresOfAddress(ctx context.Context, address string, since time.Time, n int) ([]time.Time, error)
	// ForgetSignInFailuresOfAccount stops counting account's failures
	// against it (they still count against their addresses), and deletes
	// the failures at or before forgetBefore.
	ForgetSignInFailuresOfAccount(ctx context.Context, account string, forgetBefore time.Time) error
}

// Limiter applies Limits to the failures in a Store. It is safe for
// concurrent use, as the store is.
type Limiter struct {
	limits Limits
	store  Store
}

// NewLimiter makes a limiter that counts failures in store.
func NewLimiter(store Store, limits Limits) *Limiter {
	return &Limiter{limits: limits, store: store}
}

func accountKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// addressKey groups IPv6 clients by /64, the block one subscriber usually
// gets, so rotating through it does not buy more attempts.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// Allow tells whether a sign-in for email from ip may be tried now; if not,
// it also says how long until it may. Unknown emails are counted exactly
// like known ones, so the answer says nothing about which accounts exist.
func (l *Limiter) Allow(ctx context.Context, email, ip string, now time.Time) (bool, time.Duration, error) {
	since := now.Add(-l.limits.Window)
	account, err := l.store.SignInFailuresOfAccount(ctx, accountKey(email), since, l.limits.PerAccount)
	if err != nil {
		return false, 0, fmt.Errorf("check the sign-in limits: %w", err)
	}
	address, err := l.store.SignInFailuresOfAddress(ctx, addressKey(ip), since, l.limits.PerAddress)
	if err != nil {
		return false, 0, fmt.Errorf("check the sign-in limits: %w", err)
	}
	wait := max(l.wait(account, l.limits.PerAccount, now), l.wait(address, l.limits.PerAddress, now))
	return wait <= 0, wait, nil
}

// wait is how long a key whose newest failures in the window are newest
// (newest first, at most limit of them) must wait before its next attempt:
// until the oldest of limit failures leaves the window (0 or less: none;
// a limit of 0 or less is no limit).
func (l *Limiter) wait(newest []time.Time, limit int, now time.Time) time.Duration {
	if len(newest) < limit || limit <= 0 {
		return 0
	}
	return newest[limit-1].Add(l.limits.Window).Sub(now)
}

// Fail records a failed sign-in for email from ip.
func (l *Limiter) Fail(ctx context.Context, email, ip string, now time.Time) error {
	return l.store.RecordSignInFailure(ctx, accountKey(email), addressKey(ip), now, now.Add(-l.limits.Window))
}

// Succeed forgets the account's failures after a right password: the person
// is back in, and their next typo should not lock them out. The address's
// count stays, so one good account does not launder guesses at others.
func (l *Limiter) Succeed(ctx context.Context, email string, now time.Time) error {
	return l.store.ForgetSignInFailuresOfAccount(ctx, accountKey(email), now.Add(-l.limits.Window))
}
