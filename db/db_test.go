package db

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stacklens/stacklens/internal/testkit"
)

// openTest opens a fresh database in the run's engine (testkit.Engine):
// a SQLite file in the test's folder, or a PostgreSQL database of its own.
func openTest(t *testing.T) *DB {
	t.Helper()
	d, err := openEngine(t)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.EnsureDefaultProject(context.Background(), "phc_test", "phc_generated"); err != nil {
		t.Fatal(err)
	}
	return d
}

func openEngine(t testing.TB) (*DB, error) {
	if testkit.Engine() == testkit.Postgres {
		return OpenPostgres(context.Background(), testkit.PostgresDatabase(t))
	}
	return Open(context.Background(), filepath.Join(t.TempDir(), "stacklens.db"))
}

func TestOpenTwiceKeepsDataAndMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	ctx := context.Background()
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.EnsureDefaultProject(ctx, "", "phc_first")
	if err != nil || p.Token != "phc_first" {
		t.Fatalf("project %+v, %v", p, err)
	}
	d.Close()
	d, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p, err = d.EnsureDefaultProject(ctx, "", "phc_second")
	if err != nil || p.Token != "phc_first" {
		t.Fatalf("token changed on reopen: %+v, %v", p, err)
	}
	p, err = d.EnsureDefaultProject(ctx, "phc_env", "phc_third")
	if err != nil || p.Token != "phc_env" {
		t.Fatalf("STACKLENS_PROJECT_TOKEN did not win: %+v, %v", p, err)
	}
	var mode string
	if err := d.read.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v", mode, err)
	}
	if _, err := d.read.Exec("DELETE FROM projects"); err == nil {
		t.Fatal("reader pool accepted a write")
	}
	// The writer keeps statement journals in memory (2 = MEMORY); synchronous stays FULL (2).
	var tempStore, synchronous int
	if err := d.write.QueryRow("PRAGMA temp_store").Scan(&tempStore); err != nil || tempStore != 2 {
		t.Fatalf("writer temp_store = %d, %v; want 2 (MEMORY)", tempStore, err)
	}
	if err := d.write.QueryRow("PRAGMA synchronous").Scan(&synchronous); err != nil || synchronous != 2 {
		t.Fatalf("writer synchronous = %d, %v; want 2 (FULL)", synchronous, err)
	}
}

func TestInboxWriterCommitsConcurrentAppendsDurably(t *testing.T) {
	d := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	w := d.NewInboxWriter(InboxLimits{})
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows := []InboxRow{{ProjectID: 1, Format: "posthog", ReceivedAt: time.Now(), Payload: fmt.Appendf(nil, `{"n":%d}`, i)}}
			if err := w.Append(context.Background(), rows); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	n, err := d.CountInbox(context.Background())
	if err != nil || n != 50 {
		t.Fatalf("inbox has %d rows (%v), want 50", n, err)
	}
	cancel()
	<-done
	if err := w.Append(context.Background(), []InboxRow{{ProjectID: 1, Format: "posthog", Payload: []byte("{}")}}); err != ErrInboxClosed {
		t.Fatalf("append after stop = %v, want ErrInboxClosed", err)
	}
}

func newEvent(inboxID int64, uuid, fp string, ts time.Time) NewEvent {
	return NewEvent{InboxID: inboxID, ProjectID: 1, UUID: uuid, Fingerprint: fp, IssueName: "TypeError",
		IssueDescription: "x is undefined", Timestamp: ts, ReceivedAt: ts, Data: []byte(`{}`), Raw: []byte(`{}`)}
}

