package signin

import (
	"fmt"
	"testing"
	"time"
)

func TestAccountLockAndRelease(t *testing.T) {
	l := NewLimiter(Limits{Window: 15 * time.Minute, PerAccount: 10, PerAddress: 30})
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		now := start.Add(time.Duration(i) * time.Second)
		if ok, _ := l.Allow("Person@Example.com", "198.51.100.1", now); !ok {
			t.Fatalf("attempt %d refused, want allowed", i+1)
		}
		l.Fail("person@example.com ", "198.51.100.1", now)
	}
	ok, wait := l.Allow("person@example.com", "203.0.113.9", start.Add(10*time.Second))
	if ok || wait != 15*time.Minute-10*time.Second {
		t.Fatalf("11th attempt from another address: allowed=%v wait=%v, want refused for 14m50s", ok, wait)
	}
	if ok, _ := l.Allow("other@example.com", "203.0.113.9", start.Add(10*time.Second)); !ok {
		t.Errorf("another account from another address was refused")
	}
	if ok, _ := l.Allow("person@example.com", "198.51.100.1", start.Add(15*time.Minute+time.Second)); !ok {
		t.Errorf("once the oldest failure left the window the account is still refused")
	}
	l.Succeed("person@example.com")
	if ok, _ := l.Allow("person@example.com", "198.51.100.1", start.Add(11*time.Second)); !ok {
		t.Errorf("after a success the account is still refused")
	}
}

func TestAddressLimitCoversManyAccountsAndIPv6Block(t *testing.T) {
	l := NewLimiter(Limits{Window: time.Minute, PerAccount: 10, PerAddress: 30})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 30 {
		l.Fail(fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("2001:db8:1:2::%x", i+1), now)
	}
	if ok, _ := l.Allow("fresh@example.com", "2001:db8:1:2:ffff::1", now); ok {
		t.Errorf("an address in the same /64 after 30 failures was allowed")
	}
	if ok, _ := l.Allow("fresh@example.com", "2001:db8:1:3::1", now); !ok {
		t.Errorf("another /64 was refused")
	}
}

func TestMemoryIsBounded(t *testing.T) {
	l := NewLimiter(DefaultLimits())
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range maxKeys + 500 {
		l.Fail(fmt.Sprintf("u%d@example.com", i), "198.51.100.1", now)
	}
	if n := len(l.failures); n > maxKeys {
		t.Errorf("limiter holds %d keys, want at most %d", n, maxKeys)
	}
}
