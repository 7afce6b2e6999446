package symbols

import "github.com/stacklens/stacklens/internal/lru"

// CacheStats are a cache's lookups since start and what it holds now.
type CacheStats = lru.Stats
