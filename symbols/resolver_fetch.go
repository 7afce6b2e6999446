package symbols

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/stacklens/stacklens/event"
)

// fetchJob is one background fetch of a (project, ref).
type fetchJob struct {
	done chan struct{} // closed when the fetch has ended and its outcome is stored
	set  SymbolSet     // the set afterwards, valid once done is closed
	err  error         // why the outcome could not be stored (the set stays pending)
}

// StartFetches starts, in the background, the fetches ev's frames need and
// returns a channel per fetch it started, closed when that fetch has ended.
// The pipeline waits on them a moment so that quick fetches resolve an
// event before it is stored, and stores it with pending frames otherwise.
func (r *Resolver) StartFetches(ctx context.Context, projectID int64, ev *event.Event) ([]<-chan struct{}, error) {
	var started []<-chan struct{}
	seen := map[string]bool{}
	for _, ex := range ev.Exceptions {
		for _, f := range ex.Frames {
			if !needsResolution(f) {
				continue
			}
			ref, kind := FrameRef(f)
			if kind != RefURL || seen[ref] {
				continue
			}
			seen[ref] = true
			_, job, err := r.findSet(ctx, projectID, ref, kind)
			if err != nil {
				return started, err
			}
			if job != nil {
				started = append(started, job.done)
			}
		}
	}
	return started, nil
}

// FetchesEnded gets a value when a background fetch has ended; TakeChanged
// then names its symbol set.
func (r *Resolver) FetchesEnded() <-chan struct{} { return r.ended }

// ResumeFetches picks up what a stopped process left: it starts again the
// fetches of symbol sets still pending, and reports (TakeChanged) the sets
// whose fetch ended but whose frames were not resolved again yet, so every
// frame that waits on a fetch gets its answer.
func (r *Resolver) ResumeFetches(ctx context.Context) error {
	sets, err := r.store.SymbolSetsWithFailure(ctx, FailureFetchPending, 10000)
	if err != nil {
		return fmt.Errorf("resume pending fetches: %w", err)
	}
	for _, s := range sets {
		r.startFetch(s.ProjectID, s.Ref, s.Version)
	}
	ended, err := r.store.SymbolSetsWaitedOn(ctx, FailureFetchPending)
	if err != nil {
		return fmt.Errorf("resume pending fetches: %w", err)
	}
	if len(ended) > 0 {
		r.mu.Lock()
		r.changed = append(r.changed, ended...)
		r.mu.Unlock()
		select {
		case r.ended <- struct{}{}:
		default:
		}
	}
	return nil
}

// Close stops background fetches (a pending set stays pending and is fetched
// again by the next ResumeFetches) and waits for them to let go.
func (r *Resolver) Close() {
	r.stop()
	r.jobs.Wait()
}

// startedFetch starts the background fetch of ref and returns it, or nil
// when one was already under way (or the resolver is closed). seen is the
// version of the set the caller found.
func (r *Resolver) startedFetch(projectID int64, ref string, seen int64) *fetchJob {
	if job, started := r.startFetch(projectID, ref, seen); started {
		return job
	}
	return nil
}

// startFetch returns the background fetch of (projectID, ref), starting it
// unless one is under way in this process. The job is nil once the resolver
// is closed. seen is the version of the set the caller found: if another
// process stores a newer one first, that is the fetch's outcome.
func (r *Resolver) startFetch(projectID int64, ref string, seen int64) (job *fetchJob, started bool) {
	key := setKey{projectID, ref}
	r.mu.Lock()
	defer r.mu.Unlock()
	if job, ok := r.inflight[key]; ok {
		return job, false
	}
	if r.life.Err() != nil {
		return nil, false
	}
	job = &fetchJob{done: make(chan struct{})}
	r.inflight[key] = job
	r.jobs.Add(1)
	go r.runFetch(key, seen, job)
	return job, true
}

