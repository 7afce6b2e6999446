package bench

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/handlers"
	"github.com/stacklens/stacklens/internal/testkit"
	"github.com/stacklens/stacklens/internal/teststore"
	"github.com/stacklens/stacklens/pipeline"
	"github.com/stacklens/stacklens/symbols"
	"github.com/stacklens/stacklens/web"
)

// startServer runs a real stacklens server (capture, inbox, worker with
// symbolication allowed to fetch from loopback) on a SQLite file.
func startServer(t *testing.T, store *db.DB) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	fetch := symbols.DefaultFetchConfig()
	fetch.AllowPrivate = true
	resolver := symbols.NewResolver(store, symbols.ResolverConfig{Fetch: fetch})
	worker := pipeline.New(store, resolver, log)
	srv := web.New(store, worker, resolver, handlers.Options{MaxBodyBytes: 20 << 20, EventLimits: event.DefaultLimits()}, log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return "http://" + ln.Addr().String()
}

// openStore opens a fresh database in the run's engine with a default
// project taking token.
func openStore(t *testing.T, token string) *db.DB {
	t.Helper()
	store := teststore.Open(t)
	if _, err := store.EnsureDefaultProject(context.Background(), token, ""); err != nil {
		t.Fatal(err)
	}
	return store
}

// servedTemplates loads the recorded events and serves the fixture bundle
// their frames point at until the test ends; it returns the bundle's URL.
func servedTemplates(tb testing.TB) ([]*Template, string) {
	tb.Helper()
	fixtures := testkit.Fixtures(tb)
	templates, err := LoadTemplates(fixtures)
	if err != nil {
		tb.Fatal(err)
	}
	bundle := httptest.NewServer(BundleHandler(filepath.Join(fixtures, "bundles", "posthog-browser")))
	tb.Cleanup(bundle.Close)
	return templates, bundle.URL + "/app.js"
}

func TestTemplatesMakeDistinctParsableEvents(t *testing.T) {
	templates, err := LoadTemplates(testkit.Fixtures(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(templates) < 2 {
		t.Fatalf("%d templates, want the recording's 2 exceptions", len(templates))
	}
	fingerprints := map[string]bool{}
	for issue := range 3 {
		raw := templates[0].Append(nil, Event{UUID: UUID(7, int64(issue)), Issue: issue, User: 3, BundleURL: "http://b.test/app.js",
			Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC), Token: "phc_t", Release: "r9"})
		ev, err := event.ParsePostHog(raw, time.Now())
		if err != nil {
			t.Fatalf("generated event does not parse: %v\n%s", err, raw)
		}
		ev.Normalize()
		if ev.UUID != UUID(7, int64(issue)) || ev.DistinctID != "user-3" || ev.Release != "r9" ||
			!ev.Timestamp.Equal(time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)) {
			t.Errorf("generated event has uuid %q, user %q, release %q, time %v", ev.UUID, ev.DistinctID, ev.Release, ev.Timestamp)
		}
		if f := ev.Exceptions[0].Frames[0]; f.Filename != "http://b.test/app.js" {
			t.Errorf("frame points at %q", f.Filename)
		}
		fingerprints[event.Fingerprint(ev)] = true
	}
	if len(fingerprints) != 3 {
		t.Errorf("3 issues gave %d fingerprints", len(fingerprints))
	}
}

