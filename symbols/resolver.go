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
	"github.com/stacklens/stacklens/internal/lru"
	"github.com/stacklens/stacklens/metrics"
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
	// InsertMissingSymbolSet creates s as missing unless (ProjectID, Ref) exists, and returns what exists.
	InsertMissingSymbolSet(ctx context.Context, s SymbolSet) (SymbolSet, error)
	// CountURLSymbolSetsSince counts a project's URL symbol sets created since a time.
	CountURLSymbolSetsSince(ctx context.Context, projectID int64, since time.Time) (int, error)
	// SymbolSetsWithFailure lists symbol sets of every project whose failure has the code.
	SymbolSetsWithFailure(ctx context.Context, code string, limit int) ([]SymbolSet, error)
	// SymbolSetsWaitedOn lists sets whose frames still fail with code although the set no longer does.
	SymbolSetsWaitedOn(ctx context.Context, code string) ([]SymbolSetRef, error)

	// Several processes may share the store: what they cache is checked
	// against versions (see Resolver.Sync), and one fetch per ref is claimed.

	// SymbolSetClock reads the last version handed out to a set and the deletions so far.
	SymbolSetClock(ctx context.Context) (SymbolSetClock, error)
	// SymbolSetsChangedSince lists the sets written after a version.
	SymbolSetsChangedSince(ctx context.Context, version int64) ([]ChangedSymbolSet, error)
	// ClaimSymbolSetFetch claims (or renews) the fetch of a ref for claimant
	// until a time, unless another claimant holds it; it reports whether
	// claimant holds it now.
	ClaimSymbolSetFetch(ctx context.Context, projectID int64, ref, claimant string, until time.Time) (bool, error)
	// SymbolSetFetchClaimed tells whether anyone holds an unexpired claim on the fetch of a ref.
	SymbolSetFetchClaimed(ctx context.Context, projectID int64, ref string) (bool, error)
	// ReleaseSymbolSetFetch gives claimant's claim up.
	ReleaseSymbolSetFetch(ctx context.Context, projectID int64, ref, claimant string) error
}

// ResolverConfig tunes a Resolver.
type ResolverConfig struct {
	Fetch FetchConfig
	// CacheBytes bounds the memory held by parsed maps; highlighted sources get a quarter of it again.
	CacheBytes int64
	// RetryAfter is how long a failed fetch is trusted before it is tried again.
	RetryAfter time.Duration
	// NewRefsPerHour caps how many new URL symbol sets (each one a fetch)
	// one project may start within an hour (STACKLENS_FETCH_NEW_REFS_PER_HOUR);
	// 0 means DefaultNewRefsPerHour, a negative value no cap.
	NewRefsPerHour int
	// Metrics counts fetches by outcome; nil counts nothing.
	Metrics *metrics.Metrics
	// FetchClaim is how long this process's claim on a fetch lasts unless
	// renewed (every third of it while the fetch runs): how long the other
	// processes sharing the store wait before they take over the fetch of a
	// process that died. 0 means 30 seconds.
	FetchClaim time.Duration
}

// DefaultNewRefsPerHour is the per-project cap on new fetch refs per hour.
const DefaultNewRefsPerHour = 100

// Resolver turns minified frames into original ones: it finds each frame's
// symbol set (cache, store, else a fetch in the background) and looks the
// position up. Resolving never waits on the network: a frame whose symbol
// set is being fetched is marked fetch_pending, and when the fetch ends the
// set is reported by TakeChanged so its frames are resolved again.
type Resolver struct {
	store   Store
	fetcher *Fetcher
	maps    *lru.Cache[mapKey, *parsedSet]
	sources *lru.Cache[sourceKey, []template.HTML]
	// frames caches answers per position: the same errors repeat, and the
	// enclosing-function search is the costly part of a lookup.
	frames *lru.Cache[frameKey, event.Resolution]
	// sets caches symbol-set records briefly, so a busy ingest does not ask
	// the database for the same set for every frame.
	sets       *lru.Cache[setKey, cachedSet]
	ensure     singleflight.Group
	retryAfter time.Duration
	budget     *newRefBudget
	metrics    *metrics.Metrics
	// claimant names this resolver in fetch claims; claimFor is how long one lasts.
	claimant string
	claimFor time.Duration

	// syncMu serialises Sync; clock is the store's clock at the last one.
	syncMu sync.Mutex
	clock  SymbolSetClock
	synced bool

	// life bounds background fetches; Close ends it and waits for them.
	life  context.Context
	stop  context.CancelFunc
	jobs  sync.WaitGroup
	ended chan struct{} // gets a value when a background fetch has ended

	mu sync.Mutex
	// touched remembers when last_used was last written per set: it is
	// written at most once a minute, not once per frame.
	touched map[int64]time.Time
	// changed holds symbol sets whose background fetch ended (stored or
	// failed); the frames that waited on them need resolving again.
	changed []SymbolSetRef
	// inflight holds the background fetch of each (project, ref) under way.
	inflight map[setKey]*fetchJob
	// generation counts Forget calls and Syncs that dropped records, so a
	// set record read before one is not cached after it.
	generation uint64
}

