package symbols

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/highlight"
)

// Store keeps symbol sets and frame resolutions (the db package implements it).
type Store interface {
	SymbolSet(ctx context.Context, projectID int64, ref string) (SymbolSet, error)
	SymbolSetByID(ctx context.Context, projectID, id int64) (SymbolSet, error)
	SymbolSetFiles(ctx context.Context, id int64) (sourceMap, minified []byte, err error)
	SaveSymbolSet(ctx context.Context, s SymbolSet, sourceMap, minified []byte) (SymbolSet, error)
	TouchSymbolSet(ctx context.Context, id int64, at time.Time) error
	SaveFrameResolutions(ctx context.Context, projectID int64, frames []event.Frame) error
	FramesOfSymbolSet(ctx context.Context, projectID, symbolSetID int64) ([]event.Frame, error)
}

// ResolverConfig tunes a Resolver.
type ResolverConfig struct {
	Fetch FetchConfig
	// CacheBytes bounds the memory held by parsed maps; highlighted sources get a quarter of it again.
	CacheBytes int64
	// RetryAfter is how long a failed fetch is trusted before it is tried again.
	RetryAfter time.Duration
}

// Resolver turns minified frames into original ones: it finds each frame's
// symbol set (cache, store, else fetch and store, or store the failure) and
// looks the position up. It runs in the pipeline worker, never in a request.
type Resolver struct {
	store   Store
	fetcher *Fetcher
	maps    *lru[mapKey, *parsedSet]
	sources *lru[sourceKey, []template.HTML]
	// frames caches answers per position: the same errors repeat, and the
	// enclosing-function search is the costly part of a lookup.
	frames *lru[frameKey, event.Resolution]
	// sets caches symbol-set records briefly, so a busy ingest does not ask
	// the database for the same set for every frame.
	sets       *lru[setKey, cachedSet]
	ensure     singleflight.Group
	retryAfter time.Duration

	mu sync.Mutex
	// touched remembers when last_used was last written per set: it is
	// written at most once a minute, not once per frame.
	touched map[int64]time.Time
	// changed holds symbol sets that went from missing to stored by a
	// refetch during resolution; their older frames need resolving again.
	changed []SymbolSetRef
}

// SymbolSetRef names one symbol set of one project.
type SymbolSetRef struct {
	ProjectID int64
	ID        int64
}

type mapKey struct {
	symbolSetID int64
	contentHash string
}

type sourceKey struct {
	mapKey
	index int
}

type frameKey struct {
	mapKey
	line, column int
	inApp        bool
}

type setKey struct {
	projectID int64
	ref       string
}

type cachedSet struct {
	set     SymbolSet
	fetched time.Time
}

// setCacheTTL bounds how stale a cached symbol-set record may be (another
// process may have stored a set meanwhile).
const setCacheTTL = 30 * time.Second

// parsedSet is a stored symbol set ready for lookups.
type parsedSet struct {
	sourceMap *SourceMap
	minified  string
}

// NewResolver makes a resolver over store.
func NewResolver(store Store, cfg ResolverConfig) *Resolver {
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = 256 << 20
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 24 * time.Hour
	}
	return &Resolver{store: store, fetcher: NewFetcher(cfg.Fetch), maps: newLRU[mapKey, *parsedSet](cfg.CacheBytes),
		sources: newLRU[sourceKey, []template.HTML](cfg.CacheBytes / 4),
		frames:  newLRU[frameKey, event.Resolution](16 << 20), sets: newLRU[setKey, cachedSet](4 << 20),
		touched: map[int64]time.Time{}, retryAfter: cfg.RetryAfter}
}

// Symbolicate sets the Resolution of every frame of ev that has a symbol-set
// reference (the caller records them with the event). Frames of other
// platforms, and JavaScript frames with context sent by the client, are left as sent.
func (r *Resolver) Symbolicate(ctx context.Context, projectID int64, ev *event.Event) error {
	for i := range ev.Exceptions {
		frames := ev.Exceptions[i].Frames
		for j := range frames {
			f := &frames[j]
			if !needsResolution(*f) {
				continue
			}
			res, err := r.resolveFrame(ctx, projectID, *f)
			if err != nil {
				return err
			}
			f.Resolution = &res
		}
	}
	return nil
}

// needsResolution: browser frames always; Node frames only when they point at
// an http(s) bundle or carry a chunk/debug id (server code is rarely minified).
func needsResolution(f event.Frame) bool {
	_, kind := FrameRef(f)
	if kind != RefNone {
		return true
	}
	return f.Platform == "web:javascript" && f.ContextLine == ""
}

