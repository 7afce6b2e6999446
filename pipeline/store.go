package pipeline

import (
	"context"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
)

// Store is the storage the worker needs; *db.DB implements it (asserted in
// cmd/stacklens). It is the worker's own view of storage, so another engine
// implements these methods and nothing else for the pipeline.
type Store interface {
	Inbox
	Regrouping
	ProjectRemoval
}

// Inbox is the drained side of the inbox.
type Inbox interface {
	// ClaimInbox claims up to limit of the oldest inbox rows no node holds,
	// for this node until lease from now; several nodes drain one inbox.
	ClaimInbox(ctx context.Context, limit int, lease time.Duration) ([]db.InboxRow, error)
	// RenewInboxClaims extends this node's leases of rows it is still
	// working on and tells how many it still held.
	RenewInboxClaims(ctx context.Context, ids []int64, lease time.Duration) (int, error)
	// ReleaseInboxClaims gives up claims of rows this node will not process
	// after all, so any node may claim them at once.
	ReleaseInboxClaims(ctx context.Context, ids []int64) error
	// StoreBatch stores the events, groups them into issues (triage.Group
	// decides), queues their notices, keeps the rejected rows, and removes
	// all their inbox rows, in one transaction; rows this node no longer
	// holds are skipped (Stored.NotHeld), another node stores them.
	StoreBatch(ctx context.Context, events []db.NewEvent, rejected []db.RejectedInbox) ([]db.Stored, error)
	// StoreBatchClaimingNext is StoreBatch that also claims the next rows,
	// as ClaimInbox does, in the same transaction (see db.NextClaim).
	StoreBatchClaimingNext(ctx context.Context, events []db.NewEvent, rejected []db.RejectedInbox, next db.NextClaim) ([]db.Stored, error)
	// Pack compresses an event's blobs as StoreBatch stores them, so the
	// worker does it on every CPU rather than in the writer transaction.
	Pack(ev *db.NewEvent)
}

// Regrouping is what resolving stored frames again needs: the frames a
// symbol set resolved or failed, the events holding them (read in pages),
// the frames' current answers, and moving events to the issues of their new
// fingerprints.
type Regrouping interface {
	FramesOfSymbolSet(ctx context.Context, projectID, symbolSetID int64) ([]event.Frame, error)
	FramesWithFailure(ctx context.Context, code string, limit int) (map[int64][]event.Frame, error)
	// EventIDsWithFrame lists, in ascending order, up to limit ids of the
	// events holding the frame rawID after the event afterID.
	EventIDsWithFrame(ctx context.Context, projectID int64, rawID string, afterID int64, limit int) ([]int64, error)
	// StoredEventsByID loads events by id (at most 500), in id order.
	StoredEventsByID(ctx context.Context, projectID int64, ids []int64) ([]db.StoredEvent, error)
	FrameResolutions(ctx context.Context, projectID int64, rawIDs []string) (map[string]event.Resolution, error)
	// RegroupEvents gives events their new fingerprints (merging issues
	// that now agree) and search terms, in one transaction.
	RegroupEvents(ctx context.Context, projectID int64, events []db.EventRegroup) ([]db.Regrouped, error)
}

// ProjectRemoval deletes a project and says which symbol sets went with it.
type ProjectRemoval interface {
	SymbolSetIDsOfProject(ctx context.Context, projectID int64) ([]int64, error)
	DeleteProject(ctx context.Context, id int64) error
}
