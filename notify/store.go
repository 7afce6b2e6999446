package notify

import (
	"context"
	"time"

	"github.com/stacklens/stacklens/db"
)

// Store is the storage the notifier needs; *db.DB implements it (asserted
// in cmd/stacklens). It is the notifier's own view of storage, so another
// engine implements these methods and nothing else for notifications.
type Store interface {
	Outbox
	Channels
}

// Outbox is the delivered side of the notification outbox, which
// StoreBatch fills in the transaction that stores the event.
type Outbox interface {
	// ClaimNotices claims up to limit of the oldest notices no node holds,
	// for this node until lease from now; several nodes deliver one outbox.
	ClaimNotices(ctx context.Context, limit int, lease time.Duration) ([]db.OutboxNotice, error)
	// RenewNoticeClaims extends this node's leases of notices it is still
	// delivering and tells how many it still held.
	RenewNoticeClaims(ctx context.Context, ids []int64, lease time.Duration) (int, error)
	// ReleaseNoticeClaims gives up claims of notices this node stopped
	// delivering, so any node may claim them at once.
	ReleaseNoticeClaims(ctx context.Context, ids []int64) error
	// DeleteNotice removes a notice once every channel was tried, if this
	// node still holds its claim.
	DeleteNotice(ctx context.Context, id int64) error
}

// Channels is what a delivery reads and records: the project's channels,
// the project and issue a message names, and the outcome of each attempt.
type Channels interface {
	NotificationChannels(ctx context.Context, projectID int64) ([]db.NotificationChannel, error)
	Project(ctx context.Context, id int64) (db.Project, error)
	Issue(ctx context.Context, projectID, id int64) (db.Issue, error)
	RecordNotificationDelivery(ctx context.Context, dl db.NotificationDelivery) (int64, error)
	NotificationDelivery(ctx context.Context, projectID, id int64) (db.NotificationDelivery, error)
}
