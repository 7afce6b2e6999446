package pipeline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/symbols"
)

// A second node on the harness's database: its own *db.DB and worker.
func secondNode(t *testing.T, h harness) *Worker {
	t.Helper()
	store := h.loc.Open(t)
	resolver := symbols.NewResolver(store, symbols.ResolverConfig{Fetch: symbols.DefaultFetchConfig()})
	return New(store, resolver, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// A node that claimed and prepared a batch, then died (or stalled past its
// lease), leaves the batch to another node: that node stores every row, and
// the first node's late store of its batch stores nothing twice.
func TestWorkerOfADeadNodeLeavesItsBatchToAnother(t *testing.T) {
	h := newHarness(t, false)
	ctx := context.Background()
	const rows = 25
	var payloads [][]byte
	for i := range rows {
		payloads = append(payloads, exceptionPayload(fmt.Sprintf("00000000-0000-4000-8000-%012d", i), fmt.Sprintf("error %d", i%4)))
	}
	appendInbox(t, h.store, payloads...)

	dead := h.worker
	dead.batchSize = 10
	dead.lease = -time.Second // its lease is over as soon as it claims
	claimed, err := dead.claim(ctx)
	if err != nil || len(claimed) != 10 {
		t.Fatalf("the first node claimed %d rows (%v), want 10", len(claimed), err)
	}
	stalled, err := dead.prepareRows(ctx, claimed)
	if err != nil {
		t.Fatal(err)
	}

	other := secondNode(t, h)
	other.batchSize = 10
	other.drain(ctx, 0)
	if left, _ := h.store.CountInbox(ctx); left != 0 {
		t.Fatalf("%d rows left in the inbox after the second node drained it", left)
	}
	if got := countStoredEvents(t, h); got != rows {
		t.Fatalf("%d events stored by the second node, want %d", got, rows)
	}

	n, _, err := dead.storePrepared(ctx, stalled, db.NextClaim{})
	if err != nil || n != len(claimed) {
		t.Fatalf("the first node's late store: %d, %v", n, err)
	}
	if got := countStoredEvents(t, h); got != rows {
		t.Fatalf("%d events counted after the first node's late store, want %d", got, rows)
	}
	events := h.loc.Count(t, "SELECT count(*) FROM events")
	distinct := h.loc.Count(t, "SELECT count(DISTINCT uuid) FROM events")
	if events != rows || distinct != rows {
		t.Fatalf("%d events stored (%d uuids), want %d, each once", events, distinct, rows)
	}
}
