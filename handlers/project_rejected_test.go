package handlers_test

import (
	"context"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/handlers"
	"github.com/stacklens/stacklens/internal/testserver"
	"github.com/stacklens/stacklens/retention"
)

// The project page counts the events set aside and says which of them are
// kept: the count is of what retention leaves, not of all there ever were.
func TestProjectPageSaysWhichRejectedEventsAreKept(t *testing.T) {
	s := testserver.New(t, func(o *handlers.Options) { o.Retention = retention.Policy{EventDays: 30} })
	s.SignIn()
	ctx, cancel := context.WithCancel(context.Background())
	inbox := s.DB.NewInboxWriter(db.InboxLimits{})
	done := make(chan struct{})
	go func() { inbox.Run(ctx); close(done) }()
	err := inbox.Append(ctx, []db.InboxRow{{ProjectID: 1, Format: "posthog", ReceivedAt: time.Now(),
		Payload: []byte(`{"event":"$exception", truncated`)}})
	cancel()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := s.Get("/settings/project")
		if res.Has("Events set aside") {
			if !res.Has("The newest 1000 are kept, none longer than events (30 days); older ones are deleted.") {
				t.Errorf("the project page does not say which events set aside are kept:\n%s", res.Body)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the set-aside event is not on the project page after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
