package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/internal/testserver"
)

// A channel's page lists its own latest attempts, however busy the
// project's other channels are.
func TestChannelPageShowsItsOwnAttempts(t *testing.T) {
	s := testserver.New(t)
	s.SignIn()
	ctx := context.Background()
	channel := func(name string) int64 {
		id, err := s.DB.CreateNotificationChannel(ctx, db.NotificationChannel{ProjectID: 1, Name: name, Kind: db.ChannelWebhook,
			URL: "https://hooks.test/" + name, Format: db.WebhookJSON, OnNewIssue: true, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	record := func(channelID int64, n int) {
		for range n {
			if _, err := s.DB.RecordNotificationDelivery(ctx, db.NotificationDelivery{ProjectID: 1, ChannelID: channelID,
				Trigger: db.TriggerNewIssue, IssueName: "TypeError", Attempt: 1, OK: true, Status: 200,
				AttemptedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	quiet, busy := channel("quiet"), channel("busy")
	record(quiet, 3)
	record(busy, 250)
	res := s.Get(fmt.Sprintf("/settings/notifications/%d", quiet))
	if res.Status != http.StatusOK {
		t.Fatalf("channel page: %d", res.Status)
	}
	// The busy channel's attempts are the project's latest 250; the quiet
	// one's would be among them only on the wrong page.
	if rows := strings.Count(res.Body, `class="delivery-row`); rows != 3 {
		t.Errorf("the quiet channel's page lists %d attempts, want its own 3", rows)
	}
}