func (r *Resolver) resolveFrame(ctx context.Context, projectID int64, f event.Frame) (event.Resolution, error) {
	ref, kind := FrameRef(f)
	if kind == RefNone {
		return event.Resolution{FailureCode: FailureNoReference}, nil
	}
	set, parsed, err := r.symbolSet(ctx, projectID, ref, kind)
	if err != nil {
		return event.Resolution{}, err
	}
	res := event.Resolution{SymbolSetRef: ref, SymbolSetID: set.ID}
	if !set.Stored {
		res.FailureCode = set.Failure.Code
		return res, nil
	}
	if err := r.touch(ctx, set.ID); err != nil {
		return event.Resolution{}, err
	}
	line, column := f.Lineno, max(f.Colno-1, 0)
	key := frameKey{mapKey{set.ID, set.ContentHash}, line, column, f.InApp}
	if cached, ok := r.frames.get(key); ok {
		cached.SymbolSetRef = ref
		return cached, nil
	}
	pos, ok := parsed.sourceMap.Lookup(line, column)
	if !ok {
		res.FailureCode = FailureTokenNotFound
		return res, nil
	}
	res.Resolved = true
	res.Source, res.SourceIndex, res.Line, res.Column = pos.Source, pos.SourceIndex, pos.Line, pos.Column+1
	res.Name = parsed.sourceMap.EnclosingFunction(parsed.minified, line, column)
	res.InApp = f.InApp && !strings.Contains(pos.Source, "node_modules/") && !parsed.sourceMap.Ignored(pos.SourceIndex)
	r.frames.put(key, res, int64(64+len(res.Source)+len(res.Name)+len(ref)))
	return res, nil
}

func (r *Resolver) touch(ctx context.Context, setID int64) error {
	now := time.Now()
	r.mu.Lock()
	last, seen := r.touched[setID]
	if seen && now.Sub(last) < time.Minute {
		r.mu.Unlock()
		return nil
	}
	r.touched[setID] = now
	r.mu.Unlock()
	return r.store.TouchSymbolSet(ctx, setID, now)
}

// symbolSet finds or makes the symbol set of ref. Concurrent callers for the
// same ref share one lookup and at most one fetch.
func (r *Resolver) symbolSet(ctx context.Context, projectID int64, ref string, kind RefKind) (SymbolSet, *parsedSet, error) {
	v, err, _ := r.ensure.Do(fmt.Sprintf("%d\x00%s", projectID, ref), func() (any, error) {
		if c, ok := r.sets.get(setKey{projectID, ref}); ok && time.Since(c.fetched) < setCacheTTL &&
			(c.set.Stored || kind != RefURL || time.Since(c.set.UpdatedAt) <= r.retryAfter) {
			return c.set, nil
		}
		set, err := r.lookupSet(ctx, projectID, ref, kind)
		if err == nil {
			r.sets.put(setKey{projectID, ref}, cachedSet{set: set, fetched: time.Now()}, int64(256+len(ref)))
		}
		return set, err
	})
	if err != nil {
		return SymbolSet{}, nil, err
	}
	set := v.(SymbolSet)
	if !set.Stored {
		return set, nil, nil
	}
	parsed, err := r.parsed(ctx, set)
	if err != nil {
		// A stored map that no longer parses is shown as invalid rather than failing the event.
		set.Stored, set.Failure = false, Failf(FailureInvalidSourcemap, "%v", err)
		return set, nil, nil
	}
	return set, parsed, nil
}

// lookupSet loads the symbol set of ref, creating it (fetch or not_uploaded)
// when there is none or when a failed fetch is old enough to try again.
func (r *Resolver) lookupSet(ctx context.Context, projectID int64, ref string, kind RefKind) (SymbolSet, error) {
	set, err := r.store.SymbolSet(ctx, projectID, ref)
	switch {
	case errors.Is(err, ErrNoSymbolSet):
		return r.create(ctx, projectID, ref, kind)
	case err == nil && !set.Stored && kind == RefURL && time.Since(set.UpdatedAt) > r.retryAfter:
		set, err = r.create(ctx, projectID, ref, kind)
		if err == nil && set.Stored {
			r.mu.Lock()
			r.changed = append(r.changed, SymbolSetRef{ProjectID: projectID, ID: set.ID})
			r.mu.Unlock()
		}
	}
	return set, err
}

// create fetches a URL symbol set, or records that a chunk/debug id has no upload.
func (r *Resolver) create(ctx context.Context, projectID int64, ref string, kind RefKind) (SymbolSet, error) {
	set := SymbolSet{ProjectID: projectID, Ref: ref, Kind: kind}
	if kind != RefURL {
		set.Failure = Failf(FailureNotUploaded, "No source map was uploaded for %s %s.", strings.ReplaceAll(string(kind), "_", " "), ref)
		return r.store.SaveSymbolSet(ctx, set, nil, nil)
	}
	fetched, failure := r.fetcher.Fetch(ctx, ref)
	if failure != nil {
		set.Failure = failure
		return r.store.SaveSymbolSet(ctx, set, nil, nil)
	}
	set.MinifiedURL, set.MapURL = fetched.MinifiedURL, fetched.MapURL
	if _, err := ParseSourceMap(fetched.Map); err != nil {
		set.Failure = &Failure{Code: FailureInvalidSourcemap, Steps: fetched.Steps,
			Message: fmt.Sprintf("The source map at %s is not usable: %v", fetched.MapURL, err)}
		return r.store.SaveSymbolSet(ctx, set, nil, nil)
	}
	set.Stored, set.Origin = true, OriginFetched
	saved, err := r.store.SaveSymbolSet(ctx, set, fetched.Map, fetched.Minified)
	if err != nil {
		return SymbolSet{}, err
	}
	r.Forget(saved.ID)
	return saved, nil
}

