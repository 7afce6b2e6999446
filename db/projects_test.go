package db

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestProjectsCreateRenameDelete(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	two, err := d.CreateProject(ctx, "Storefront")
	if err != nil || two.ID != 2 || !strings.HasPrefix(two.Token, "phc_") || two.Token == "phc_test" {
		t.Fatalf("create: %+v, %v; want id 2 with a new phc_ token", two, err)
	}
	if _, err := d.CreateProject(ctx, "storefront"); !errors.Is(err, ErrProjectNameTaken) {
		t.Errorf("create with a taken name (other case): %v, want ErrProjectNameTaken", err)
	}
	if err := d.RenameProject(ctx, two.ID, "Default project"); !errors.Is(err, ErrProjectNameTaken) {
		t.Errorf("rename to a taken name: %v, want ErrProjectNameTaken", err)
	}
	if err := d.RenameProject(ctx, two.ID, "Shop"); err != nil {
		t.Fatal(err)
	}
	if err := d.RenameProject(ctx, 99, "Nowhere"); !errors.Is(err, ErrNotFound) {
		t.Errorf("rename a missing project: %v, want ErrNotFound", err)
	}
	if _, err := d.write.ExecContext(ctx, "INSERT INTO inbox_rejected(project_id, format, received_at, payload, error, failed_at) VALUES (2, 'posthog', 0, ?, 'bad', 0)", []byte{0}); err != nil {
		t.Fatal(err)
	}
	id, err := d.CreateNotificationChannel(ctx, NotificationChannel{ProjectID: 2, Name: "Ops", Kind: ChannelEmail, EmailTo: []string{"a@x.test"}, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := d.ProjectOfNotificationChannel(ctx, id); err != nil || p != 2 {
		t.Errorf("project of channel: %d, %v; want 2", p, err)
	}

	if err := d.DeleteProject(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ProjectByToken(ctx, two.Token); !errors.Is(err, ErrNotFound) {
		t.Errorf("token of a deleted project: %v, want ErrNotFound", err)
	}
	var left int
	if err := d.write.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM inbox_rejected) + (SELECT count(*) FROM notification_channels)").Scan(&left); err != nil || left != 0 {
		t.Errorf("rows left of the deleted project: %d, %v", left, err)
	}
	three, err := d.CreateProject(ctx, "Shop")
	if err != nil || three.ID != 3 {
		t.Fatalf("create after delete: %+v, %v; want id 3 (2 is never reused)", three, err)
	}

	if err := d.DeleteProject(ctx, DefaultProjectID); err != nil {
		t.Fatalf("delete project 1 while another remains: %v", err)
	}
	if err := d.DeleteProject(ctx, three.ID); !errors.Is(err, ErrLastProject) {
		t.Errorf("delete the last project: %v, want ErrLastProject", err)
	}
	// A restart does not bring project 1 back, nor give project 3 its token.
	p, err := d.EnsureDefaultProject(ctx, "phc_test", "phc_other")
	if err != nil || p.ID != three.ID || p.Token != three.Token {
		t.Errorf("ensure default after deleting 1: %+v, %v; want project 3 unchanged", p, err)
	}
	if all, err := d.Projects(ctx); err != nil || len(all) != 1 {
		t.Errorf("projects: %+v, %v; want only project 3", all, err)
	}
}

func TestCheckProjectName(t *testing.T) {
	for _, bad := range []string{"", "   ", strings.Repeat("é", MaxProjectNameLen+1), "a\nb"} {
		if _, err := CheckProjectName(bad); err == nil {
			t.Errorf("CheckProjectName(%q) accepted", bad)
		}
	}
	if got, err := CheckProjectName("  Shop  "); err != nil || got != "Shop" {
		t.Errorf("CheckProjectName trims: %q, %v", got, err)
	}
}
