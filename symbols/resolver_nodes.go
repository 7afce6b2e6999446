package symbols

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"
)

// What lets several processes share one store: caches checked against the
// versions of symbol sets (Sync), and one fetch per ref among them (claims).

// Sync drops what the caches hold of symbol sets written or deleted in the
// store since the last Sync, through this process or another one sharing
// the store, so that answers given after it use the sets as they are now.
// When nothing changed it costs one small query; the pipeline calls it once
// per batch, before it resolves the batch's frames.
func (r *Resolver) Sync(ctx context.Context) error {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	clock, err := r.store.SymbolSetClock(ctx)
	if err != nil {
		return fmt.Errorf("check cached symbol sets: %w", err)
	}
	if r.synced && clock == r.clock {
		return nil
	}
	if !r.synced || clock.Deletions != r.clock.Deletions {
		// A deleted set left no row to name it: drop every record (cheap to
		// reload). Parses stay: they are keyed by id and version, and a
		// reloaded record never points at a stale one.
		r.dropRecords(func(setKey) bool { return true })
	} else {
		changed, err := r.store.SymbolSetsChangedSince(ctx, r.clock.Version)
		if err != nil {
			return fmt.Errorf("check cached symbol sets: %w", err)
		}
		keys := make(map[setKey]bool, len(changed))
		ids := make(map[int64]bool, len(changed))
		for _, c := range changed {
			keys[setKey{c.ProjectID, c.Ref}] = true
			ids[c.ID] = true
		}
		r.dropRecords(func(k setKey) bool { return keys[k] })
		// The old versions' parses can no longer be reached: free their memory now.
		r.maps.RemoveIf(func(k mapKey) bool { return ids[k.symbolSetID] })
		r.sources.RemoveIf(func(k sourceKey) bool { return ids[k.symbolSetID] })
		r.frames.RemoveIf(func(k frameKey) bool { return ids[k.symbolSetID] })
	}
	r.clock, r.synced = clock, true
	return nil
}

// dropRecords drops the cached set records that match, and keeps records
// read before from being cached after.
func (r *Resolver) dropRecords(match func(setKey) bool) {
	r.mu.Lock()
	r.generation++
	r.mu.Unlock()
	r.sets.RemoveIf(match)
}

// newClaimant names this resolver in fetch claims: unique among processes,
// readable by a person looking at the table.
func newClaimant() string {
	host, _ := os.Hostname()
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// How often a fetch another process claimed is looked at: soon at first
// (most fetches take well under a second), then less often.
const (
	claimPollFirst = 25 * time.Millisecond
	claimPollMax   = time.Second
)

// fetchOnce fetches and stores the set of key unless another process holds
// the claim on that fetch: then it waits for the outcome that process
// stores, or for its claim to lapse, and fetches itself. seen is the set's
// version when the fetch was asked for: a newer one is an outcome stored
// meanwhile, and is the answer.
func (r *Resolver) fetchOnce(ctx context.Context, key setKey, seen int64) (SymbolSet, error) {
	poll := claimPollFirst
	for {
		held, err := r.store.ClaimSymbolSetFetch(ctx, key.projectID, key.ref, r.claimant, time.Now().Add(r.claimFor))
		if err != nil {
			return SymbolSet{}, err
		}
		if held {
			break
		}
		for claimed := true; claimed; {
			select {
			case <-ctx.Done():
				return SymbolSet{}, fmt.Errorf("wait for the fetch of %s: %w", key.ref, ctx.Err())
			case <-time.After(poll):
			}
			poll = min(2*poll, claimPollMax)
			if current, changed, err := r.changedSince(ctx, key, seen); err != nil || changed {
				return current, err
			}
			if claimed, err = r.store.SymbolSetFetchClaimed(ctx, key.projectID, key.ref); err != nil {
				return SymbolSet{}, err
			}
		}
	}
	// The claim lapses anyway if it cannot be released (the store is down):
	// others then wait claimFor longer.
	defer r.store.ReleaseSymbolSetFetch(context.WithoutCancel(ctx), key.projectID, key.ref, r.claimant)
	if current, changed, err := r.changedSince(ctx, key, seen); err != nil || changed {
		return current, err
	}
	renewing, stop := context.WithCancel(ctx)
	defer stop()
	go r.renewClaim(renewing, key)
	return r.fetchAndSave(ctx, key.projectID, key.ref)
}

// changedSince reads the set of key and tells whether it was written after version seen.
func (r *Resolver) changedSince(ctx context.Context, key setKey, seen int64) (SymbolSet, bool, error) {
	current, err := r.store.SymbolSet(ctx, key.projectID, key.ref)
	switch {
	case errors.Is(err, ErrNoSymbolSet):
		return SymbolSet{}, false, nil
	case err != nil:
		return SymbolSet{}, false, err
	}
	return current, current.Version != seen, nil
}

// renewClaim keeps this process's claim on the fetch of key until ctx ends.
// A renewal that fails leaves the claim to lapse: at worst another process
// fetches the same URL too.
func (r *Resolver) renewClaim(ctx context.Context, key setKey) {
	tick := time.NewTicker(r.claimFor / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			r.store.ClaimSymbolSetFetch(ctx, key.projectID, key.ref, r.claimant, time.Now().Add(r.claimFor))
		}
	}
}