func TestStoreBatchGroupsDedupesAndReopens(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	got, err := d.StoreBatch(ctx, []NewEvent{
		newEvent(0, "a", "fp1", t0),
		newEvent(0, "b", "fp1", t0.Add(time.Minute)),
		newEvent(0, "c", "fp2", t0),
		newEvent(0, "a", "fp1", t0), // a retry of the same event
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].NewIssue || got[1].NewIssue || got[1].IssueID != got[0].IssueID || !got[2].NewIssue || !got[3].Duplicate {
		t.Fatalf("unexpected results %+v", got)
	}
	is, err := d.Issue(ctx, 1, got[0].IssueID)
	if err != nil {
		t.Fatal(err)
	}
	if is.Occurrences != 2 || !is.FirstSeen.Equal(t0) || !is.LastSeen.Equal(t0.Add(time.Minute)) {
		t.Fatalf("issue counts wrong: %+v", is)
	}
	if err := d.SetIssueStatus(ctx, 1, is.ID, StatusResolved); err != nil {
		t.Fatal(err)
	}
	got, err = d.StoreBatch(ctx, []NewEvent{newEvent(0, "d", "fp1", t0.Add(2*time.Minute))}, nil)
	if err != nil || !got[0].Regression {
		t.Fatalf("no regression: %+v %v", got, err)
	}
	is, _ = d.Issue(ctx, 1, is.ID)
	if is.Status != StatusActive || is.RegressedAt.IsZero() {
		t.Fatalf("resolved issue not reopened: %+v", is)
	}
	if err := d.SetIssueStatus(ctx, 1, is.ID, StatusSuppressed); err != nil {
		t.Fatal(err)
	}
	got, err = d.StoreBatch(ctx, []NewEvent{newEvent(0, "e", "fp1", t0.Add(3*time.Minute))}, nil)
	if err != nil || !got[0].Suppressed {
		t.Fatalf("not suppressed: %+v %v", got, err)
	}
	evs, err := d.IssueEvents(ctx, 1, is.ID, 10)
	if err != nil || len(evs) != 3 || evs[0].UUID != "d" {
		t.Fatalf("events %+v %v (want d, b, a; suppressed e not stored)", evs, err)
	}
	is, _ = d.Issue(ctx, 1, is.ID)
	if is.Occurrences != 4 {
		t.Fatalf("suppressed event not counted: %d", is.Occurrences)
	}
}

func TestStoreBatchRemovesInboxRowsAtomically(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	w := d.NewInboxWriter(InboxLimits{})
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go w.Run(runCtx)
	if err := w.Append(ctx, []InboxRow{
		{ProjectID: 1, Format: "posthog", ReceivedAt: time.Now(), Payload: []byte(`{"a":1}`)},
		{ProjectID: 1, Format: "posthog", ReceivedAt: time.Now(), Payload: []byte(`{"a":2}`)},
	}); err != nil {
		t.Fatal(err)
	}
	rows, err := d.ClaimInbox(ctx, 10, time.Minute)
	if err != nil || len(rows) != 2 {
		t.Fatalf("pending %d %v", len(rows), err)
	}
	// A batch that fails part-way (an event for a project that does not exist
	// violates a foreign key) must leave every inbox row in place.
	bad := newEvent(rows[1].ID, "y", "fp", time.Now())
	bad.ProjectID = 99
	if _, err := d.StoreBatch(ctx, []NewEvent{newEvent(rows[0].ID, "x", "fp", time.Now()), bad}, nil); err == nil {
		t.Fatal("batch with a bad event succeeded")
	}
	if n, _ := d.CountInbox(ctx); n != 2 {
		t.Fatalf("failed batch removed inbox rows: %d left", n)
	}
	if page, _ := d.ListIssues(ctx, IssueQuery{ProjectID: 1}); page.Total != 0 {
		t.Fatalf("failed batch left %d issues", page.Total)
	}
	if _, err := d.StoreBatch(ctx, []NewEvent{newEvent(rows[0].ID, "x", "fp", time.Now())},
		[]RejectedInbox{{Row: rows[1], Err: "unparseable"}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := d.CountInbox(ctx); n != 0 {
		t.Fatalf("inbox not drained: %d", n)
	}
	var kept int
	if err := d.read.QueryRow("SELECT count(*) FROM inbox_rejected").Scan(&kept); err != nil || kept != 1 {
		t.Fatalf("rejected row not kept: %d %v", kept, err)
	}
}

func TestListIssuesKeysetPagination(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	base := time.Now().Add(-24 * time.Hour).Truncate(time.Millisecond)
	var evs []NewEvent
	for i := range 7 {
		evs = append(evs, newEvent(0, fmt.Sprint("u", i), fmt.Sprint("fp", i), base.Add(time.Duration(i)*time.Minute)))
	}
	if _, err := d.StoreBatch(ctx, evs, nil); err != nil {
		t.Fatal(err)
	}
	var seen []int64
	q := IssueQuery{ProjectID: 1, Limit: 3}
	for {
		page, err := d.ListIssues(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 7 {
			t.Fatalf("total %d", page.Total)
		}
		for _, is := range page.Issues {
			seen = append(seen, is.ID)
		}
		if !page.HasMore {
			break
		}
		last := page.Issues[len(page.Issues)-1]
		q.After = &IssueCursor{LastSeen: last.LastSeen, ID: last.ID}
	}
	if len(seen) != 7 || seen[0] != 7 || seen[6] != 1 {
		t.Fatalf("pages gave %v, want 7..1", seen)
	}
	first := IssueCursor{LastSeen: base.Add(3 * time.Minute), ID: 4}
	page, err := d.ListIssues(ctx, IssueQuery{ProjectID: 1, Limit: 2, Before: &first})
	if err != nil || len(page.Issues) != 2 || page.Issues[0].ID != 6 || page.Issues[1].ID != 5 || !page.HasMore {
		t.Fatalf("before page %+v %v", page, err)
	}
}

func TestInboxWriterIsolatesABadRequest(t *testing.T) {
	d := openTest(t)
	w := d.NewInboxWriter(InboxLimits{})
	bad := appendRequest{rows: []InboxRow{{ProjectID: 404, Format: "posthog", ReceivedAt: time.Now(), Payload: []byte("{}")}}, done: make(chan error, 1)}
	good := appendRequest{rows: []InboxRow{{ProjectID: 1, Format: "posthog", ReceivedAt: time.Now(), Payload: []byte("{}")}}, done: make(chan error, 1)}
	// Both in one batch, as concurrent requests arriving together would be.
	w.commit(context.Background(), []appendRequest{bad, good})
	if err := <-bad.done; err == nil {
		t.Fatal("a row for a missing project was accepted")
	}
	if err := <-good.done; err != nil {
		t.Fatalf("the good request failed with its neighbour: %v", err)
	}
	if n, _ := d.CountInbox(context.Background()); n != 1 {
		t.Fatalf("inbox has %d rows, want 1", n)
	}
}