func (r *Resolver) runFetch(key setKey, seen int64, job *fetchJob) {
	defer r.jobs.Done()
	set, err := r.fetchOnce(r.life, key, seen)
	job.set, job.err = set, err
	if err == nil {
		r.Forget(set.ID)
	}
	r.mu.Lock()
	delete(r.inflight, key)
	if err == nil {
		r.changed = append(r.changed, SymbolSetRef{ProjectID: key.projectID, ID: set.ID})
	}
	r.mu.Unlock()
	close(job.done)
	if err == nil {
		select {
		case r.ended <- struct{}{}:
		default:
		}
	}
}

// fetchAndSave fetches a URL symbol set and stores the map or the failure.
// A set uploaded while the fetch ran is kept: the upload wins.
func (r *Resolver) fetchAndSave(ctx context.Context, projectID int64, ref string) (SymbolSet, error) {
	fetched, failure := r.fetcher.Fetch(ctx, ref)
	if err := ctx.Err(); err != nil {
		return SymbolSet{}, fmt.Errorf("fetch %s: %w", ref, err)
	}
	current, err := r.store.SymbolSet(ctx, projectID, ref)
	if err != nil && !errors.Is(err, ErrNoSymbolSet) {
		return SymbolSet{}, err
	}
	if err == nil && current.Stored && current.Origin != OriginFetched {
		return current, nil
	}
	set := SymbolSet{ProjectID: projectID, Ref: ref, Kind: RefURL}
	if failure != nil {
		r.metrics.Fetched(failure.Code)
		set.Failure = failure
		return r.store.SaveSymbolSet(ctx, set, nil, nil)
	}
	set.MinifiedURL, set.MapURL = fetched.MinifiedURL, fetched.MapURL
	if _, err := ParseSourceMap(fetched.Map); err != nil {
		r.metrics.Fetched(FailureInvalidSourcemap)
		set.Failure = &Failure{Code: FailureInvalidSourcemap, Steps: fetched.Steps,
			Message: fmt.Sprintf("The source map at %s is not usable: %v", fetched.MapURL, err)}
		return r.store.SaveSymbolSet(ctx, set, nil, nil)
	}
	r.metrics.Fetched("stored")
	set.Stored, set.Origin = true, OriginFetched
	return r.store.SaveSymbolSet(ctx, set, fetched.Map, fetched.Minified)
}

func (r *Resolver) currentGeneration() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.generation
}

// cacheSet caches a set record read at generation gen, unless Forget ran
// since, the set is not stored in the database (rate-limited), or a fetch
// of it is under way (its record is about to change).
func (r *Resolver) cacheSet(key setKey, set SymbolSet, gen uint64) {
	if set.ID == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, fetching := r.inflight[key]; fetching || r.generation != gen {
		return
	}
	r.sets.Put(key, cachedSet{set: set, fetched: time.Now()}, int64(256+len(key.ref)))
}

// newRefBudget is the per-project cap on new URL symbol sets per hour. It
// counts the sets created in the last hour in the store, so it holds across
// restarts; a project found at its cap is not asked about again for a minute.
type newRefBudget struct {
	store   Store
	perHour int // < 0: no cap
	mu      sync.Mutex
	full    map[int64]time.Time // project → until when it is known to be at its cap
}

func newNewRefBudget(store Store, perHour int) *newRefBudget {
	return &newRefBudget{store: store, perHour: perHour, full: map[int64]time.Time{}}
}

// allow tells whether the project may start one more new ref now.
func (b *newRefBudget) allow(ctx context.Context, projectID int64) (bool, error) {
	if b.perHour < 0 {
		return true, nil
	}
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if until, ok := b.full[projectID]; ok {
		if now.Before(until) {
			return false, nil
		}
		delete(b.full, projectID)
	}
	n, err := b.store.CountURLSymbolSetsSince(ctx, projectID, now.Add(-time.Hour))
	if err != nil {
		return false, err
	}
	if n < b.perHour {
		return true, nil
	}
	b.full[projectID] = now.Add(time.Minute)
	return false, nil
}
