package pipeline

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/internal/testkit"
	"github.com/stacklens/stacklens/internal/teststore"
	"github.com/stacklens/stacklens/symbols"
)

// recordedBrowserEvents returns the posthog-js manual-capture events as the
// SDK sent them, with the bundle URL replaced by bundleURL.
func recordedBrowserEvents(t testing.TB, bundleURL string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testkit.Fixtures(t), "sdk", "posthog-js", "full-config.manual.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Requests []struct {
			Path          string            `json:"path"`
			Headers       map[string]string `json:"headers"`
			RawBodyBase64 string            `json:"rawBodyBase64"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	last := rec.Requests[len(rec.Requests)-1]
	body, _ := base64.StdEncoding.DecodeString(last.RawBodyBase64)
	raws, err := event.DecodePostHog(event.CaptureInput{Method: "POST", ContentType: last.Headers["content-type"], Body: body},
		event.DefaultLimits(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, r := range raws {
		out = append(out, []byte(strings.ReplaceAll(string(r.JSON), "http://127.0.0.1:8790/app.js", bundleURL)))
	}
	return out
}

type harness struct {
	store  *db.DB
	worker *Worker
	loc    teststore.Location
}

func newHarness(t testing.TB, allowPrivate bool) harness {
	t.Helper()
	return newHarnessAt(t, teststore.New(t), allowPrivate)
}

// newHarnessAt is newHarness on the database at loc.
func newHarnessAt(t testing.TB, loc teststore.Location, allowPrivate bool) harness {
	t.Helper()
	ctx := context.Background()
	store := loc.Open(t)
	if _, err := store.EnsureDefaultProject(ctx, "phc_x", ""); err != nil {
		t.Fatal(err)
	}
	cfg := symbols.DefaultFetchConfig()
	cfg.AllowPrivate = allowPrivate
	cfg.TotalTimeout = 2 * time.Second
	resolver := symbols.NewResolver(store, symbols.ResolverConfig{Fetch: cfg})
	worker := New(store, resolver, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// Tests that look at frames right after ingest wait for every fetch the
	// batch started (local ones end in milliseconds, failures within
	// TotalTimeout), so a loaded machine cannot leave a frame pending.
	worker.fetchWait = cfg.TotalTimeout + time.Second
	return harness{store: store, loc: loc, worker: worker}
}

// ingest puts payloads in the inbox as capture would and runs the worker once.
func (h harness) ingest(t *testing.T, payloads [][]byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := h.store.NewInboxWriter(db.InboxLimits{})
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	var rows []db.InboxRow
	for _, p := range payloads {
		rows = append(rows, db.InboxRow{ProjectID: 1, Format: "posthog", ReceivedAt: time.Now(), Payload: p})
	}
	if err := w.Append(ctx, rows); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	if _, err := h.worker.ProcessBatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := h.store.CountInbox(context.Background()); n != 0 {
		t.Fatalf("%d inbox rows left", n)
	}
}

// crashFrames returns the stored frames of the "boom manual" event, crash site last.
func (h harness) crashFrames(t *testing.T) []event.Frame {
	t.Helper()
	page, err := h.store.ListIssues(context.Background(), db.IssueQuery{ProjectID: 1, Status: "all"})
	if err != nil {
		t.Fatal(err)
	}
	for _, is := range page.Issues {
		if is.Description != "boom manual" {
			continue
		}
		evs, err := h.store.IssueEvents(context.Background(), 1, is.ID, 1)
		if err != nil || len(evs) != 1 {
			t.Fatalf("events %v %v", evs, err)
		}
		var ev event.Event
		if err := json.Unmarshal(evs[0].Data, &ev); err != nil {
			t.Fatal(err)
		}
		return ev.Exceptions[0].Frames
	}
	t.Fatalf("no issue for the manual capture among %d", len(page.Issues))
	return nil
}

func TestPipelineResolvesFetchedBundle(t *testing.T) {
	bundle := filepath.Join(testkit.Fixtures(t), "bundles", "posthog-browser")
	srv := httptest.NewServer(http.FileServer(http.Dir(bundle)))
	defer srv.Close()
	h := newHarness(t, true)
	h.ingest(t, recordedBrowserEvents(t, srv.URL+"/app.js"))

	frames := h.crashFrames(t)
	want := []struct {
		name, source string
		line         int
	}{
		{"runManual", "src/app.js", 28}, {"level1", "src/orders.js", 40}, {"level2", "src/orders.js", 37}, {"level3", "src/orders.js", 34},
	}
	if len(frames) != len(want) {
		t.Fatalf("%d frames, want %d", len(frames), len(want))
	}
	for i, w := range want {
		r := frames[i].Resolution
		if r == nil || !r.Resolved || r.Name != w.name || !strings.HasSuffix(r.Source, w.source) || r.Line != w.line {
			t.Errorf("frame %d (%s): got %+v, want %s in %s:%d", i, frames[i].Function, r, w.name, w.source, w.line)
		}
	}
	set, err := h.store.SymbolSet(context.Background(), 1, srv.URL+"/app.js")
	if err != nil || !set.Stored || set.Origin != symbols.OriginFetched {
		t.Fatalf("symbol set %+v %v", set, err)
	}
}

func TestPipelineStoresFetchFailuresAndKeepsEvents(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/nomap.js", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "function a(){throw new Error('x')}") })
	mux.HandleFunc("/badmap.js", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "a()\n//# sourceMappingURL=badmap.js.map")
	})
	mux.HandleFunc("/badmap.js.map", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{not json") })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cases := []struct {
		path         string
		allowPrivate bool
		code         string
	}{
		{"/missing.js", true, symbols.FailureHTTPStatus},
		{"/nomap.js", true, symbols.FailureNoSourcemapURL},
		{"/badmap.js", true, symbols.FailureInvalidSourcemap},
		{"/missing.js", false, symbols.FailureBlockedAddress},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			h := newHarness(t, c.allowPrivate)
			h.ingest(t, recordedBrowserEvents(t, srv.URL+c.path))
			for _, f := range h.crashFrames(t) {
				if f.Resolution == nil || f.Resolution.Resolved || f.Resolution.FailureCode != c.code || f.Resolution.SymbolSetID == 0 {
					t.Errorf("frame %s: resolution %+v, want failure %s", f.Function, f.Resolution, c.code)
				}
			}
			set, err := h.store.SymbolSet(context.Background(), 1, srv.URL+c.path)
			if err != nil || set.Stored || set.Failure == nil || set.Failure.Code != c.code || set.Failure.Message == "" {
				t.Fatalf("symbol set %+v (%v), want missing with %s and a message", set, err, c.code)
			}
		})
	}
}

// An upload or a successful refetch must apply to events already stored:
// their frames resolve, and issues that only differed because their frames
// were minified (PostHog's rule keeps the message in the fingerprint only
// while no frame is resolved) are merged into one.
func TestResolvingAgainUpdatesOldEventsAndMergesIssues(t *testing.T) {
	bundle := filepath.Join(testkit.Fixtures(t), "bundles", "posthog-browser")
	var mapServed atomic.Bool
	files := http.FileServer(http.Dir(bundle))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".map") && !mapServed.Load() {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	h := newHarness(t, true)
	manual := recordedBrowserEvents(t, srv.URL+"/app.js")[0]
	variant := strings.Replace(strings.Replace(string(manual), `"boom manual"`, `"boom manual, second wording"`, 1),
		`"uuid":"`, `"uuid":"f`, 1)
	h.ingest(t, [][]byte{manual, []byte(variant)})

	ctx := context.Background()
	page, err := h.store.ListIssues(ctx, db.IssueQuery{ProjectID: 1, Status: "all"})
	if err != nil || page.Total != 2 {
		t.Fatalf("before the map: %d issues (%v), want 2 (messages differ, frames unresolved)", page.Total, err)
	}
	set, err := h.store.SymbolSet(ctx, 1, srv.URL+"/app.js")
	if err != nil || set.Stored || set.Failure.Code != symbols.FailureHTTPStatus {
		t.Fatalf("symbol set before the map: %+v %v", set, err)
	}

	mapServed.Store(true)
	if _, err := h.worker.symbols.(*symbols.Resolver).Refetch(ctx, 1, set.ID); err != nil {
		t.Fatal(err)
	}
	report, err := h.worker.ResolveSymbolSetAgain(ctx, 1, set.ID)
	if err != nil {
		t.Fatal(err)
	}
	if report.Frames != 4 || report.ResolvedFrames != 4 || report.Events != 2 || report.Merged != 1 || len(report.IssueIDs) != 1 {
		t.Fatalf("report %+v, want 4 frames resolved in 2 events, 1 merge into 1 issue", report)
	}
	page, err = h.store.ListIssues(ctx, db.IssueQuery{ProjectID: 1, Status: "all"})
	if err != nil || page.Total != 1 || page.Issues[0].Occurrences != 2 {
		t.Fatalf("after the map: %+v %v, want one issue with both events", page, err)
	}
	merges, err := h.store.IssueMerges(ctx, 1, page.Issues[0].ID)
	if err != nil || len(merges) != 1 {
		t.Fatalf("merges %+v %v", merges, err)
	}
	evs, err := h.store.IssueEvents(ctx, 1, page.Issues[0].ID, 10)
	if err != nil || len(evs) != 2 || evs[0].Fingerprint != evs[1].Fingerprint {
		t.Fatalf("events after regrouping: %+v %v", evs, err)
	}
	// The names resolved afterwards are searchable.
	found, err := h.store.ListIssues(ctx, db.IssueQuery{ProjectID: 1, Status: "all", Search: "level3 runManual"})
	if err != nil || found.Total != 1 {
		t.Fatalf("search for resolved names found %d issues (%v), want 1", found.Total, err)
	}
	// A new event of the same error lands in the surviving issue.
	third := strings.Replace(string(manual), `"uuid":"`, `"uuid":"e`, 1)
	h.ingest(t, [][]byte{[]byte(third)})
	page, _ = h.store.ListIssues(ctx, db.IssueQuery{ProjectID: 1, Status: "all"})
	if page.Total != 1 || page.Issues[0].Occurrences != 3 {
		t.Fatalf("new event after the merge: %+v", page)
	}
}
