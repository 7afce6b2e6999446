package pipeline

import (
	"context"

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
	// PendingInboxAfter returns up to limit of the oldest inbox rows after
	// the row afterID (0: from the oldest). They are not claimed: the one
	// worker of the one process is their only reader. The worker reads the
	// next batch with it while it stores one, so a read after a row must
	// not wait for the writer's transaction.
	PendingInboxAfter(ctx context.Context, afterID int64, limit int) ([]db.InboxRow, error)
	// StoreBatch stores the events, groups them into issues (triage.Group
	// decides), queues their notices, keeps the rejected rows, and removes
	// all their inbox rows, in one transaction.
	StoreBatch(ctx context.Context, events []db.NewEvent, rejected []db.RejectedInbox) ([]db.Stored, error)
	// Pack compresses an event's blobs as StoreBatch stores them, so the
	// worker does it on every CPU rather than in the writer transaction.
	Pack(ev *db.NewEvent)
}

// Regrouping is what resolving stored frames again needs: the frames a
// symbol set resolved or failed, the events holding them, and moving an
// event to the issue of its new fingerprint.
type Regrouping interface {
	FramesOfSymbolSet(ctx context.Context, projectID, symbolSetID int64) ([]event.Frame, error)
	FramesWithFailure(ctx context.Context, code string, limit int) (map[int64][]event.Frame, error)
	EventsWithFrames(ctx context.Context, projectID int64, rawIDs []string) ([]db.StoredEvent, error)
	ApplyCurrentResolutions(ctx context.Context, projectID int64, ev *event.Event) error
	Regroup(ctx context.Context, projectID, eventID int64, fingerprint string) (issueID int64, merged bool, err error)
	AddSearchText(ctx context.Context, projectID, issueID int64, eventData []byte) error
}

// ProjectRemoval deletes a project and says which symbol sets went with it.
type ProjectRemoval interface {
	SymbolSetIDsOfProject(ctx context.Context, projectID int64) ([]int64, error)
	DeleteProject(ctx context.Context, id int64) error
}
