package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/internal/testkit"
	"github.com/stacklens/stacklens/symbols"
)

// cancelOnRecord is a log handler that cancels a context when the worker
// logs message, and discards everything.
type cancelOnRecord struct {
	message string
	cancel  context.CancelFunc
}

func (h cancelOnRecord) Enabled(context.Context, slog.Level) bool { return true }
func (h cancelOnRecord) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.message {
		h.cancel()
	}
	return nil
}
func (h cancelOnRecord) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h cancelOnRecord) WithGroup(string) slog.Handler      { return h }

// storedFingerprints lists the distinct fingerprints of the stored events.
func storedFingerprints(t *testing.T, store *db.DB) []any {
	t.Helper()
	ctx := context.Background()
	page, err := store.ListIssues(ctx, db.IssueQuery{ProjectID: 1, Status: "all"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []any
	for _, is := range page.Issues {
		evs, err := store.IssueEvents(ctx, 1, is.ID, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if !seen[e.Fingerprint] {
				seen[e.Fingerprint] = true
				out = append(out, e.Fingerprint)
			}
		}
	}
	return out
}

// A server that stopped after a fetch ended but before it resolved the
// frames waiting on it leaves those frames pending, for every event that
// holds them (stacklens-bench fill does the same for a million events). The
// next start resolves them again and regroups the events a page at a time:
// stopped after the first page (as SIGTERM does), it leaves the frames
// pending, and the start after it regroups the rest.
func TestResolvingAgainAtStartGoesByPagesStopsAndResumes(t *testing.T) {
	bundle := filepath.Join(testkit.Fixtures(t), "bundles", "posthog-browser")
	files := http.FileServer(http.Dir(bundle))
	releaseMap := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".map") {
			<-releaseMap // the fetch stays under way while the events are stored
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	h := newHarness(t, true)
	ctx := context.Background()

	// Store 1,300 events (several frames each) while the map is being fetched.
	first := newWorker(t, h.store, 0)
	recorded := recordedBrowserEvents(t, srv.URL+"/app.js")
	const events = 1300
	inbox := h.store.NewInboxWriter(db.InboxLimits{})
	inboxCtx, stopInbox := context.WithCancel(ctx)
	inboxDone := make(chan struct{})
	go func() { inbox.Run(inboxCtx); close(inboxDone) }()
	var rows []db.InboxRow
	for i := range events {
		p := strings.Replace(string(recorded[i%len(recorded)]), `"uuid":"`, fmt.Sprintf(`"uuid":"%d-`, i), 1)
		rows = append(rows, db.InboxRow{ProjectID: 1, Format: FormatPostHog, ReceivedAt: time.Now(), Payload: []byte(p)})
	}
	if err := inbox.Append(ctx, rows); err != nil {
		t.Fatal(err)
	}
	stopInbox()
	<-inboxDone
	for {
		n, err := first.ProcessBatch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	close(releaseMap)
	<-first.symbols.FetchesEnded()
	set, err := h.store.SymbolSet(ctx, 1, srv.URL+"/app.js")
	if err != nil || !set.Stored {
		t.Fatalf("symbol set after its fetch: %+v %v", set, err)
	}
	frames, err := h.store.FramesOfSymbolSet(ctx, 1, set.ID)
	if err != nil || len(frames) < 4 {
		t.Fatalf("frames of the set: %d (%v)", len(frames), err)
	}
	pendingFrames := func() int {
		var ids []string
		for _, f := range frames {
			ids = append(ids, f.RawID)
		}
		answers, err := h.store.FrameResolutions(ctx, 1, ids)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range answers {
			if r.FailureCode == symbols.FailureFetchPending {
				n++
			}
		}
		return n
	}
	if n := pendingFrames(); n != len(frames) {
		t.Fatalf("%d of %d frames pending before the restart", n, len(frames))
	}
	before := storedFingerprints(t, h.store)
	withBefore := func() int64 {
		return h.loc.Count(t, "SELECT count(*) FROM events WHERE fingerprint IN (?"+strings.Repeat(", ?", len(before)-1)+")", before...)
	}
	if n := withBefore(); n != events {
		t.Fatalf("%d events stored, want %d", n, events)
	}

	// A restart, stopped once the first page of events is regrouped.
	runCtx, stop := context.WithCancel(ctx)
	second := newWorker(t, h.store, 0)
	second.log = slog.New(cancelOnRecord{message: "events regrouped after resolving frames again", cancel: stop})
	ran := make(chan struct{})
	go func() { second.Run(runCtx); close(ran) }()
	<-ran
	if n := events - withBefore(); n != regroupPage {
		t.Errorf("%d events regrouped before the stop, want the first page of %d", n, regroupPage)
	}
	if n := pendingFrames(); n != len(frames) {
		t.Errorf("%d of %d frames still pending after the stop, want all: the next start resolves them again", n, len(frames))
	}

	// The start after it regroups every event and records the answers.
	third := newWorker(t, h.store, 0)
	if err := third.symbols.ResumeFetches(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := third.ProcessBatch(ctx); err != nil {
		t.Fatal(err)
	}
	after := storedFingerprints(t, h.store)
	if n := events - withBefore(); n != events {
		t.Errorf("%d of %d events regrouped after the second start", n, events)
	}
	if n := pendingFrames(); n != 0 {
		t.Errorf("%d frames still pending after the second start", n)
	}
	// Resolving again now reads every event once, across pages and frames, and changes nothing.
	report, err := third.ResolveSymbolSetAgain(ctx, 1, set.ID)
	if err != nil {
		t.Fatal(err)
	}
	if report.Events != events || report.Regrouped != 0 || report.Frames != len(frames) || report.ResolvedFrames != len(frames) {
		t.Errorf("report %+v, want %d events read once each and none regrouped", report, events)
	}
	if n := h.loc.Count(t, "SELECT count(*) FROM events WHERE fingerprint IN (?"+strings.Repeat(", ?", len(after)-1)+")", after...); n != events {
		t.Errorf("%d of %d events keep their fingerprint after resolving again with nothing new", n, events)
	}
}
