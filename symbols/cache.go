package symbols

import (
	"container/list"
	"sync"
	"sync/atomic"
)

// lru keeps values up to a total size in bytes and evicts the least recently
// used beyond it. It holds parsed maps (so a 20 MB map is parsed once, not
// per event) and highlighted source files.
type lru[K comparable, V any] struct {
	mu       sync.Mutex
	maxBytes int64
	used     int64
	order    *list.List // front = most recently used
	entries  map[K]*list.Element
	// hits and misses count lookups, for the hit rates on /metrics.
	hits, misses atomic.Int64
}

type lruEntry[K comparable, V any] struct {
	key   K
	value V
	size  int64
}

func newLRU[K comparable, V any](maxBytes int64) *lru[K, V] {
	return &lru[K, V]{maxBytes: maxBytes, order: list.New(), entries: map[K]*list.Element{}}
}

func (c *lru[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		c.misses.Add(1)
		var zero V
		return zero, false
	}
	c.hits.Add(1)
	c.order.MoveToFront(el)
	return el.Value.(*lruEntry[K, V]).value, true
}

func (c *lru[K, V]) put(k K, v V, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(k)
	if size > c.maxBytes {
		return // larger than the whole cache: rebuild it each time rather than flush everything
	}
	c.entries[k] = c.order.PushFront(&lruEntry[K, V]{key: k, value: v, size: size})
	c.used += size
	for c.used > c.maxBytes {
		c.removeLocked(c.order.Back().Value.(*lruEntry[K, V]).key)
	}
}

// removeIf drops every entry whose key matches (after a replace or delete).
func (c *lru[K, V]) removeIf(match func(K) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if match(k) {
			c.removeLocked(k)
		}
	}
}

func (c *lru[K, V]) removeLocked(k K) {
	el, ok := c.entries[k]
	if !ok {
		return
	}
	c.used -= el.Value.(*lruEntry[K, V]).size
	c.order.Remove(el)
	delete(c.entries, k)
}

// CacheStats are a cache's lookups since start and what it holds now.
type CacheStats struct {
	Hits, Misses int64
	Bytes        int64 // the sizes of the entries held
	MaxBytes     int64
}

func (c *lru[K, V]) stats() CacheStats {
	c.mu.Lock()
	used := c.used
	c.mu.Unlock()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Bytes: used, MaxBytes: c.maxBytes}
}
