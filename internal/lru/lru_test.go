package lru

import "testing"

func TestCacheEvictsLeastRecentlyUsedBeyondItsSize(t *testing.T) {
	c := New[string, int](10)
	c.Put("a", 1, 4)
	c.Put("b", 2, 4)
	if _, ok := c.Get("a"); !ok { // a is now the most recently used
		t.Fatal("a missing")
	}
	c.Put("c", 3, 4) // 12 bytes: b goes
	if _, ok := c.Get("b"); ok {
		t.Error("b kept past the size")
	}
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Errorf("a = %v, %v", v, ok)
	}
	c.Put("huge", 9, 11) // larger than the cache: not held, nothing flushed
	if _, ok := c.Get("huge"); ok {
		t.Error("an entry larger than the cache was held")
	}
	c.RemoveIf(func(k string) bool { return k == "c" })
	s := c.Stats()
	if _, ok := c.Get("c"); ok || s.Bytes != 4 || s.MaxBytes != 10 || s.Hits != 2 || s.Misses != 2 {
		t.Errorf("after removing c: %+v", s)
	}
}