func (r *Resolver) parsed(ctx context.Context, set SymbolSet) (*parsedSet, error) {
	key := mapKey{set.ID, set.ContentHash}
	if p, ok := r.maps.get(key); ok {
		return p, nil
	}
	mapData, minified, err := r.store.SymbolSetFiles(ctx, set.ID)
	if err != nil {
		return nil, err
	}
	sm, err := ParseSourceMap(mapData)
	if err != nil {
		return nil, fmt.Errorf("parse stored map of %s: %w", set.Ref, err)
	}
	p := &parsedSet{sourceMap: sm, minified: string(minified)}
	r.maps.put(key, p, sm.SizeBytes()+int64(len(minified)))
	return p, nil
}

// Forget drops cached parses of a symbol set; call it after replacing or deleting one.
func (r *Resolver) Forget(symbolSetID int64) {
	r.maps.removeIf(func(k mapKey) bool { return k.symbolSetID == symbolSetID })
	r.sources.removeIf(func(k sourceKey) bool { return k.symbolSetID == symbolSetID })
	r.frames.removeIf(func(k frameKey) bool { return k.symbolSetID == symbolSetID })
	// Records are keyed by ref, and a deleted set's ref is not known here: drop them all (they are cheap to reload).
	r.sets.removeIf(func(setKey) bool { return true })
}

// HighlightedSource returns an original source of a symbol set as
// highlighted lines (index 0 is line 1): the one a frame resolved to, given
// by the Source and SourceIndex of its resolution (two sources may share a
// name). Whole files are tokenised once and cached, because a window cut
// from the middle of a comment or template literal would be highlighted wrongly.
func (r *Resolver) HighlightedSource(ctx context.Context, projectID, symbolSetID int64, source string, sourceIndex int) ([]template.HTML, bool, error) {
	set, err := r.store.SymbolSetByID(ctx, projectID, symbolSetID)
	if errors.Is(err, ErrNoSymbolSet) {
		return nil, false, nil
	}
	if err != nil || !set.Stored {
		return nil, false, err
	}
	p, err := r.parsed(ctx, set)
	if err != nil {
		return nil, false, err
	}
	index, ok := p.sourceMap.FindSource(source, sourceIndex)
	if !ok {
		return nil, false, nil
	}
	key := sourceKey{mapKey{set.ID, set.ContentHash}, index}
	if lines, ok := r.sources.get(key); ok {
		return lines, true, nil
	}
	content, ok := p.sourceMap.SourceContent(index)
	if !ok {
		return nil, false, nil
	}
	lines := highlight.Lines(source, content)
	var size int64
	for _, l := range lines {
		size += int64(len(l))
	}
	r.sources.put(key, lines, size)
	return lines, true, nil
}

// TakeChanged returns, and forgets, the symbol sets that a refetch during
// resolution turned from missing into stored.
func (r *Resolver) TakeChanged() []SymbolSetRef {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.changed
	r.changed = nil
	return out
}

// Refetch fetches a URL symbol set again now (the "retry" a person asks
// for), storing the map or the new failure.
func (r *Resolver) Refetch(ctx context.Context, projectID, symbolSetID int64) (SymbolSet, error) {
	set, err := r.store.SymbolSetByID(ctx, projectID, symbolSetID)
	if err != nil {
		return SymbolSet{}, err
	}
	if set.Kind != RefURL {
		return set, fmt.Errorf("symbol set %s is identified by a %s and cannot be fetched: upload its source map", set.Ref, strings.ReplaceAll(string(set.Kind), "_", " "))
	}
	r.Forget(set.ID)
	return r.create(ctx, projectID, set.Ref, set.Kind)
}

// Reresolve resolves again every frame last resolved with a symbol set
// (after it was stored, replaced or deleted), records the new answers and
// returns the frames with them.
func (r *Resolver) Reresolve(ctx context.Context, projectID, symbolSetID int64) ([]event.Frame, error) {
	r.Forget(symbolSetID)
	frames, err := r.store.FramesOfSymbolSet(ctx, projectID, symbolSetID)
	if err != nil {
		return nil, err
	}
	return r.ResolveFrames(ctx, projectID, frames)
}

// ResolveFrames resolves frames afresh (from the store, fetching where
// needed), records the answers and returns the frames with them.
func (r *Resolver) ResolveFrames(ctx context.Context, projectID int64, frames []event.Frame) ([]event.Frame, error) {
	for i := range frames {
		res, err := r.resolveFrame(ctx, projectID, frames[i])
		if err != nil {
			return nil, err
		}
		frames[i].Resolution = &res
	}
	if err := r.store.SaveFrameResolutions(ctx, projectID, frames); err != nil {
		return nil, err
	}
	return frames, nil
}
