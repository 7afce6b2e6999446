package event

import (
	"strings"

	"github.com/google/uuid"
)

// IdentityUUID is the uuid an accepted event is known by: the one its client
// sent (trimmed, as ParsePostHog reads it), or a fresh random one when it
// sent none. It is chosen once, when the event is accepted, and stored with
// it, so that nothing later (a drained inbox, a restart, a crash) can give
// two events the same identity or one event two.
func IdentityUUID(clientUUID string) string {
	if u := strings.TrimSpace(clientUUID); u != "" {
		return u
	}
	return NewUUID()
}

// NewUUID is a random version-7 uuid (time-ordered, so the events index
// stays append-mostly), or version 4 if the clock cannot be read.
func NewUUID() string {
	u, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return u.String()
}
