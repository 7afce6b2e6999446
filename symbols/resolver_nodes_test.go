package symbols_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/internal/teststore"
	"github.com/stacklens/stacklens/pipeline"
	"github.com/stacklens/stacklens/symbols"
)

// These tests run two "nodes" on one database of the run's engine (a SQLite
// file or a PostgreSQL database): each its own *db.DB, its own resolver and
// worker, as two stacklens processes sharing a database.

type node struct {
	db       *db.DB
	resolver *symbols.Resolver
	worker   *pipeline.Worker
	uploads  *symbols.Uploads
}

func openNodes(t *testing.T, n int) ([]node, int64) {
	t.Helper()
	ctx := context.Background()
	shared := teststore.New(t)
	var nodes []node
	for range n {
		d := shared.Open(t)
		cfg := symbols.DefaultFetchConfig()
		cfg.AllowPrivate = true
		resolver := symbols.NewResolver(d, symbols.ResolverConfig{Fetch: cfg})
		t.Cleanup(resolver.Close)
		worker := pipeline.New(d, resolver, slog.New(slog.NewTextHandler(io.Discard, nil)))
		nodes = append(nodes, node{db: d, resolver: resolver, worker: worker,
			uploads: symbols.NewUploads(d, worker, symbols.UploadConfig{})})
	}
	p, err := nodes[0].db.CreateProject(ctx, "nodes")
	if err != nil {
		t.Fatal(err)
	}
	return nodes, p.ID
}

// mapNaming is a source map whose one mapping points at src/<name>.ts.
func mapNaming(name string) []byte {
	return []byte(`{"version":3,"file":"app.js","sources":["src/` + name + `.ts"],"sourcesContent":["export function f() { throw new Error('x') }\n"],` +
		`"names":["f"],"mappings":"AAAA,SAASA"}`)
}

var chunkFrame = event.Frame{Platform: "web:javascript", Filename: "app.js", Function: "x", InApp: true,
	Lineno: 1, Colno: 1, ChunkID: "chunk-1"}

// process puts one PostHog exception with chunkFrame in the inbox through
// n's own writer, has n's worker store it, and returns the resolution
// recorded for the frame.
func (n node) process(t *testing.T, projectID int64, uuid string) event.Resolution {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := n.db.NewInboxWriter(db.InboxLimits{})
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	payload := fmt.Sprintf(`{"uuid":%q,"event":"$exception","distinct_id":"u1","timestamp":"2026-11-25T10:00:00Z",
		"properties":{"$exception_list":[{"type":"Error","value":"x","stacktrace":{"type":"raw","frames":[
		{"platform":"web:javascript","filename":"app.js","function":"x","in_app":true,"lineno":1,"colno":1,"chunk_id":"chunk-1"}]}}]}}`, uuid)
	err := w.Append(ctx, []db.InboxRow{{ProjectID: projectID, Format: "posthog", ReceivedAt: time.Now(), Payload: []byte(payload)}})
	cancel()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.worker.ProcessBatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	rawID := event.FrameRawID(chunkFrame)
	current, err := n.db.FrameResolutions(context.Background(), projectID, []string{rawID})
	if err != nil {
		t.Fatal(err)
	}
	res, ok := current[rawID]
	if !ok {
		t.Fatalf("no resolution recorded for event %s", uuid)
	}
	return res
}

// A symbol set replaced through one node is used by the other node's next
// batch, although that node had the old map parsed and its record cached.
func TestSymbolSetReplacedOnOneNodeResolvesWithTheNewMapOnAnother(t *testing.T) {
	nodes, project := openNodes(t, 2)
	a, b := nodes[0], nodes[1]
	ctx := context.Background()
	minified := []byte("function f(){throw new Error(\"x\")}\n//# chunkId=chunk-1\n")
	if _, err := a.uploads.CreateFromBlob(ctx, project, "chunk-1", "", symbols.EncodeUploadBlob(symbols.BlobVersion2, false, minified, mapNaming("first"))); err != nil {
		t.Fatal(err)
	}
	if res := b.process(t, project, "00000000-0000-7000-8000-000000000001"); res.Source != "src/first.ts" {
		t.Fatalf("node B resolved to %q (%s), want src/first.ts", res.Source, res.FailureCode)
	}

	set, err := a.db.SymbolSet(ctx, project, "chunk-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.uploads.Replace(ctx, project, set.ID, mapNaming("second"), minified, false); err != nil {
		t.Fatal(err)
	}
	if res := b.process(t, project, "00000000-0000-7000-8000-000000000002"); res.Source != "src/second.ts" {
		t.Errorf("after the replace through node A, node B resolved to %q, want src/second.ts", res.Source)
	}

	// Deleted through A: B's next batch no longer finds the set (it records the chunk as not uploaded).
	if err := a.db.DeleteSymbolSet(ctx, project, set.ID); err != nil {
		t.Fatal(err)
	}
	if res := b.process(t, project, "00000000-0000-7000-8000-000000000003"); res.Resolved || res.FailureCode != symbols.FailureNotUploaded {
		t.Errorf("after the delete through node A, node B answered %+v, want %s", res, symbols.FailureNotUploaded)
	}
}

// heldSite serves app.js and its map, holding every request for app.js
// until released, and counts requests per path with the time each arrived.
type heldSite struct {
	*httptest.Server
	release chan struct{}
	mu      sync.Mutex
	hits    map[string][]time.Time
}