// SymbolSetRef names one symbol set of one project.
type SymbolSetRef struct {
	ProjectID int64
	ID        int64
}

// mapKey names a set's content: a set's id is never reused, and its
// version changes whenever its content is written.
type mapKey struct {
	symbolSetID int64
	version     int64
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

// setCacheTTL bounds how long a cached symbol-set record is used by callers
// that do not Sync, and how soon a failed fetch's age is looked at again.
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
	if cfg.NewRefsPerHour == 0 {
		cfg.NewRefsPerHour = DefaultNewRefsPerHour
	}
	if cfg.FetchClaim <= 0 {
		cfg.FetchClaim = 30 * time.Second
	}
	life, stop := context.WithCancel(context.Background())
	return &Resolver{store: store, fetcher: NewFetcher(cfg.Fetch), maps: lru.New[mapKey, *parsedSet](cfg.CacheBytes),
		sources: lru.New[sourceKey, []template.HTML](cfg.CacheBytes / 4),
		frames:  lru.New[frameKey, event.Resolution](16 << 20), sets: lru.New[setKey, cachedSet](4 << 20),
		touched: map[int64]time.Time{}, retryAfter: cfg.RetryAfter, metrics: cfg.Metrics,
		budget: newNewRefBudget(store, cfg.NewRefsPerHour), life: life, stop: stop,
		claimant: newClaimant(), claimFor: cfg.FetchClaim,
		ended: make(chan struct{}, 1), inflight: map[setKey]*fetchJob{}}
}

