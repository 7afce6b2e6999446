package signin_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/internal/testkit"
	"github.com/stacklens/stacklens/signin"
)

// node is one stacklens process's view of the shared database.
type node struct {
	db    *db.DB
	close func()
}

// onEachEngine runs test on a fresh SQLite file and on a fresh PostgreSQL
// database (skipped, or failed under STACKLENS_E2E_REQUIRED=1, when
// STACKLENS_TEST_POSTGRES is unset). Each call of open is another process
// opening the same database.
func onEachEngine(t *testing.T, test func(t *testing.T, open func() node)) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "stacklens.db")
		test(t, func() node {
			return track(t, func() (*db.DB, error) { return db.Open(ctx, path) })
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dbURL := testkit.PostgresDatabase(t)
		test(t, func() node {
			return track(t, func() (*db.DB, error) { return db.OpenPostgres(ctx, dbURL) })
		})
	})
}

func track(t *testing.T, open func() (*db.DB, error)) node {
	t.Helper()
	d, err := open()
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	closeIt := func() { once.Do(func() { d.Close() }) }
	t.Cleanup(closeIt)
	return node{db: d, close: closeIt}
}

func allow(t *testing.T, l *signin.Limiter, email, ip string, now time.Time) (bool, time.Duration) {
	t.Helper()
	ok, wait, err := l.Allow(context.Background(), email, ip, now)
	if err != nil {
		t.Fatal(err)
	}
	return ok, wait
}

func fail(t *testing.T, l *signin.Limiter, email, ip string, now time.Time) {
	t.Helper()
	if err := l.Fail(context.Background(), email, ip, now); err != nil {
		t.Fatal(err)
	}
}

// TestAccountLockAndReleaseAcrossNodes: failures made through two processes
// add up; the lock says how long it lasts, holds on either process, ends
// when the oldest failure leaves the window, and a right password on one
// process releases the account on the other.
func TestAccountLockAndReleaseAcrossNodes(t *testing.T) {
	onEachEngine(t, func(t *testing.T, open func() node) {
		limits := signin.Limits{Window: 15 * time.Minute, PerAccount: 10, PerAddress: 30}
		a, b := signin.NewLimiter(open().db, limits), signin.NewLimiter(open().db, limits)
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 10 {
			now := start.Add(time.Duration(i) * time.Second)
			through := a
			if i%2 == 1 {
				through = b
			}
			if ok, _ := allow(t, through, "Person@Example.com", "198.51.100.1", now); !ok {
				t.Fatalf("attempt %d refused, want allowed", i+1)
			}
			fail(t, through, "person@example.com ", "198.51.100.1", now)
		}
		for name, l := range map[string]*signin.Limiter{"first": a, "second": b} {
			ok, wait := allow(t, l, "person@example.com", "203.0.113.9", start.Add(10*time.Second))
			if ok || wait != 15*time.Minute-10*time.Second {
				t.Fatalf("11th attempt through the %s process from another address: allowed=%v wait=%v, want refused for 14m50s", name, ok, wait)
			}
		}
		if ok, _ := allow(t, a, "other@example.com", "203.0.113.9", start.Add(10*time.Second)); !ok {
			t.Errorf("another account from another address was refused")
		}
		if ok, _ := allow(t, b, "person@example.com", "198.51.100.1", start.Add(15*time.Minute+time.Second)); !ok {
			t.Errorf("once the oldest failure left the window the account is still refused")
		}
		if err := b.Succeed(context.Background(), "PERSON@example.com", start.Add(11*time.Second)); err != nil {
			t.Fatal(err)
		}
		if ok, _ := allow(t, a, "person@example.com", "198.51.100.2", start.Add(12*time.Second)); !ok {
			t.Errorf("after a success through the other process the account is still refused")
		}
	})
}

// TestAddressLimitCoversManyAccountsAndIPv6Block: 30 failures from one /64,
// each for another account and through either process, lock the block out
// for every email; the next /64 is free. An account's right password does
// not take its failures off the address's count.
func TestAddressLimitCoversManyAccountsAndIPv6Block(t *testing.T) {
	onEachEngine(t, func(t *testing.T, open func() node) {
		limits := signin.Limits{Window: time.Minute, PerAccount: 10, PerAddress: 30}
		nodes := []*signin.Limiter{signin.NewLimiter(open().db, limits), signin.NewLimiter(open().db, limits)}
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 29 {
			fail(t, nodes[i%2], fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("2001:db8:1:2::%x", i+1), now)
		}
		if ok, _ := allow(t, nodes[0], "fresh@example.com", "2001:db8:1:2:ffff::1", now); !ok {
			t.Fatalf("the /64 was refused after 29 failures, want allowed up to 30")
		}
		fail(t, nodes[1], "user0@example.com", "2001:db8:1:2::99", now)
		if err := nodes[0].Succeed(context.Background(), "user0@example.com", now); err != nil {
			t.Fatal(err)
		}
		for i, l := range nodes {
			if ok, _ := allow(t, l, "fresh@example.com", "2001:db8:1:2:ffff::1", now); ok {
				t.Errorf("process %d: an address in the same /64 after 30 failures (one account since signed in) was allowed", i+1)
			}
			if ok, _ := allow(t, l, "fresh@example.com", "2001:db8:1:3::1", now); !ok {
				t.Errorf("process %d: another /64 was refused", i+1)
			}
		}
	})
}

// TestFailuresOutliveARestart: a process that reopens the database still
// refuses an account locked before it closed.
func TestFailuresOutliveARestart(t *testing.T) {
	onEachEngine(t, func(t *testing.T, open func() node) {
		limits := signin.DefaultLimits()
		first := open()
		l := signin.NewLimiter(first.db, limits)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for range limits.PerAccount {
			fail(t, l, "person@example.com", "198.51.100.1", now)
		}
		first.close()
		l = signin.NewLimiter(open().db, limits)
		ok, wait := allow(t, l, "person@example.com", "198.51.100.1", now.Add(time.Minute))
		if ok || wait != limits.Window-time.Minute {
			t.Fatalf("after the restart: allowed=%v wait=%v, want refused for %v", ok, wait, limits.Window-time.Minute)
		}
	})
}

// TestOldFailuresAreDeleted: a failure deletes the ones that left the
// window (the store no longer has them, whatever window is asked for),
// and keeps the ones inside it.
func TestOldFailuresAreDeleted(t *testing.T) {
	onEachEngine(t, func(t *testing.T, open func() node) {
		limits := signin.Limits{Window: time.Minute, PerAccount: 10, PerAddress: 30}
		store := open().db
		l := signin.NewLimiter(store, limits)
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		fail(t, l, "a@example.com", "198.51.100.1", start)
		fail(t, l, "b@example.com", "198.51.100.1", start.Add(30*time.Second))
		fail(t, l, "c@example.com", "198.51.100.1", start.Add(80*time.Second))
		times, err := store.SignInFailuresOfAddress(context.Background(), "198.51.100.1", start.Add(-time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		want := []time.Time{start.Add(80 * time.Second), start.Add(30 * time.Second)}
		if len(times) != len(want) || !times[0].Equal(want[0]) || !times[1].Equal(want[1]) {
			t.Fatalf("failures kept after one 80 s in: %v, want %v (the one at 0 s left the 60 s window)", times, want)
		}
	})
}
