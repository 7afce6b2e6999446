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