// Symbolicate sets the Resolution of every frame of ev that has a symbol-set
// reference (the caller records them with the event). Frames of other
// platforms, and JavaScript frames with context sent by the client, are left
// as sent. It never waits on the network: frames whose symbol set is being
// fetched get fetch_pending (see StartFetches and TakeChanged). It answers
// from what the caches held at the last Sync, which a batch of events calls
// once first.
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
	set, parsed, _, err := r.symbolSet(ctx, projectID, ref, kind)
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
	key := frameKey{mapKey{set.ID, set.Version}, line, column, f.InApp}
	if cached, ok := r.frames.Get(key); ok {
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
	r.frames.Put(key, res, int64(64+len(res.Source)+len(res.Name)+len(ref)))
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

// symbolSet finds or makes the symbol set of ref and parses it when stored.
// Concurrent callers for the same ref share one lookup. The job is a
// background fetch this call started, if any.
func (r *Resolver) symbolSet(ctx context.Context, projectID int64, ref string, kind RefKind) (SymbolSet, *parsedSet, *fetchJob, error) {
	set, job, err := r.findSet(ctx, projectID, ref, kind)
	if err != nil || !set.Stored {
		return set, nil, job, err
	}
	parsed, err := r.parsed(ctx, set)
	if err != nil {
		// A stored map that no longer parses is shown as invalid rather than failing the event.
		set.Stored, set.Failure = false, Failf(FailureInvalidSourcemap, "%v", err)
		return set, nil, job, nil
	}
	return set, parsed, job, nil
}

type setLookup struct {
	set SymbolSet
	job *fetchJob
}

// findSet is symbolSet without the parse.
func (r *Resolver) findSet(ctx context.Context, projectID int64, ref string, kind RefKind) (SymbolSet, *fetchJob, error) {
	key := setKey{projectID, ref}
	// Most frames name a set already cached: no need to join the lookup.
	if c, ok := r.sets.Get(key); ok && r.cachedSetHolds(c, kind) {
		return c.set, nil, nil
	}
	v, err, _ := r.ensure.Do(fmt.Sprintf("%d\x00%s", projectID, ref), func() (any, error) {
		if c, ok := r.sets.Get(key); ok && r.cachedSetHolds(c, kind) {
			return setLookup{set: c.set}, nil
		}
		gen := r.currentGeneration()
		set, job, err := r.lookupSet(ctx, projectID, ref, kind)
		if err == nil {
			r.cacheSet(key, set, gen)
		}
		return setLookup{set, job}, err
	})
	if err != nil {
		return SymbolSet{}, nil, err
	}
	found := v.(setLookup)
	return found.set, found.job, nil
}

// cachedSetHolds tells whether a cached symbol set record may answer: it
// is recent, and stored, not a URL's, or a URL's failure too recent to
// fetch again.
func (r *Resolver) cachedSetHolds(c cachedSet, kind RefKind) bool {
	return time.Since(c.fetched) < setCacheTTL && (c.set.Stored || kind != RefURL || time.Since(c.set.UpdatedAt) <= r.retryAfter)
}

// lookupSet loads the symbol set of ref. A URL with none gets a pending
// set and a background fetch (within the project's hourly cap); a pending
// set whose fetch is not under way (the process stopped meanwhile), or a
// failed fetch old enough to try again, is fetched in the background too.
// A chunk or debug id with none is recorded as not uploaded.
func (r *Resolver) lookupSet(ctx context.Context, projectID int64, ref string, kind RefKind) (SymbolSet, *fetchJob, error) {
	set, err := r.store.SymbolSet(ctx, projectID, ref)
	switch {
	case errors.Is(err, ErrNoSymbolSet) && kind != RefURL:
		set = SymbolSet{ProjectID: projectID, Ref: ref, Kind: kind,
			Failure: Failf(FailureNotUploaded, "No source map was uploaded for %s %s.", strings.ReplaceAll(string(kind), "_", " "), ref)}
		set, err = r.store.SaveSymbolSet(ctx, set, nil, nil)
		return set, nil, err
	case errors.Is(err, ErrNoSymbolSet):
		return r.startNewSet(ctx, projectID, ref)
	case err != nil:
		return set, nil, err
	case set.Stored || kind != RefURL:
		return set, nil, nil
	case set.Failure != nil && set.Failure.Code == FailureFetchPending, time.Since(set.UpdatedAt) > r.retryAfter:
		return set, r.startedFetch(projectID, ref, set.Version), nil
	}
	return set, nil, nil
}

// startNewSet records a pending symbol set for a URL seen for the first
// time and fetches it in the background, unless the project reached its
// hourly cap of new refs: then the answer is a rate-limited set that is not
// stored (ID 0), so unique URLs cannot fill the table.
func (r *Resolver) startNewSet(ctx context.Context, projectID int64, ref string) (SymbolSet, *fetchJob, error) {
	allowed, err := r.budget.allow(ctx, projectID)
	if err != nil {
		return SymbolSet{}, nil, err
	}
	if !allowed {
		return SymbolSet{ProjectID: projectID, Ref: ref, Kind: RefURL, Failure: Failf(FailureFetchRateLimited,
			"%s was not fetched: this project already started %d new source-map fetches within the last hour (STACKLENS_FETCH_NEW_REFS_PER_HOUR). It is tried again later.",
			ref, r.budget.perHour)}, nil, nil
	}
	set, err := r.store.InsertMissingSymbolSet(ctx, SymbolSet{ProjectID: projectID, Ref: ref, Kind: RefURL,
		Failure: Failf(FailureFetchPending, "Fetching %s and its source map in the background: frames that need it are being resolved.", ref)})
	if err != nil {
		return SymbolSet{}, nil, err
	}
	if set.Stored || set.Failure == nil || set.Failure.Code != FailureFetchPending {
		return set, nil, nil // someone stored it meanwhile
	}
	return set, r.startedFetch(projectID, ref, set.Version), nil
}

func (r *Resolver) parsed(ctx context.Context, set SymbolSet) (*parsedSet, error) {
	key := mapKey{set.ID, set.Version}
	if p, ok := r.maps.Get(key); ok {
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
	r.maps.Put(key, p, sm.SizeBytes()+int64(len(minified)))
	return p, nil
}

// CacheStats reports the resolver's caches by name: parsed_maps (parsed
// source maps), frame_resolutions (answers per position), symbol_set_records
// and highlighted_sources.
func (r *Resolver) CacheStats() map[string]CacheStats {
	return map[string]CacheStats{"parsed_maps": r.maps.Stats(), "frame_resolutions": r.frames.Stats(),
		"symbol_set_records": r.sets.Stats(), "highlighted_sources": r.sources.Stats()}
}

// Forget drops cached parses of a symbol set; call it after replacing or deleting one.
func (r *Resolver) Forget(symbolSetID int64) {
	r.maps.RemoveIf(func(k mapKey) bool { return k.symbolSetID == symbolSetID })
	r.sources.RemoveIf(func(k sourceKey) bool { return k.symbolSetID == symbolSetID })
	r.frames.RemoveIf(func(k frameKey) bool { return k.symbolSetID == symbolSetID })
	// Records are keyed by ref, and a deleted set's ref is not known here: drop them all (they are cheap to reload).
	r.mu.Lock()
	r.generation++
	r.mu.Unlock()
	r.sets.RemoveIf(func(setKey) bool { return true })
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
	key := sourceKey{mapKey{set.ID, set.Version}, index}
	if lines, ok := r.sources.Get(key); ok {
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
	r.sources.Put(key, lines, size)
	return lines, true, nil
}

// TakeChanged returns, and forgets, the symbol sets whose background fetch
// ended since the last call, stored or failed: their frames need resolving
// again.
func (r *Resolver) TakeChanged() []SymbolSetRef {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.changed
	r.changed = nil
	return out
}

// Refetch fetches a URL symbol set again now (the "retry" a person asks
// for), storing the map or the new failure, and returns the set after it.
// It joins the fetch of that set already under way, if any.
func (r *Resolver) Refetch(ctx context.Context, projectID, symbolSetID int64) (SymbolSet, error) {
	set, err := r.store.SymbolSetByID(ctx, projectID, symbolSetID)
	if err != nil {
		return SymbolSet{}, err
	}
	if set.Kind != RefURL {
		return set, fmt.Errorf("symbol set %s is identified by a %s and cannot be fetched: upload its source map", set.Ref, strings.ReplaceAll(string(set.Kind), "_", " "))
	}
	r.Forget(set.ID)
	job, _ := r.startFetch(projectID, set.Ref, set.Version)
	if job == nil {
		return set, errors.New("stacklens is shutting down: retry the fetch after it restarts")
	}
	select {
	case <-job.done:
	case <-ctx.Done():
		return set, fmt.Errorf("fetch %s: %w", set.Ref, ctx.Err())
	}
	if job.err != nil {
		return SymbolSet{}, job.err
	}
	return job.set, nil
}

// Reresolve resolves again every frame last resolved with a symbol set
// (after it was stored, replaced or deleted) and returns the frames with
// the new answers. With record false it does not record them: the caller
// does (RecordResolutions) once it has regrouped the events holding them.
func (r *Resolver) Reresolve(ctx context.Context, projectID, symbolSetID int64, record bool) ([]event.Frame, error) {
	r.Forget(symbolSetID)
	frames, err := r.store.FramesOfSymbolSet(ctx, projectID, symbolSetID)
	if err != nil {
		return nil, err
	}
	if err := r.resolveFrames(ctx, projectID, frames); err != nil {
		return nil, err
	}
	if record {
		return frames, r.RecordResolutions(ctx, projectID, frames)
	}
	return frames, nil
}

// ResolveFrames resolves frames afresh (from the store, fetching where
// needed), records the answers and returns the frames with them.
func (r *Resolver) ResolveFrames(ctx context.Context, projectID int64, frames []event.Frame) ([]event.Frame, error) {
	if err := r.resolveFrames(ctx, projectID, frames); err != nil {
		return nil, err
	}
	return frames, r.RecordResolutions(ctx, projectID, frames)
}

func (r *Resolver) resolveFrames(ctx context.Context, projectID int64, frames []event.Frame) error {
	if err := r.Sync(ctx); err != nil {
		return err
	}
	for i := range frames {
		res, err := r.resolveFrame(ctx, projectID, frames[i])
		if err != nil {
			return err
		}
		frames[i].Resolution = &res
	}
	return nil
}

// RecordResolutions stores the frames' answers, by raw id.
func (r *Resolver) RecordResolutions(ctx context.Context, projectID int64, frames []event.Frame) error {
	return r.store.SaveFrameResolutions(ctx, projectID, frames)
}
