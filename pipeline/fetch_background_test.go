package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/internal/testkit"
	"github.com/stacklens/stacklens/symbols"
)

// newWorker makes a worker with its own resolver over an existing store, as
// a restarted process would, and closes the resolver at the end of the test.
func newWorker(t *testing.T, store *db.DB, newRefsPerHour int) *Worker {
	t.Helper()
	cfg := symbols.DefaultFetchConfig()
	cfg.AllowPrivate = true
	resolver := symbols.NewResolver(store, symbols.ResolverConfig{Fetch: cfg, NewRefsPerHour: newRefsPerHour})
	t.Cleanup(resolver.Close)
	w := New(store, resolver, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.fetchWait = 50 * time.Millisecond
	return w
}

// storedCrashFrames returns the crash-site frame of every stored event's
// first exception, keyed by the event's uuid.
func storedCrashFrames(t *testing.T, store *db.DB) map[string]event.Frame {
	t.Helper()
	ctx := context.Background()
	page, err := store.ListIssues(ctx, db.IssueQuery{ProjectID: 1, Status: "all"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]event.Frame{}
	for _, is := range page.Issues {
		evs, err := store.IssueEvents(ctx, 1, is.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, se := range evs {
			var ev event.Event
			if err := json.Unmarshal(se.Data, &ev); err != nil {
				t.Fatal(err)
			}
			if err := store.ApplyCurrentResolutions(ctx, 1, &ev); err != nil {
				t.Fatal(err)
			}
			frames := ev.Exceptions[0].Frames
			out[se.UUID] = frames[len(frames)-1]
		}
	}
	return out
}

func issueCount(t *testing.T, store *db.DB) int {
	t.Helper()
	page, err := store.ListIssues(context.Background(), db.IssueQuery{ProjectID: 1, Status: "all"})
	if err != nil {
		t.Fatal(err)
	}
	return page.Total
}

// waitUntil polls cond, running the worker's post-fetch step between polls,
// until it holds or a generous deadline passes.
func waitUntil(t *testing.T, w *Worker, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for uuid, f := range storedCrashFrames(t, w.db.(*db.DB)) {
				t.Logf("event %s: crash frame %s resolution %+v", uuid, f.Filename, f.Resolution)
			}
			t.Fatalf("gave up waiting for %s", what)
		}
		if _, err := w.ProcessBatch(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A process that stops while a fetch is under way leaves its symbol set
// pending; the next process fetches it again and resolves the frames that
// waited, so no event keeps "being resolved" for ever.
func TestPendingFetchResumesAfterRestart(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	files := http.FileServer(http.Dir(filepath.Join(testkit.Fixtures(t), "bundles", "posthog-browser")))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer once.Do(func() { close(release) })

	h := newHarness(t, true)
	h.worker.fetchWait = 50 * time.Millisecond
	h.ingest(t, recordedBrowserEvents(t, srv.URL+"/app.js"))
	for uuid, f := range storedCrashFrames(t, h.store) {
		if f.Resolution == nil || f.Resolution.FailureCode != symbols.FailureFetchPending || f.Resolution.SymbolSetID == 0 {
			t.Fatalf("event %s stored with crash frame %+v, want it pending on its symbol set", uuid, f.Resolution)
		}
	}
	h.worker.symbols.(*symbols.Resolver).Close() // the process stops with the fetch under way
	set, err := h.store.SymbolSet(context.Background(), 1, srv.URL+"/app.js")
	if err != nil || set.Failure == nil || set.Failure.Code != symbols.FailureFetchPending {
		t.Fatalf("symbol set after the stop: %+v %v, want still pending", set, err)
	}

	once.Do(func() { close(release) })
	next := newWorker(t, h.store, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { next.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resolved := 0
		frames := storedCrashFrames(t, h.store)
		for _, f := range frames {
			if f.Resolution != nil && f.Resolution.Resolved {
				resolved++
			}
		}
		if resolved == len(frames) && resolved > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart %d of %d crash frames resolved", resolved, len(frames))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Frames deferred by the hourly cap on new refs have no symbol set; when the
// cap allows again (here: the operator raised it), the retry fetches them,
// resolves them and merges the issues they were split into.
func TestRateLimitedFramesAreRetried(t *testing.T) {
	bundle := filepath.Join(testkit.Fixtures(t), "bundles", "posthog-browser")
	srv := httptest.NewServer(http.FileServer(http.Dir(bundle)))
	defer srv.Close()
	ctx := context.Background()
	h := newHarness(t, true)
	first := newWorker(t, h.store, 1)
	h.worker = first

	payloads := recordedBrowserEvents(t, srv.URL+"/app.js?build=1")
	for _, p := range recordedBrowserEvents(t, srv.URL+"/app.js?build=2") {
		payloads = append(payloads, []byte(strings.Replace(string(p), `"uuid":"`, `"uuid":"f`, 1)))
	}
	h.ingest(t, payloads)
	waitUntil(t, first, "build 1's frames resolved", func() bool {
		for _, f := range storedCrashFrames(t, h.store) {
			if strings.Contains(f.Filename, "build=1") && (f.Resolution == nil || !f.Resolution.Resolved) {
				return false
			}
		}
		return true
	})
	if _, err := h.store.SymbolSet(ctx, 1, srv.URL+"/app.js?build=2"); !errors.Is(err, symbols.ErrNoSymbolSet) {
		t.Fatalf("build 2 past the cap of 1: symbol set lookup %v, want none stored", err)
	}
	limited := 0
	for _, f := range storedCrashFrames(t, h.store) {
		if f.Resolution != nil && f.Resolution.FailureCode == symbols.FailureFetchRateLimited {
			limited++
		}
	}
	if limited != 2 {
		t.Fatalf("%d crash frames rate-limited, want build 2's 2", limited)
	}
	split := issueCount(t, h.store)

	raised := newWorker(t, h.store, 10)
	if err := raised.RetryRateLimitedFrames(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, raised, "every crash frame resolved", func() bool {
		for _, f := range storedCrashFrames(t, h.store) {
			if f.Resolution == nil || !f.Resolution.Resolved {
				return false
			}
		}
		return true
	})
	if merged := issueCount(t, h.store); merged != split-2 {
		t.Fatalf("%d issues after the retry, want %d: build 2's events join build 1's issues", merged, split-2)
	}
}

// A process that stops after a fetch was stored but before the frames that
// waited on it were resolved again leaves those frames pending; the next
// process resolves them at start.
func TestFramesLeftPendingAfterAStoredFetchAreResolvedAtStart(t *testing.T) {
	release := make(chan struct{})
	files := http.FileServer(http.Dir(filepath.Join(testkit.Fixtures(t), "bundles", "posthog-browser")))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()

	h := newHarness(t, true)
	h.worker.fetchWait = 50 * time.Millisecond
	h.ingest(t, recordedBrowserEvents(t, srv.URL+"/app.js"))
	close(release)
	ctx := context.Background()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		set, err := h.store.SymbolSet(ctx, 1, srv.URL+"/app.js")
		if err == nil && set.Stored {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fetch was not stored: %+v %v", set, err)
		}
	}
	// The process stops here, before its worker resolved the frames again.
	h.worker.symbols.(*symbols.Resolver).Close()
	for uuid, f := range storedCrashFrames(t, h.store) {
		if f.Resolution == nil || f.Resolution.FailureCode != symbols.FailureFetchPending {
			t.Fatalf("event %s: crash frame %+v, want still pending for this test to mean anything", uuid, f.Resolution)
		}
	}

	next := newWorker(t, h.store, 0)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { next.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resolved, frames := 0, storedCrashFrames(t, h.store)
		for _, f := range frames {
			if f.Resolution != nil && f.Resolution.Resolved {
				resolved++
			}
		}
		if resolved == len(frames) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart %d of %d crash frames resolved", resolved, len(frames))
		}
	}
}
