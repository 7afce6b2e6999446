package pipeline

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/stacklens/stacklens/db"
)

// Several nodes drain one inbox: the worker claims its batches with a lease
// and renews the leases of the rows it holds until it stored or let go of
// them. A node that dies renews nothing, so its rows go to another node
// once their lease ends.
//
// inboxLease is short so that those rows wait little: a row is held at
// most inboxLease after its node died (another node's idle poll adds up to
// idlePoll). A live node renews every inboxLease/3, so it loses a row only
// when two renewals in a row are held up (a writer busy for over 10 s). A
// lost row is no harm to the events: StoreBatch stores only rows this node
// still holds, in the transaction that deletes them, so the other node's
// copy is the one stored and this node's work on it is wasted, not repeated.
const inboxLease = 15 * time.Second

// heldRows are the inbox rows the worker claimed and has not stored or let go.
type heldRows struct {
	mu  sync.Mutex
	ids map[int64]struct{}
}

func (h *heldRows) add(rows []db.InboxRow) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ids == nil {
		h.ids = map[int64]struct{}{}
	}
	for _, r := range rows {
		h.ids[r.ID] = struct{}{}
	}
}

func (h *heldRows) remove(rows []db.InboxRow) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range rows {
		delete(h.ids, r.ID)
	}
}

func (h *heldRows) list() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]int64, 0, len(h.ids))
	for id := range h.ids {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// claim claims up to a batch of the oldest inbox rows no node holds.
func (w *Worker) claim(ctx context.Context) ([]db.InboxRow, error) {
	rows, err := w.db.ClaimInbox(ctx, w.batchSize, w.lease)
	if db.Transient(err) {
		return nil, &transientError{err: err}
	}
	if err != nil {
		return nil, err
	}
	w.held.add(rows)
	return rows, nil
}

// letGo gives up the claims of rows the worker will not store now (a
// failed batch, a batch prepared ahead and not stored), so that they are
// taken again at once, by this node or another, in the inbox's order. If
// the release fails too, the rows are free when their lease ends.
func (w *Worker) letGo(ctx context.Context, rows []db.InboxRow) {
	if len(rows) == 0 {
		return
	}
	w.held.remove(rows)
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	if err := w.db.ReleaseInboxClaims(ctx, ids); err != nil {
		w.log.Warn("inbox claims not released; the rows are free when their lease ends", "rows", len(ids), "err", err)
	}
}

// keepClaims renews the leases of the rows the worker holds every lease/3
// until ctx is done.
func (w *Worker) keepClaims(ctx context.Context) {
	tick := time.NewTicker(w.lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ids := w.held.list()
		if len(ids) == 0 {
			continue
		}
		n, err := w.db.RenewInboxClaims(ctx, ids, w.lease)
		switch {
		case err != nil && ctx.Err() == nil:
			w.log.Warn("inbox claims not renewed", "rows", len(ids), "err", err)
		case err == nil && n < len(ids):
			// Stored meanwhile, or taken by another node after this one's
			// lease ended (StoreBatch then skips them).
			w.log.Debug("inbox claims renewed", "rows", len(ids), "still_held", n)
		}
	}
}
