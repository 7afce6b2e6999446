package db

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stacklens/stacklens/internal/testkit"
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

// TestDefaultProjectIsCreatedOnceByProcessesStartingTogether opens one
// empty database through several handles at once, as nodes starting at the
// same moment do: one default project comes out, and every handle names it.
func TestDefaultProjectIsCreatedOnceByProcessesStartingTogether(t *testing.T) {
	ctx := context.Background()
	var sharedURL, sharedPath string
	if testkit.Engine() == testkit.Postgres {
		sharedURL = testkit.PostgresDatabase(t)
	} else {
		sharedPath = filepath.Join(t.TempDir(), "shared.db")
	}
	open := func() *DB {
		t.Helper()
		var d *DB
		var err error
		if testkit.Engine() == testkit.Postgres {
			d, err = OpenPostgres(ctx, sharedURL)
		} else {
			d, err = Open(ctx, sharedPath)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	first := open()
	nodes := []*DB{first, open(), open(), open()}
	got := make([]Project, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, d := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i], errs[i] = d.EnsureDefaultProject(ctx, "", fmt.Sprintf("phc_node%d", i))
		}()
	}
	close(start)
	wg.Wait()
	for i := range nodes {
		if errs[i] != nil || got[i].ID != DefaultProjectID || got[i].Token != got[0].Token {
			t.Errorf("node %d: %+v, %v; want project 1 with the token node 0 saw (%s)", i, got[i], errs[i], got[0].Token)
		}
	}
	if projects, err := first.Projects(ctx); err != nil || len(projects) != 1 {
		t.Fatalf("projects after a simultaneous start: %+v, %v; want exactly one", projects, err)
	}
}
