package pipeline

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
)

// watchedStore is the real store, counting how the worker claims the inbox
// and telling when a batch is being stored.
type watchedStore struct {
	*db.DB
	holding     func() bool  // whether the worker holds rows it has not stored
	claimsAhead atomic.Int64 // claims made while the worker held a batch not yet stored (in its transaction, too)
	storing     atomic.Bool
	stores      atomic.Int64
	onStore     func(n int64) // called inside the n-th StoreBatch (from 1)
}

func (s *watchedStore) ClaimInbox(ctx context.Context, limit int, lease time.Duration) ([]db.InboxRow, error) {
	if s.holding != nil && s.holding() {
		s.claimsAhead.Add(1)
	}
	return s.DB.ClaimInbox(ctx, limit, lease)
}

func (s *watchedStore) StoreBatch(ctx context.Context, events []db.NewEvent, rejected []db.RejectedInbox) ([]db.Stored, error) {
	return s.StoreBatchClaimingNext(ctx, events, rejected, db.NextClaim{})
}

func (s *watchedStore) StoreBatchClaimingNext(ctx context.Context, events []db.NewEvent, rejected []db.RejectedInbox, next db.NextClaim) ([]db.Stored, error) {
	s.storing.Store(true)
	defer s.storing.Store(false)
	if n := s.stores.Add(1); s.onStore != nil {
		s.onStore(n)
	}
	if next.Limit > 0 {
		s.claimsAhead.Add(1) // the batch being stored is held: this claim is ahead of it
	}
	return s.DB.StoreBatchClaimingNext(ctx, events, rejected, next)
}

// TestDrainStoresEveryRowOnceWhilePreparingAhead: the drain prepares the
// next batch while it stores one; every row is still stored exactly once
// and in one piece, also when something takes the worker's lock between two
// batches (the batch prepared ahead is then prepared again), and
// what holds the lock never runs while a batch is stored.
func TestDrainStoresEveryRowOnceWhilePreparingAhead(t *testing.T) {
	h := newHarness(t, false)
	store := &watchedStore{DB: h.store}
	store.holding = func() bool { return len(h.worker.held.list()) > 0 }
	h.worker.db = store
	h.worker.batchSize = 10
	const rows = 57
	var payloads [][]byte
	for i := range rows {
		payloads = append(payloads, exceptionPayload(fmt.Sprintf("00000000-0000-4000-8000-%012d", i), fmt.Sprintf("error %d", i%7)))
	}
	// Two rows repeat an earlier event (a client's retry): stored once.
	payloads = append(payloads, payloads[3], payloads[15])
	appendInbox(t, h.store, payloads...)

	var exclusive sync.WaitGroup
	var ranDuringStore atomic.Bool
	var ran atomic.Int64
	store.onStore = func(n int64) {
		if n%2 == 0 { // retention, say, wants the worker between two batches
			exclusive.Add(1)
			go func() {
				defer exclusive.Done()
				_ = h.worker.Exclusive(func() error {
					ran.Add(1)
					if store.storing.Load() {
						ranDuringStore.Store(true)
					}
					return nil
				})
			}()
		}
	}
	h.worker.drain(context.Background(), 0)
	exclusive.Wait()

	if left, _ := h.store.CountInbox(context.Background()); left != 0 {
		t.Fatalf("%d rows left in the inbox", left)
	}
	if got := countStoredEvents(t, h); got != rows {
		t.Errorf("%d events stored, want %d", got, rows)
	}
	if store.claimsAhead.Load() == 0 {
		t.Error("the drain never claimed a batch ahead of storing one")
	}
	if held := h.worker.held.list(); len(held) != 0 {
		t.Errorf("the drain ended holding rows %v", held)
	}
	if ran.Load() == 0 || ranDuringStore.Load() {
		t.Errorf("exclusive work ran %d times, during a store: %v", ran.Load(), ranDuringStore.Load())
	}
}
