package db

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// twoNodes opens one SQLite file twice: two processes of a cluster.
func twoNodes(t *testing.T) (a, b *DB) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	a, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if _, err := a.EnsureDefaultProject(ctx, "phc_test", "phc_generated"); err != nil {
		t.Fatal(err)
	}
	b, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if a.Node() == b.Node() {
		t.Fatalf("two opens share the node id %s", a.Node())
	}
	return a, b
}

// appendRows puts n rows with uuids u0… in the inbox through d's writer.
func appendRows(t *testing.T, d *DB, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := d.NewInboxWriter(InboxLimits{})
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	var rows []InboxRow
	for i := range n {
		rows = append(rows, InboxRow{ProjectID: 1, Format: "posthog", ReceivedAt: time.Now(), Payload: []byte(`{}`),
			UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i)})
	}
	if err := w.Append(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
}

// storeClaimed stores an event for each claimed row, as the pipeline would.
func storeClaimed(ctx context.Context, d *DB, rows []InboxRow) ([]Stored, error) {
	var evs []NewEvent
	for _, r := range rows {
		evs = append(evs, newEvent(r.ID, r.UUID, "fp", time.Now()))
	}
	return d.StoreBatch(ctx, evs, nil)
}

func storedUUIDs(t *testing.T, d *DB) map[string]int {
	t.Helper()
	rows, err := d.read.Query("SELECT uuid, count(*) FROM events GROUP BY uuid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var u string
		var n int
		if err := rows.Scan(&u, &n); err != nil {
			t.Fatal(err)
		}
		out[u] = n
	}
	return out
}

// Two nodes claiming the inbox at the same time get disjoint rows, all of
// them between the two, and each stores only its own. Each round both
// claim at once, while the other's claims of the round are still live, and
// only then store.
func TestTwoNodesClaimDisjointInboxRows(t *testing.T) {
	a, b := twoNodes(t)
	const total = 300
	appendRows(t, a, total)
	ctx := context.Background()
	nodes := []*DB{a, b}
	seen := map[int64]int{} // row id: the node (index) that claimed it
	perNode := make([]int, len(nodes))
	for round := 0; ; round++ {
		claimed := make([][]InboxRow, len(nodes))
		errs := make([]error, len(nodes))
		var wg sync.WaitGroup
		for i, node := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				claimed[i], errs[i] = node.ClaimInbox(ctx, 7, time.Minute)
			}()
		}
		wg.Wait()
		got := 0
		for i := range nodes {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			for _, r := range claimed[i] {
				if other, dup := seen[r.ID]; dup {
					t.Fatalf("round %d: row %d claimed by node %d and node %d", round, r.ID, other, i)
				}
				seen[r.ID] = i
			}
			perNode[i] += len(claimed[i])
			got += len(claimed[i])
		}
		if got == 0 {
			break
		}
		for i, node := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = storeClaimed(ctx, node, claimed[i])
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(seen) != total || perNode[0] == 0 || perNode[1] == 0 {
		t.Fatalf("%d rows claimed between the nodes (%v each), want all %d, by both", len(seen), perNode, total)
	}
	if n, _ := a.CountInbox(ctx); n != 0 {
		t.Fatalf("%d rows left in the inbox", n)
	}
	uuids := storedUUIDs(t, a)
	for u, n := range uuids {
		if n != 1 {
			t.Errorf("event %s stored %d times", u, n)
		}
	}
	if len(uuids) != total {
		t.Fatalf("%d events stored, want %d", len(uuids), total)
	}
}

// A node that claims rows and dies holds them only until the lease ends:
// before, the other node cannot claim them; after, it claims and stores
// them. If the first node was only paused and finishes its batch late, it
// stores nothing: every event is stored once.
func TestInboxRowsOfADeadNodeGoToAnotherAfterTheLease(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	appendRows(t, a, 10)

	held, err := a.ClaimInbox(ctx, 4, time.Minute)
	if err != nil || len(held) != 4 {
		t.Fatalf("node a claimed %d rows (%v), want 4", len(held), err)
	}
	rest, err := b.ClaimInbox(ctx, 100, time.Minute)
	if err != nil || len(rest) != 6 || rest[0].ID <= held[3].ID {
		t.Fatalf("node b claimed %d rows (%v) beside a's live lease, want the 6 others", len(rest), err)
	}
	if _, err := storeClaimed(ctx, b, rest); err != nil {
		t.Fatal(err)
	}
	if again, err := b.ClaimInbox(ctx, 100, time.Minute); err != nil || len(again) != 0 {
		t.Fatalf("node b claimed %d of a's rows while a's lease lasts (%v)", len(again), err)
	}

	// Node a "dies" holding rows whose lease has ended: claimed again with
	// a lease already over, as a's would be once its time passed.
	if renewed, err := a.RenewInboxClaims(ctx, ids(held), -time.Second); err != nil || renewed != 4 {
		t.Fatalf("a renewed %d of its 4 rows (%v)", renewed, err)
	}
	taken, err := b.ClaimInbox(ctx, 100, time.Minute)
	if err != nil || len(taken) != 4 {
		t.Fatalf("node b claimed %d rows after a's lease ended (%v), want a's 4", len(taken), err)
	}
	if renewed, err := a.RenewInboxClaims(ctx, ids(held), time.Minute); err != nil || renewed != 0 {
		t.Fatalf("a renewed %d rows that b holds now (%v)", renewed, err)
	}
	// a wakes up and stores its batch before b does: nothing of it is stored.
	stored, err := storeClaimed(ctx, a, held)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range stored {
		if !st.NotHeld || st.Notifies() {
			t.Fatalf("a's late store of row %d: %+v, want NotHeld", held[i].ID, st)
		}
	}
	if n, _ := a.CountInbox(ctx); n != 4 {
		t.Fatalf("a's late store took out rows b holds: %d left, want 4", n)
	}
	if _, err := storeClaimed(ctx, b, taken); err != nil {
		t.Fatal(err)
	}
	// And a's batch once more after b stored it: still nothing.
	if _, err := storeClaimed(ctx, a, held); err != nil {
		t.Fatal(err)
	}
	uuids := storedUUIDs(t, a)
	if len(uuids) != 10 {
		t.Fatalf("%d events stored, want 10", len(uuids))
	}
	for u, n := range uuids {
		if n != 1 {
			t.Errorf("event %s stored %d times", u, n)
		}
	}
	if n, _ := a.CountInbox(ctx); n != 0 {
		t.Fatalf("%d rows left in the inbox", n)
	}
}

