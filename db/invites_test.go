package db

import (
	"errors"
	"testing"
	"time"
)

func TestInviteIsSingleUseAndExpires(t *testing.T) {
	d := openTest(t)
	ctx := t.Context()
	admin, err := d.CreateFirstAdmin(ctx, "admin@example.com", "hash")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := d.CreateInvite(ctx, "tok1", "ana@example.com", false, admin.ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateInvite(ctx, "tok-admin", "ADMIN@example.com", false, admin.ID, now.Add(time.Hour)); !errors.Is(err, ErrExists) {
		t.Errorf("invite of an existing email: %v, want ErrExists", err)
	}
	if _, err := d.AcceptInvite(ctx, "tok1", "pw", now.Add(2*time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Errorf("accept after expiry: %v, want ErrNotFound", err)
	}
	u, err := d.AcceptInvite(ctx, "tok1", "pw", now)
	if err != nil || u.Email != "ana@example.com" || u.IsAdmin {
		t.Fatalf("accept: %+v, %v", u, err)
	}
	if _, err := d.AcceptInvite(ctx, "tok1", "pw", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("second accept: %v, want ErrNotFound", err)
	}
	// A newer invite of the same email replaces the older one.
	if _, err := d.CreateInvite(ctx, "old", "bo@example.com", false, admin.ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateInvite(ctx, "new", "bo@example.com", true, admin.ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.PendingInvite(ctx, "old", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("the older invite still works: %v", err)
	}
	if in, err := d.PendingInvite(ctx, "new", now); err != nil || !in.IsAdmin {
		t.Errorf("the newer invite: %+v, %v", in, err)
	}
}

func TestRemovingUsersKeepsAnAdmin(t *testing.T) {
	d := openTest(t)
	ctx := t.Context()
	admin, err := d.CreateFirstAdmin(ctx, "admin@example.com", "hash")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateInvite(ctx, "t", "m@example.com", false, admin.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	member, err := d.AcceptInvite(ctx, "t", "pw", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CreateSession(ctx, Session{TokenHash: "s", UserID: member.ID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateAPIKey(ctx, member.ID, "k", "khash", "mask"); err != nil {
		t.Fatal(err)
	}
	if err := d.SetUserAdmin(ctx, admin.ID, false); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("demote the only admin: %v, want ErrLastAdmin", err)
	}
	if err := d.DeleteUser(ctx, admin.ID); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("delete the only admin: %v, want ErrLastAdmin", err)
	}
	if err := d.DeleteUser(ctx, member.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.SessionUser(ctx, "s", time.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed user's session: %v, want ErrNotFound", err)
	}
	if _, err := d.UserByAPIKey(ctx, "khash"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed user's key: %v, want ErrNotFound", err)
	}
}
