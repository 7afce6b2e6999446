package ratelimit

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/internal/testkit"
)

// onEachEngine opens one database twice, as two stacklens processes would:
// a fresh SQLite file, or a fresh PostgreSQL database (skipped, or failed
// under STACKLENS_E2E_REQUIRED=1, when STACKLENS_TEST_POSTGRES is unset).
func onEachEngine(t *testing.T, test func(t *testing.T, first, second *db.DB)) {
	ctx := context.Background()
	run := func(t *testing.T, open func() (*db.DB, error)) {
		var dbs [2]*db.DB
		for i := range dbs {
			d, err := open()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			dbs[i] = d
		}
		test(t, dbs[0], dbs[1])
	}
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "stacklens.db")
		run(t, func() (*db.DB, error) { return db.Open(ctx, path) })
	})
	t.Run("postgres", func(t *testing.T) {
		url := testkit.PostgresDatabase(t)
		run(t, func() (*db.DB, error) { return db.OpenPostgres(ctx, url) })
	})
}

// flood sends each of the buckets two one-event requests every 10 ms of
// the clock for the given seconds (four times the limit below, together)
// and counts what they accepted. sync, when not nil, is called for bucket
// i every second, the second bucket half a second after the first.
func flood(t *testing.T, c *clock, buckets []*Buckets, project int64, lim Limit, seconds int, sync func(i int)) (accepted, refused int) {
	t.Helper()
	const stepsPerSecond = 100
	for step := range seconds * stepsPerSecond {
		c.advance(time.Second / stepsPerSecond)
		for i, b := range buckets {
			if sync != nil && (step+i*stepsPerSecond/2)%stepsPerSecond == 0 {
				sync(i)
			}
			for range 2 {
				if ok, _ := b.Take(project, lim, 1); ok {
					accepted++
				} else {
					refused++
				}
			}
		}
	}
	return accepted, refused
}

// TestTwoProcessesShareTheLimit floods one project through two processes on
// one database, each syncing once a second: together they accept about what
// one process alone would, within the bound Buckets documents, where
// without Sync they accept twice that.
func TestTwoProcessesShareTheLimit(t *testing.T) {
	onEachEngine(t, func(t *testing.T, first, second *db.DB) {
		ctx := context.Background()
		p, err := first.EnsureDefaultProject(ctx, "", db.NewProjectToken())
		if err != nil {
			t.Fatal(err)
		}
		lim := Limit{PerSecond: 100, Burst: 100}
		const seconds = 60
		oneProcess := int(lim.PerSecond*seconds + lim.Burst)
		// Buckets' bound with N = 2 processes syncing every T = 1 s.
		bound := oneProcess + int(lim.Burst+2*lim.PerSecond)

		c := &clock{t: time.Unix(1000, 0)}
		alone, _ := flood(t, c, []*Buckets{newAt(c), newAt(c)}, p.ID, lim, seconds, nil)
		if alone <= bound {
			t.Fatalf("without Sync two processes accepted %d, not above the bound of %d: the flood cannot tell sharing from not", alone, bound)
		}

		c = &clock{t: time.Unix(1000, 0)}
		buckets := []*Buckets{newAt(c), newAt(c)}
		stores := []*db.DB{first, second}
		accepted, refused := flood(t, c, buckets, p.ID, lim, seconds, func(i int) {
			if err := buckets[i].Sync(ctx, stores[i]); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%d s at %g/s (burst %g), 400 requests/s over two processes: %d accepted, %d refused with Sync; %d accepted without; one process alone: %d; bound: %d",
			seconds, lim.PerSecond, lim.Burst, accepted, refused, alone, oneProcess, bound)
		if accepted > bound {
			t.Errorf("two syncing processes accepted %d events, over the bound of %d", accepted, bound)
		}
		if floor := int(lim.PerSecond * seconds * 95 / 100); accepted < floor {
			t.Errorf("two syncing processes accepted %d events, under 95%% of the rate (%d): sharing refuses what the limit allows", accepted, floor)
		}
	})
}

// TestSyncForgetsDeletedProjects: a project deleted through another process
// loses its bucket at the next Sync, and the buckets of the others go on.
func TestSyncForgetsDeletedProjects(t *testing.T) {
	onEachEngine(t, func(t *testing.T, first, second *db.DB) {
		ctx := context.Background()
		kept, err := first.EnsureDefaultProject(ctx, "", db.NewProjectToken())
		if err != nil {
			t.Fatal(err)
		}
		gone, err := first.CreateProject(ctx, "Gone")
		if err != nil {
			t.Fatal(err)
		}
		b := New()
		lim := Limit{PerSecond: 10, Burst: 10}
		for _, p := range []int64{kept.ID, gone.ID} {
			if ok, _ := b.Take(p, lim, 1); !ok {
				t.Fatalf("project %d: first event refused", p)
			}
		}
		if err := second.DeleteProject(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}
		if err := b.Sync(ctx, first); err != nil {
			t.Fatal(err)
		}
		if _, ok := b.m[gone.ID]; ok {
			t.Errorf("the deleted project's bucket is still kept")
		}
		if bk, ok := b.m[kept.ID]; !ok || bk.unsynced != 0 || !bk.known {
			t.Errorf("the kept project's bucket after Sync: %+v (present %v), want its event counted in the database", bk, ok)
		}
	})
}
