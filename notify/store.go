package notify

import (
	"context"

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
	// PendingNotices returns up to limit of the oldest notices. They are not
	// claimed: the one notifier of the one process is their only reader, and
	// it remembers which it is delivering.
	PendingNotices(ctx context.Context, limit int) ([]db.OutboxNotice, error)
	// DeleteNotice removes a notice once every channel was tried.
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