// TestLoadReportsAcceptedAndProcessed runs a small load against a real
// server and the no-op baseline: every event is answered 200, the server
// groups them into the asked number of issues with frames resolved through
// the served map, and the report counts what happened. Timings are only
// checked to exist.
func TestLoadReportsAcceptedAndProcessed(t *testing.T) {
	templates, bundleURL := servedTemplates(t)
	store := openStore(t, "phc_load")
	base := startServer(t, store)
	cfg := LoadConfig{URLs: []string{base}, Token: "phc_load", BundleURL: bundleURL, Concurrency: 4, BatchSize: 25,
		Events: 310, Issues: 7, Users: 5, Drain: true, DrainTimeout: time.Minute, Run: 1, PIDs: []int{os.Getpid()},
		InboxDepth: func(ctx context.Context) (int64, error) {
			n, err := store.CountInbox(ctx)
			return int64(n), err
		}}
	res, err := Load(context.Background(), cfg, templates)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 310 || res.Errors != 0 || res.Requests != 13 || res.ByStatus["200"] != 13 {
		t.Fatalf("load report: %+v", res)
	}
	if res.Sending <= 0 || res.Drained < res.Sending || res.P50 <= 0 || res.P99 < res.P50 || res.ProcessedPerSecond() <= 0 {
		t.Errorf("load report lacks timings: %+v", res)
	}
	if len(res.RSS) != 1 || res.RSS[0].IdleKB <= 0 || res.RSS[0].PeakKB < res.RSS[0].IdleKB {
		t.Errorf("the server's (this process's) memory: %+v", res.RSS)
	}
	page, err := store.ListIssues(context.Background(), db.IssueQuery{ProjectID: 1, Status: "all", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var events int64
	for _, is := range page.Issues {
		events += is.Occurrences
	}
	if page.Total != 7 || events != 310 {
		t.Errorf("server holds %d issues with %d events, want 7 with 310", page.Total, events)
	}
	sets, _, err := store.ListSymbolSets(context.Background(), db.SymbolSetQuery{ProjectID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 1 || sets[0].Frames == 0 {
		t.Errorf("symbol sets after the load: %+v", sets)
	}

	noop := NewNoop()
	noopSrv := httptest.NewServer(noop)
	defer noopSrv.Close()
	cfg.URLs, cfg.Gzip, cfg.InboxDepth, cfg.PIDs = []string{noopSrv.URL}, true, nil, nil
	res, err = Load(context.Background(), cfg, templates)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 310 || res.Errors != 0 || noop.Events() != 310 || res.Drained == 0 {
		t.Errorf("no-op run: %+v, decoded %d events", res, noop.Events())
	}
}

// TestLoadPacesARate: with Rate the load is offered steadily, so sending
// takes at least as long as the rate allows, and the inbox's depth is
// sampled meanwhile.
func TestLoadPacesARate(t *testing.T) {
	templates, bundleURL := servedTemplates(t)
	store := openStore(t, "phc_rate")
	base := startServer(t, store)
	const events, batch, rate = 200, 20, 400.0
	res, err := Load(context.Background(), LoadConfig{URLs: []string{base}, Token: "phc_rate", BundleURL: bundleURL,
		Concurrency: 4, BatchSize: batch, Events: events, Rate: rate, Issues: 3, Users: 3, Drain: true, DrainTimeout: time.Minute, Run: 3}, templates)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != events || res.Errors != 0 {
		t.Fatalf("paced load: %+v", res)
	}
	// The last batch starts (events-batch)/rate seconds after the first.
	if least := time.Duration(float64(events-batch) / rate * float64(time.Second)); res.Sending < least {
		t.Errorf("sent %d events in %s, faster than %.0f events/s allows (%s)", events, res.Sending, rate, least)
	}
	if res.MaxInboxDepth < 0 || res.MaxInboxDepth > events {
		t.Errorf("inbox depth sampled as %d of %d events", res.MaxInboxDepth, events)
	}
}

// TestLoadSpreadsAcrossServers sends one load to two servers, each on a
// database of its own, so what each stored shows where the batches went:
// every batch to one of them in turn, and the drain waits for both inboxes.
func TestLoadSpreadsAcrossServers(t *testing.T) {
	templates, bundleURL := servedTemplates(t)
	stores := []*db.DB{openStore(t, "phc_spread"), openStore(t, "phc_spread")}
	urls := []string{startServer(t, stores[0]), startServer(t, stores[1])}
	res, err := Load(context.Background(), LoadConfig{URLs: urls, Token: "phc_spread", BundleURL: bundleURL,
		Concurrency: 3, BatchSize: 10, Events: 130, Issues: 5, Users: 5, Drain: true, DrainTimeout: time.Minute, Run: 2}, templates)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 130 || res.Errors != 0 || len(res.ByURL) != 2 || res.ByURL[0] != 7 || res.ByURL[1] != 6 {
		t.Fatalf("load across two servers: %+v", res)
	}
	for i, store := range stores {
		n, err := store.CountInbox(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		page, err := store.ListIssues(context.Background(), db.IssueQuery{ProjectID: 1, Status: "all", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var events int64
		for _, is := range page.Issues {
			events += is.Occurrences
		}
		if want := res.ByURL[i] * 10; events != want || n != 0 {
			t.Errorf("server %d stored %d events (%d still in its inbox) from %d batches, want %d", i, events, n, res.ByURL[i], want)
		}
	}
}

func TestLoadCountsRefusals(t *testing.T) {
	templates, err := LoadTemplates(testkit.Fixtures(t))
	if err != nil {
		t.Fatal(err)
	}
	base := startServer(t, openStore(t, "phc_right"))
	res, err := Load(context.Background(), LoadConfig{URLs: []string{base}, Token: "phc_wrong", BundleURL: "http://b.test/app.js",
		Concurrency: 2, BatchSize: 5, Events: 20, Issues: 2}, templates)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 0 || res.Errors != 4 || res.ByStatus["401"] != 4 {
		t.Errorf("load with an unknown token: %+v", res)
	}
}

// TestFillThenPages fills a small database and times the pages on it.
func TestFillThenPages(t *testing.T) {
	fixtures := testkit.Fixtures(t)
	templates, err := LoadTemplates(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store := openStore(t, "phc_fill")
	res, err := Fill(ctx, store, FillConfig{ProjectID: 1, Events: 450, Issues: 20, SymbolSets: 3, Users: 30, Releases: 4,
		BatchSize: 100, Bundle: filepath.Join(fixtures, "bundles", "posthog-browser"), Run: 1}, templates)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 450 || res.Issues != 20 || res.SymbolSets != 3 {
		t.Fatalf("fill: %+v", res)
	}
	page, err := store.ListIssues(ctx, db.IssueQuery{ProjectID: 1, Status: "all", Sort: db.SortOccurrences, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 20 || page.Issues[0].Occurrences <= page.Issues[19].Occurrences || page.Issues[0].UsersAffected == 0 {
		t.Errorf("filled issues are not skewed or have no users: total %d, first %+v", page.Total, page.Issues[0])
	}
	sets, _, err := store.ListSymbolSets(ctx, db.SymbolSetQuery{ProjectID: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		if s.Frames == 0 || s.Issues == 0 {
			t.Errorf("symbol set %s resolves nothing: %+v", s.Ref, s)
		}
	}
	if len(sets) != 3 {
		t.Errorf("%d symbol sets, want 3", len(sets))
	}
	if n := framesAnswered(t, store, func(r event.Resolution) bool { return r.Resolved }); n == 0 || n != framesAnswered(t, store, nil) {
		t.Errorf("%d frames resolved of %d, want all", n, framesAnswered(t, store, nil))
	}

	hash, err := handlers.HashPassword("bench-password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateFirstAdmin(ctx, "bench@example.com", hash); err != nil {
		t.Fatal(err)
	}
	timings, err := Pages(ctx, PagesConfig{URL: startServer(t, store), Email: "bench@example.com", Password: "bench-password", Loads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(timings) != 5 {
		t.Fatalf("%d page timings, want 5", len(timings))
	}
	for _, p := range timings {
		if p.Loads != 2 || p.P50 <= 0 || p.Bytes == 0 {
			t.Errorf("page timing %+v", p)
		}
	}
	if _, err := Pages(ctx, PagesConfig{URL: startServer(t, store), Email: "bench@example.com", Password: "wrong", Loads: 1}); err == nil {
		t.Error("pages signed in with a wrong password")
	}
}

// framesAnswered counts the recorded frame answers of project 1's symbol
// sets that match (all of them for nil).
func framesAnswered(t *testing.T, store *db.DB, match func(event.Resolution) bool) int {
	t.Helper()
	ctx := context.Background()
	sets, _, err := store.ListSymbolSets(ctx, db.SymbolSetQuery{ProjectID: 1})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range sets {
		if !s.Stored {
			t.Errorf("symbol set %s is not stored", s.Ref)
		}
		frames, err := store.FramesOfSymbolSet(ctx, 1, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, f := range frames {
			ids = append(ids, f.RawID)
		}
		answers, err := store.FrameResolutions(ctx, 1, ids)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range answers {
			if match == nil || match(r) {
				n++
			}
		}
	}
	return n
}

// TestFillLeavesFramesPending: with PendingFrames every frame is recorded
// as waiting on its symbol set's fetch, though every set is stored, as a
// server stopped between a fetch and resolving its frames again leaves them.
func TestFillLeavesFramesPending(t *testing.T) {
	fixtures := testkit.Fixtures(t)
	templates, err := LoadTemplates(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	store := openStore(t, "phc_fill")
	res, err := Fill(context.Background(), store, FillConfig{ProjectID: 1, Events: 60, Issues: 6, SymbolSets: 2, BatchSize: 25,
		Bundle: filepath.Join(fixtures, "bundles", "posthog-browser"), PendingFrames: true, Run: 1}, templates)
	if err != nil || res.Events != 60 {
		t.Fatalf("fill: %+v %v", res, err)
	}
	pending := framesAnswered(t, store, func(r event.Resolution) bool { return r.FailureCode == symbols.FailureFetchPending })
	if all := framesAnswered(t, store, nil); pending == 0 || pending != all {
		t.Errorf("%d frames pending of %d, want all", pending, all)
	}
}

// BenchmarkEndToEnd runs the load generator against an in-process server
// (so -cpuprofile sees both): b.N events over 1,000 issues, 32 clients,
// batches of 50, until the inbox is empty.
func BenchmarkEndToEnd(b *testing.B) {
	templates, bundleURL := servedTemplates(b)
	store := teststore.Open(b)
	if _, err := store.EnsureDefaultProject(context.Background(), "phc_e2e", ""); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	fetch := symbols.DefaultFetchConfig()
	fetch.AllowPrivate = true
	resolver := symbols.NewResolver(store, symbols.ResolverConfig{Fetch: fetch})
	worker := pipeline.New(store, resolver, log)
	srv := web.New(store, worker, resolver, handlers.Options{MaxBodyBytes: 20 << 20, EventLimits: event.DefaultLimits()}, log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	b.ResetTimer()
	res, err := Load(context.Background(), LoadConfig{URLs: []string{"http://" + ln.Addr().String()}, Token: "phc_e2e", BundleURL: bundleURL,
		Concurrency: 32, BatchSize: 50, Events: int64(b.N), Issues: 1000, Users: 1000, Drain: true, Run: 1}, templates)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(res.AcceptedPerSecond(), "accepted-events/s")
	b.ReportMetric(res.ProcessedPerSecond(), "processed-events/s")
	cancel()
	<-done
}

// BenchmarkDrain measures the worker alone, as it drains a backlog: b.N
// generated events over 1,000 issues (as BenchmarkEndToEnd sends them) are
// put in the inbox first, then the worker parses, resolves (the map fetched
// once from the served bundle), groups and stores them until the inbox is
// empty. Without capture and the load generator on the same two cores, it
// varies less from run to run than BenchmarkEndToEnd.
func BenchmarkDrain(b *testing.B) {
	templates, bundleURL := servedTemplates(b)
	store := teststore.Open(b)
	project, err := store.EnsureDefaultProject(context.Background(), "phc_drain", "")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inbox := store.NewInboxWriter(db.InboxLimits{})
	go inbox.Run(ctx)
	now := time.Now()
	rows := make([]db.InboxRow, 0, 500)
	for n := range int64(b.N) {
		issue := int(n % 1000)
		payload := templates[issue%len(templates)].Append(nil, Event{UUID: UUID(1, n), Issue: issue, User: int(n % 997),
			BundleURL: bundleURL, Timestamp: now, Token: "phc_drain"})
		rows = append(rows, db.InboxRow{ProjectID: project.ID, Format: "posthog", ReceivedAt: now, Payload: payload, UUID: UUID(1, n)})
		if len(rows) == cap(rows) || n == int64(b.N)-1 {
			if err := inbox.Append(ctx, rows); err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
	}
	fetch := symbols.DefaultFetchConfig()
	fetch.AllowPrivate = true
	resolver := symbols.NewResolver(store, symbols.ResolverConfig{Fetch: fetch})
	worker := pipeline.New(store, resolver, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.ResetTimer()
	go worker.Run(ctx)
	for {
		left, err := store.CountInbox(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if left == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "processed-events/s")
}