func newHeldSite(t *testing.T) *heldSite {
	s := &heldSite{release: make(chan struct{}), hits: map[string][]time.Time{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path] = append(s.hits[r.URL.Path], time.Now())
		s.mu.Unlock()
		switch r.URL.Path {
		case "/app.js":
			<-s.release
			w.Write([]byte("function f(){throw new Error(\"x\")}\n//# sourceMappingURL=app.js.map\n"))
		case "/app.js.map":
			w.Write(mapNaming("fetched"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *heldSite) requests(path string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.hits[path]...)
}

// waitingForAnotherFetch counts fetch jobs sleeping between looks at a
// fetch that another resolver claimed.
func waitingForAnotherFetch() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, " [select") && strings.Contains(g, "symbols.(*Resolver).fetchOnce(") {
			n++
		}
	}
	return n
}

func urlEvent(url string) *event.Event {
	ev := &event.Event{Exceptions: []event.Exception{{Type: "Error", Value: "x", Frames: []event.Frame{
		{Platform: "web:javascript", Filename: url, Function: "x", InApp: true, Lineno: 1, Colno: 1}}}}}
	ev.Normalize()
	return ev
}

func waitAll(t *testing.T, jobs []<-chan struct{}) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for _, done := range jobs {
		select {
		case <-done:
		case <-deadline:
			t.Fatal("a background fetch did not end")
		}
	}
}

// Two nodes asked at the same moment for a URL neither has fetched: one
// fetches it, the other waits for and uses the outcome it stored.
func TestTwoNodesFetchAURLOnce(t *testing.T) {
	nodes, project := openNodes(t, 2)
	site := newHeldSite(t)
	url := site.URL + "/app.js"
	ctx := context.Background()

	jobs := make([][]<-chan struct{}, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { jobs[i], errs[i] = n.resolver.StartFetches(ctx, project, urlEvent(url)) })
	}
	wg.Wait()
	for i := range nodes {
		if errs[i] != nil || len(jobs[i]) != 1 {
			// Neither can find the set done: the minified file is held back.
			t.Fatalf("node %d: %d fetches started, %v", i, len(jobs[i]), errs[i])
		}
	}
	// Let the fetch end only once one node fetches and the other waits for it.
	deadline := time.Now().Add(10 * time.Second)
	for len(site.requests("/app.js")) < 1 || waitingForAnotherFetch() < 1 {
		if n := len(site.requests("/app.js")); n > 1 || time.Now().After(deadline) {
			close(site.release)
			t.Fatalf("the server saw %d requests for app.js, and %d node waits for the other's fetch; want 1 and 1", n, waitingForAnotherFetch())
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(site.release)
	waitAll(t, append(jobs[0], jobs[1]...))

	if n := len(site.requests("/app.js")); n != 1 {
		t.Errorf("the server saw %d requests for app.js, want 1", n)
	}
	if n := len(site.requests("/app.js.map")); n != 1 {
		t.Errorf("the server saw %d requests for app.js.map, want 1", n)
	}
	for i, n := range nodes {
		if err := n.resolver.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		ev := urlEvent(url)
		if err := n.resolver.Symbolicate(ctx, project, ev); err != nil {
			t.Fatal(err)
		}
		if res := ev.Exceptions[0].Frames[0].Resolution; res == nil || res.Source != "src/fetched.ts" {
			t.Errorf("node %d resolved the frame to %+v, want src/fetched.ts", i, res)
		}
	}
}

// A node that claimed a fetch and died leaves a claim nobody renews: once
// it lapses another node takes the fetch over.
func TestAFetchClaimOfADeadNodeIsTakenOverOnceItLapses(t *testing.T) {
	nodes, project := openNodes(t, 2)
	dead, live := nodes[0], nodes[1]
	site := newHeldSite(t)
	close(site.release)
	url := site.URL + "/app.js"
	ctx := context.Background()

	// The dead node got as far as recording the set as pending and claiming its fetch.
	if _, err := dead.db.InsertMissingSymbolSet(ctx, symbols.SymbolSet{ProjectID: project, Ref: url, Kind: symbols.RefURL,
		Failure: symbols.Failf(symbols.FailureFetchPending, "Fetching.")}); err != nil {
		t.Fatal(err)
	}
	lapses := time.Now().Add(500 * time.Millisecond)
	if held, err := dead.db.ClaimSymbolSetFetch(ctx, project, url, "dead-node", lapses); err != nil || !held {
		t.Fatalf("claim: %v, %v", held, err)
	}
	dead.resolver.Close()

	jobs, err := live.resolver.StartFetches(ctx, project, urlEvent(url))
	if err != nil || len(jobs) != 1 {
		t.Fatalf("%d fetches started, %v", len(jobs), err)
	}
	waitAll(t, jobs)

	requests := site.requests("/app.js")
	if len(requests) != 1 {
		t.Fatalf("the server saw %d requests for app.js, want 1", len(requests))
	}
	if requests[0].Before(lapses) {
		t.Errorf("the live node fetched %s before the dead node's claim lapsed", lapses.Sub(requests[0]))
	}
	set, err := live.db.SymbolSet(ctx, project, url)
	if err != nil || !set.Stored {
		t.Errorf("after the takeover the set is %+v, %v; want it stored", set, err)
	}
}

// BenchmarkSyncUnchanged is what every batch pays to check its caches when
// no symbol set changed: one read of the clock.
func BenchmarkSyncUnchanged(b *testing.B) {
	d, err := db.Open(context.Background(), filepath.Join(b.TempDir(), "sync.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	r := symbols.NewResolver(d, symbols.ResolverConfig{})
	defer r.Close()
	ctx := context.Background()
	for b.Loop() {
		if err := r.Sync(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
