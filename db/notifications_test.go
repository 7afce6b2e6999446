package db

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestNotificationChannelsAndDeliveries(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	id, err := d.CreateNotificationChannel(ctx, NotificationChannel{ProjectID: 1, Name: "Ops", Kind: ChannelEmail,
		EmailTo: []string{"a@x.test", "b@x.test"}, OnRegression: true, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := d.NotificationChannel(ctx, 1, id)
	if err != nil || ch.Name != "Ops" || len(ch.EmailTo) != 2 || ch.OnNewIssue || !ch.Wants(TriggerRegression) || ch.Wants(TriggerNewIssue) {
		t.Fatalf("channel %+v, %v", ch, err)
	}
	if err := d.SetNotificationChannelEnabled(ctx, 1, id, false); err != nil {
		t.Fatal(err)
	}
	if ch, _ := d.NotificationChannel(ctx, 1, id); ch.Wants(TriggerRegression) {
		t.Errorf("a disabled channel wants notifications")
	}
	if err := d.SetNotificationChannelEnabled(ctx, 2, id, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("enable another project's channel: %v, want ErrNotFound", err)
	}

	for i := range deliveriesKeptPerChannel + 5 {
		if _, err := d.RecordNotificationDelivery(ctx, NotificationDelivery{ProjectID: 1, ChannelID: id, Trigger: TriggerRegression,
			IssueName: "E", Attempt: 1, OK: i%2 == 0, Status: 500, Error: "down", AttemptedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := d.RecentNotificationDeliveries(ctx, 1, false, 1000)
	if err != nil || len(all) != deliveriesKeptPerChannel || all[0].ChannelName != "Ops" || all[0].ID < all[1].ID {
		t.Fatalf("kept %d attempts (err %v), want the newest %d first", len(all), err, deliveriesKeptPerChannel)
	}
	failed, err := d.RecentNotificationDeliveries(ctx, 1, true, 1000)
	if err != nil || len(failed) != deliveriesKeptPerChannel/2 {
		t.Errorf("failed attempts: %d (err %v)", len(failed), err)
	}
	last, err := d.LastNotificationDeliveries(ctx, 1)
	if err != nil || last[id].ID != all[0].ID {
		t.Errorf("last attempt %+v (err %v), want %d", last[id], err, all[0].ID)
	}
	if err := d.DeleteNotificationChannel(ctx, 1, id); err != nil {
		t.Fatal(err)
	}
	if all, _ := d.RecentNotificationDeliveries(ctx, 1, false, 10); len(all) != 0 {
		t.Errorf("deleting the channel left %d attempts", len(all))
	}
}

// TestDeliveryHistoryIsBounded counts the table itself (the listings join
// the channels, so they would not see rows left behind): each channel
// keeps its newest deliveriesKeptPerChannel attempts, also when several
// are recorded at once, and a deleted channel or project leaves none.
func TestDeliveryHistoryIsBounded(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	other, err := d.CreateProject(ctx, "Other")
	if err != nil {
		t.Fatal(err)
	}
	channel := func(projectID int64, name string) int64 {
		id, err := d.CreateNotificationChannel(ctx, NotificationChannel{ProjectID: projectID, Name: name, Kind: ChannelWebhook,
			URL: "https://hooks.test/" + name, Format: WebhookJSON, OnNewIssue: true, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	kept, gone, elsewhere := channel(1, "kept"), channel(1, "gone"), channel(other.ID, "elsewhere")
	record := func(projectID, channelID int64, n int) {
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := d.RecordNotificationDelivery(ctx, NotificationDelivery{ProjectID: projectID, ChannelID: channelID,
					Trigger: TriggerNewIssue, IssueName: "E", Attempt: 1, Status: 503, Error: "busy", AttemptedAt: time.Now()})
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}
	rows := func(where string, args ...any) int {
		t.Helper()
		var n int
		if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM notification_deliveries WHERE "+where, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, ch := range []struct{ project, id int64 }{{1, kept}, {1, gone}, {other.ID, elsewhere}} {
		record(ch.project, ch.id, deliveriesKeptPerChannel+40)
		record(ch.project, ch.id, 1) // after the burst, one more attempt prunes to the bound
		if n := rows("channel_id = ?", ch.id); n != deliveriesKeptPerChannel {
			t.Errorf("channel %d holds %d attempts, want %d", ch.id, n, deliveriesKeptPerChannel)
		}
	}
	if err := d.DeleteNotificationChannel(ctx, 1, gone); err != nil {
		t.Fatal(err)
	}
	if n := rows("channel_id = ?", gone); n != 0 {
		t.Errorf("the deleted channel left %d attempts", n)
	}
	if err := d.DeleteProject(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if n := rows("project_id = ? OR channel_id = ?", other.ID, elsewhere); n != 0 {
		t.Errorf("the deleted project left %d attempts", n)
	}
	if n := rows("1 = 1"); n != deliveriesKeptPerChannel {
		t.Errorf("the table holds %d attempts, want the remaining channel's %d", n, deliveriesKeptPerChannel)
	}
}