// One event in two inbox rows (a client's retry), the rows processed by two
// nodes, is stored once: storing dedups by the event's uuid.
func TestOneEventInTwoRowsOnTwoNodesIsStoredOnce(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	appendRows(t, a, 1)
	appendRows(t, a, 1) // the same uuid again
	first, err := a.ClaimInbox(ctx, 1, time.Minute)
	if err != nil || len(first) != 1 {
		t.Fatalf("a claimed %d (%v)", len(first), err)
	}
	second, err := b.ClaimInbox(ctx, 1, time.Minute)
	if err != nil || len(second) != 1 || second[0].ID == first[0].ID {
		t.Fatalf("b claimed %+v (%v), want the other row", second, err)
	}
	if _, err := storeClaimed(ctx, b, second); err != nil {
		t.Fatal(err)
	}
	st, err := storeClaimed(ctx, a, first)
	if err != nil || !st[0].Duplicate {
		t.Fatalf("the second row of one event: %+v (%v), want a duplicate", st, err)
	}
	if uuids := storedUUIDs(t, a); len(uuids) != 1 || uuids[first[0].UUID] != 1 {
		t.Fatalf("stored %v, want the event once", uuids)
	}
}

// Released rows are claimable at once, in the inbox's order.
func TestReleasedInboxRowsAreClaimableAtOnce(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	appendRows(t, a, 3)
	held, err := a.ClaimInbox(ctx, 3, time.Minute)
	if err != nil || len(held) != 3 {
		t.Fatalf("a claimed %d (%v)", len(held), err)
	}
	if err := a.ReleaseInboxClaims(ctx, ids(held)); err != nil {
		t.Fatal(err)
	}
	got, err := b.ClaimInbox(ctx, 3, time.Minute)
	if err != nil || len(got) != 3 || got[0].ID != held[0].ID || got[2].ID != held[2].ID {
		t.Fatalf("b claimed %+v (%v) after a released, want the same 3 in order", got, err)
	}
}

// Each node's counters follow what the other node appends and drains,
// once its writer recounted.
func TestInboxCountersFollowTheOtherNode(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	appendRows(t, a, 5)
	if err := b.inbox.load(ctx, b.read); err != nil {
		t.Fatal(err)
	}
	if got := b.InboxLoad(); got.Events != 5 || got.Bytes != 10 {
		t.Fatalf("b's counters after a appended 5 rows: %+v, want 5 events, 10 bytes", got)
	}
	rows, err := b.ClaimInbox(ctx, 3, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storeClaimed(ctx, b, rows); err != nil {
		t.Fatal(err)
	}
	if got := a.InboxLoad(); got.Events != 5 {
		t.Fatalf("a's counters before a recount: %+v, want its own arithmetic (5)", got)
	}
	if err := a.inbox.load(ctx, a.read); err != nil {
		t.Fatal(err)
	}
	if got := a.InboxLoad(); got.Events != 2 || got.Bytes != 4 {
		t.Fatalf("a's counters after b drained 3 rows: %+v, want 2 events, 4 bytes", got)
	}
}

func ids(rows []InboxRow) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

// The claims of a process of this host that no longer runs (killed, then
// started again) are released when the database is opened, so its rows do
// not wait out their lease behind newer ones; a running process's are kept.
func TestOpenReleasesClaimsOfStoppedProcesses(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	appendRows(t, a, 3)
	host, _, _ := nodeProcess(a.Node())
	// Pid 0x7fffffff is beyond any pid a host hands out.
	gone := fmt.Sprintf("%s/%d/0123456789ab", host, 0x7fffffff)
	if _, err := a.write.ExecContext(ctx, "UPDATE inbox SET claimed_by = ?, claimed_until = ? WHERE id = (SELECT min(id) FROM inbox)", gone, millis(time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ClaimInbox(ctx, 1, time.Hour); err != nil { // b runs: its claim stays
		t.Fatal(err)
	}
	c, err := Open(ctx, a.path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rows, err := c.ClaimInbox(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].ID != 1 {
		t.Fatalf("after reopening, claimed %+v; want the stopped process's row 1 and the free row 3, not b's", rows)
	}
}
