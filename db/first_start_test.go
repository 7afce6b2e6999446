package db

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stacklens/stacklens/internal/testkit"
)

// TestFirstStartOnceWhenNodesStartTogether opens one PostgreSQL database from four
// stores released at the same moment, as four nodes started together do,
// and each runs the first start: migrations, the default project with a
// token of its own making, the first admin. One project and one admin come
// of it, and every store reads the same project.
func TestFirstStartOnceWhenNodesStartTogether(t *testing.T) {
	const nodes = 4
	ctx := context.Background()
	// PostgreSQL whatever the run's engine: nodes started together behind a
	// load balancer share a PostgreSQL database, not an SQLite file.
	url := testkit.PostgresDatabase(t)
	open := func() (*DB, error) { return OpenPostgres(ctx, url) }
	type start struct {
		project Project
		admin   error
		err     error
	}
	starts := make([]start, nodes)
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-release
			d, err := open()
			if err != nil {
				starts[i].err = err
				return
			}
			t.Cleanup(func() { d.Close() })
			starts[i].project, starts[i].err = d.EnsureDefaultProject(ctx, "", fmt.Sprintf("phc_node_%d", i))
			_, starts[i].admin = d.CreateFirstAdmin(ctx, "admin@example.test", "hash")
		}()
	}
	close(release)
	wg.Wait()

	admins := 0
	for i, s := range starts {
		if s.err != nil {
			t.Fatalf("node %d: first start: %v", i, s.err)
		}
		if s.project.ID != DefaultProjectID || s.project.Token != starts[0].project.Token {
			t.Errorf("node %d got project %d with token %q; node 0 got %d with %q", i, s.project.ID, s.project.Token, starts[0].project.ID, starts[0].project.Token)
		}
		switch {
		case s.admin == nil:
			admins++
		case !errors.Is(s.admin, ErrExists):
			t.Errorf("node %d: create first admin: %v, want it created or ErrExists", i, s.admin)
		}
	}
	if admins != 1 {
		t.Errorf("%d nodes created the first admin, want 1", admins)
	}
	d, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	projects, err := d.Projects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(projects) != 1 {
		t.Errorf("%d projects after the first start, want 1: %+v", len(projects), projects)
	}
	if n, err := d.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("%d users after the first start (%v), want 1", n, err)
	}
}
