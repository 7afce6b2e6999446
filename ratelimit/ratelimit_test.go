package ratelimit

import (
	"testing"
	"time"
)

// clock is a hand-moved time source, so the arithmetic is checked exactly.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newAt(c *clock) *Buckets {
	b := New()
	b.now = c.now
	return b
}

func TestBurstThenRate(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	b := newAt(c)
	lim := Limit{PerSecond: 10, Burst: 20}
	for i := range 20 {
		if ok, _ := b.Take(1, lim, 1); !ok {
			t.Fatalf("event %d of the burst refused", i+1)
		}
	}
	ok, wait := b.Take(1, lim, 1)
	if ok || wait != 100*time.Millisecond {
		t.Fatalf("21st event: ok=%v wait=%s, want refused with 100ms", ok, wait)
	}
	c.advance(100 * time.Millisecond)
	if ok, _ := b.Take(1, lim, 1); !ok {
		t.Fatalf("refused after the wait it was told")
	}
	// Another key is untouched by the first one's use.
	if ok, _ := b.Take(2, lim, 20); !ok {
		t.Fatalf("key 2 refused its first burst")
	}
}

func TestBigRequestNeedsFullBucketAndLeavesDebt(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	b := newAt(c)
	lim := Limit{PerSecond: 10, Burst: 20}
	if ok, _ := b.Take(1, lim, 5); !ok {
		t.Fatal("small request refused")
	}
	if ok, wait := b.Take(1, lim, 100); ok || wait != 500*time.Millisecond {
		t.Fatalf("100 events with 15 tokens: ok=%v wait=%s, want refused until the bucket is full (500ms)", ok, wait)
	}
	c.advance(500 * time.Millisecond)
	if ok, _ := b.Take(1, lim, 100); !ok {
		t.Fatal("100 events with a full bucket refused")
	}
	// 80 tokens of debt: 8 s until one event fits again (rounding aside).
	if ok, wait := b.Take(1, lim, 1); ok || wait < 8*time.Second || wait > 8100*time.Millisecond {
		t.Fatalf("after the debt: ok=%v wait=%s, want refused for about 8.1s", ok, wait)
	}
}

func TestUnlimitedAndChangedLimit(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	b := newAt(c)
	if ok, _ := b.Take(1, Limit{}, 1_000_000); !ok {
		t.Fatal("no limit refused")
	}
	if ok, _ := b.Take(1, Limit{PerSecond: 100, Burst: 1000}, 1000); !ok {
		t.Fatal("first burst refused")
	}
	// Lowering the limit applies at once; raising it refills at the new rate.
	if ok, _ := b.Take(1, Limit{PerSecond: 1, Burst: 1}, 1); ok {
		t.Fatal("empty bucket let an event through after the limit was lowered")
	}
	c.advance(time.Second)
	if ok, _ := b.Take(1, Limit{PerSecond: 1, Burst: 1}, 1); !ok {
		t.Fatal("refused after a second at 1/s")
	}
}
