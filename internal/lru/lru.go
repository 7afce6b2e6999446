// Package lru is a cache bounded by the total size of its values, which
// evicts the least recently used beyond it, and counts its hits.
package lru

import (
	"container/list"
	"sync"
	"sync/atomic"
)

// Cache keeps values up to a total size in bytes and evicts the least
// recently used beyond it.
type Cache[K comparable, V any] struct {
	mu       sync.Mutex
	maxBytes int64
	used     int64
	order    *list.List // front = most recently used
	entries  map[K]*list.Element
	// hits and misses count lookups, for the hit rates on /metrics.
	hits, misses atomic.Int64
}

type entry[K comparable, V any] struct {
	key   K
	value V
	size  int64
}

// New makes a cache of at most maxBytes.
func New[K comparable, V any](maxBytes int64) *Cache[K, V] {
	return &Cache[K, V]{maxBytes: maxBytes, order: list.New(), entries: map[K]*list.Element{}}
}

// Get returns the value of k, if held.
func (c *Cache[K, V]) Get(k K) (V, bool) {
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
	return el.Value.(*entry[K, V]).value, true
}

// Put holds v, of size bytes, under k.
func (c *Cache[K, V]) Put(k K, v V, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(k)
	if size > c.maxBytes {
		return // larger than the whole cache: rebuild it each time rather than flush everything
	}
	c.entries[k] = c.order.PushFront(&entry[K, V]{key: k, value: v, size: size})
	c.used += size
	for c.used > c.maxBytes {
		c.removeLocked(c.order.Back().Value.(*entry[K, V]).key)
	}
}

// RemoveIf drops every entry whose key matches (after a replace or delete).
func (c *Cache[K, V]) RemoveIf(match func(K) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if match(k) {
			c.removeLocked(k)
		}
	}
}

func (c *Cache[K, V]) removeLocked(k K) {
	el, ok := c.entries[k]
	if !ok {
		return
	}
	c.used -= el.Value.(*entry[K, V]).size
	c.order.Remove(el)
	delete(c.entries, k)
}

// Stats are a cache's lookups since start and what it holds now.
type Stats struct {
	Hits, Misses int64
	Bytes        int64 // the sizes of the entries held
	MaxBytes     int64
}

// Stats tells the cache's lookups and size.
func (c *Cache[K, V]) Stats() Stats {
	c.mu.Lock()
	used := c.used
	c.mu.Unlock()
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Bytes: used, MaxBytes: c.maxBytes}
}
