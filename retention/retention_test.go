package retention

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/internal/teststore"
	"github.com/stacklens/stacklens/pipeline"
	"github.com/stacklens/stacklens/symbols"
)

// These tests run passes over a real SQLite file, wired as serve wires
// retention (the pipeline worker and the resolver, neither running), with
// transactions of 2 rows so that every loop takes several.

type fixture struct {
	t   *testing.T
	ctx context.Context
	d   *db.DB
	w   *pipeline.Worker
	r   *Runner
}

func newFixture(t *testing.T, defaults Policy) *fixture {
	t.Helper()
	ctx := context.Background()
	d := teststore.Open(t)
	if _, err := d.EnsureDefaultProject(ctx, "phc_retention", "phc_generated"); err != nil {
		t.Fatal(err)
	}
	resolver := symbols.NewResolver(d, symbols.ResolverConfig{})
	t.Cleanup(resolver.Close)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := pipeline.New(d, resolver, log)
	r := New(d, w, resolver, Config{Defaults: defaults, BatchSize: 2}, nil, log)
	return &fixture{t: t, ctx: ctx, d: d, w: w, r: r}
}

// store stores one event of the issue named fingerprint and returns the issue's id.
func (f *fixture) store(projectID int64, fingerprint, uuid string, at time.Time, frames ...event.Frame) int64 {
	f.t.Helper()
	got, err := f.d.StoreBatch(f.ctx, []db.NewEvent{{ProjectID: projectID, UUID: uuid, Fingerprint: fingerprint,
		IssueName: fingerprint, Timestamp: at, ReceivedAt: at, Data: []byte(`{}`), Raw: []byte(`{}`), ResolvedFrames: frames}}, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return got[0].IssueID
}

// uuids are the issue's stored events, newest first.
func (f *fixture) uuids(projectID, issueID int64) []string {
	f.t.Helper()
	evs, err := f.d.IssueEvents(f.ctx, projectID, issueID, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.UUID)
	}
	return out
}

func (f *fixture) run() Report {
	f.t.Helper()
	rep, err := f.r.RunOnce(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return rep
}

func (f *fixture) missingSet(ref string) int64 {
	f.t.Helper()
	s, err := f.d.InsertMissingSymbolSet(f.ctx, symbols.SymbolSet{ProjectID: 1, Ref: ref, Kind: symbols.RefChunkID,
		Failure: &symbols.Failure{Code: symbols.FailureNotUploaded, Message: "no map uploaded"}})
	if err != nil {
		f.t.Fatal(err)
	}
	return s.ID
}

func (f *fixture) setExists(id int64) bool {
	f.t.Helper()
	_, err := f.d.SymbolSetByID(f.ctx, 1, id)
	if errors.Is(err, symbols.ErrNoSymbolSet) {
		return false
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return true
}

// frameOf is a frame whose resolution names the symbol set id of ref.
func frameOf(rawID, ref string, id int64) event.Frame {
	return event.Frame{RawID: rawID, Filename: "https://app.example/" + ref + ".js", ChunkID: ref,
		Resolution: &event.Resolution{FailureCode: symbols.FailureNotUploaded, SymbolSetRef: ref, SymbolSetID: id}}
}

const days = 24 * time.Hour

func TestEventsOlderThanTheCutoffAreDeleted(t *testing.T) {
	f := newFixture(t, Policy{EventDays: 90})
	now := time.Now()
	var issue int64
	for _, e := range []struct {
		uuid string
		age  time.Duration
	}{{"100d", 100 * days}, {"1h", time.Hour}, {"91d", 91 * days}, {"89d", 89 * days}} {
		issue = f.store(1, "fp", e.uuid, now.Add(-e.age))
	}
	if rep := f.run(); rep.Events != 2 {
		t.Errorf("first pass deleted %d events, want the 2 older than 90 days", rep.Events)
	}
	if got := f.uuids(1, issue); !slices.Equal(got, []string{"1h", "89d"}) {
		t.Errorf("events kept: %v, want [1h 89d]", got)
	}
	if is, err := f.d.Issue(f.ctx, 1, issue); err != nil || is.Occurrences != 4 {
		t.Errorf("issue after the pass: %d occurrences, %v; want its count of 4 kept", is.Occurrences, err)
	}
	if rep := f.run(); rep.Events != 0 {
		t.Errorf("second pass deleted %d events, want 0", rep.Events)
	}
}

func TestPerIssueCapKeepsTheNewestEvents(t *testing.T) {
	f := newFixture(t, Policy{MaxEventsPerIssue: 3})
	now := time.Now()
	var busy, quiet int64
	// Stored out of time order: the cap goes by timestamp, not by id.
	for _, minutes := range []int{3, 5, 1, 4, 2} {
		busy = f.store(1, "busy", fmt.Sprintf("busy-%d", minutes), now.Add(-time.Duration(minutes)*time.Minute))
	}
	for _, uuid := range []string{"quiet-a", "quiet-b"} {
		quiet = f.store(1, "quiet", uuid, now.Add(-10*days))
	}
	if rep := f.run(); rep.Events != 2 {
		t.Errorf("pass deleted %d events, want the busy issue's 2 oldest", rep.Events)
	}
	if got := f.uuids(1, busy); !slices.Equal(got, []string{"busy-1", "busy-2", "busy-3"}) {
		t.Errorf("busy issue kept %v, want its 3 newest [busy-1 busy-2 busy-3]", got)
	}
	if got := f.uuids(1, quiet); len(got) != 2 {
		t.Errorf("issue under the cap kept %v, want both events", got)
	}
}

func TestSymbolSetsInUseAreKept(t *testing.T) {
	f := newFixture(t, Policy{EventDays: 90, SymbolSetDays: 30})
	now := time.Now()
	held := f.missingSet("held")           // a kept event's frame refers to it
	orphaned := f.missingSet("orphaned")   // only an event this pass deletes referred to it
	unused := f.missingSet("unused")       // nothing refers to it
	uploading := f.missingSet("uploading") // an upload is under way
	touched := f.missingSet("touched")     // a frame was resolved by it lately
	f.store(1, "fp", "recent", now.Add(-time.Hour), frameOf("raw-held", "held", held))
	f.store(1, "fp", "old", now.Add(-40*days), frameOf("raw-orphaned", "orphaned", orphaned))
	if err := f.d.InUploadTx(f.ctx, func(tx symbols.UploadTx) error {
		_, err := tx.CreatePendingUpload(f.ctx, 1, uploading, "", now.Add(time.Hour))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The pass runs 60 days from now: every set was last stored more than
	// 30 days before it, and events older than 30 days from now go.
	later := now.Add(60 * days)
	f.r.now = func() time.Time { return later }
	if err := f.d.TouchSymbolSet(f.ctx, touched, later.Add(-days)); err != nil {
		t.Fatal(err)
	}

	rep := f.run()
	if rep.Events != 1 || rep.FrameResolutions != 1 || rep.SymbolSets != 2 {
		t.Errorf("pass deleted %+v; want the old event, its frame's resolution, and 2 symbol sets", rep)
	}
	for _, c := range []struct {
		name string
		id   int64
		kept bool
	}{{"held by a kept event", held, true}, {"held only by a deleted event", orphaned, false}, {"unused", unused, false},
		{"with an upload under way", uploading, true}, {"used a day ago", touched, true}} {
		if got := f.setExists(c.id); got != c.kept {
			t.Errorf("symbol set %s: kept %v, want %v", c.name, got, c.kept)
		}
	}
}

func TestZeroKeepsForever(t *testing.T) {
	f := newFixture(t, Policy{})
	now := time.Now()
	var issue int64
	for i, age := range []time.Duration{3650 * days, 2000 * days, 400 * days, time.Hour} {
		issue = f.store(1, "fp", fmt.Sprintf("e%d", i), now.Add(-age))
	}
	set := f.missingSet("unused")
	f.r.now = func() time.Time { return now.Add(1000 * days) }
	if rep := f.run(); rep != (Report{}) {
		t.Errorf("pass with every limit 0 deleted %+v, want nothing", rep)
	}
	if got := f.uuids(1, issue); len(got) != 4 || !f.setExists(set) {
		t.Errorf("after the pass: events %v, symbol set kept %v; want all 4 events and the set", got, f.setExists(set))
	}
}

func TestProjectSettingsOverrideTheServerDefaults(t *testing.T) {
	f := newFixture(t, Policy{EventDays: 90})
	now := time.Now()
	short, err := f.d.CreateProject(f.ctx, "Short")
	if err != nil {
		t.Fatal(err)
	}
	forever, err := f.d.CreateProject(f.ctx, "Forever")
	if err != nil {
		t.Fatal(err)
	}
	ten, zero := int64(10), int64(0)
	for _, own := range []db.ProjectRetention{{ProjectID: short.ID, EventDays: &ten}, {ProjectID: forever.ID, EventDays: &zero}} {
		if err := f.d.SetProjectRetention(f.ctx, own); err != nil {
			t.Fatal(err)
		}
	}
	issues := map[int64]int64{}
	for _, p := range []int64{1, short.ID, forever.ID} {
		for _, age := range []int{100, 30, 5} {
			issues[p] = f.store(p, "fp", fmt.Sprintf("p%d-%dd", p, age), now.Add(-time.Duration(age)*days))
		}
	}
	if rep := f.run(); rep.Events != 3 {
		t.Errorf("pass deleted %d events, want 3 (1 by the default, 2 by the 10-day setting)", rep.Events)
	}
	for _, c := range []struct {
		name    string
		project int64
		want    int
	}{{"default 90 days", 1, 2}, {"own 10 days", short.ID, 1}, {"own 0: forever", forever.ID, 3}} {
		if got := f.uuids(c.project, issues[c.project]); len(got) != c.want {
			t.Errorf("project with %s kept %v, want %d events", c.name, got, c.want)
		}
	}
}

func TestFor(t *testing.T) {
	def := Policy{EventDays: 90, MaxEventsPerIssue: 10_000, SymbolSetDays: 180}
	zero, seven := int64(0), int64(7)
	for _, c := range []struct {
		own  db.ProjectRetention
		want Policy
	}{
		{db.ProjectRetention{}, def},
		{db.ProjectRetention{EventDays: &seven}, Policy{EventDays: 7, MaxEventsPerIssue: 10_000, SymbolSetDays: 180}},
		{db.ProjectRetention{MaxEventsPerIssue: &zero, SymbolSetDays: &seven}, Policy{EventDays: 90, MaxEventsPerIssue: 0, SymbolSetDays: 7}},
		{db.ProjectRetention{EventDays: &zero, MaxEventsPerIssue: &zero, SymbolSetDays: &zero}, Policy{}},
	} {
		if got := For(def, c.own); got != c.want {
			t.Errorf("For(%+v, %+v) = %+v, want %+v", def, c.own, got, c.want)
		}
	}
}

// reject has the pipeline set aside one undecodable event per letter for
// the project, in one batch, each failing with its own reason.
func (f *fixture) reject(projectID int64, letters string) {
	f.t.Helper()
	ctx, cancel := context.WithCancel(f.ctx)
	inbox := f.d.NewInboxWriter(db.InboxLimits{})
	done := make(chan struct{})
	go func() { inbox.Run(ctx); close(done) }()
	var rows []db.InboxRow
	for _, l := range letters {
		rows = append(rows, db.InboxRow{ProjectID: projectID, Format: "posthog", ReceivedAt: time.Now(),
			Payload: []byte(`{"event":"$exception",` + string(l) + `}`)})
	}
	err := inbox.Append(ctx, rows)
	cancel()
	<-done
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.w.ProcessBatch(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// rejected is the letters of the project's set-aside events, as the
// project settings page counts them.
func (f *fixture) rejected(projectID int64) string {
	f.t.Helper()
	reasons, err := f.d.RejectedInboxReasons(f.ctx, projectID, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	var letters []string
	for _, r := range reasons {
		_, after, ok := strings.Cut(r.Reason, "invalid character '")
		if !ok || r.Count != 1 {
			f.t.Fatalf("reason %q counted %d times: want one undecodable event per letter", r.Reason, r.Count)
		}
		letters = append(letters, after[:1])
	}
	slices.Sort(letters)
	return strings.Join(letters, "")
}

func TestRejectedInboxRowsAreBounded(t *testing.T) {
	f := newFixture(t, Policy{EventDays: 90})
	f.r.cfg.RejectedPerProject = 3
	other, err := f.d.CreateProject(f.ctx, "Other")
	if err != nil {
		t.Fatal(err)
	}
	forever := int64(0)
	if err := f.d.SetProjectRetention(f.ctx, db.ProjectRetention{ProjectID: other.ID, EventDays: &forever}); err != nil {
		t.Fatal(err)
	}
	f.reject(1, "abcde")
	f.reject(other.ID, "vw")
	f.reject(other.ID, "xyz")
	if rep := f.run(); rep.RejectedInbox != 4 {
		t.Errorf("pass deleted %d rejected rows, want 2 of each project's 5", rep.RejectedInbox)
	}
	if got := f.rejected(1); got != "cde" {
		t.Errorf("project 1 kept the rejected events %q, want its 3 newest \"cde\"", got)
	}
	if got := f.rejected(other.ID); got != "xyz" {
		t.Errorf("the other project kept the rejected events %q, want its 3 newest \"xyz\"", got)
	}
	if rep := f.run(); rep.RejectedInbox != 0 {
		t.Errorf("second pass deleted %d rejected rows, want 0", rep.RejectedInbox)
	}

	// 91 days on, project 1's rows are older than its events would be kept;
	// the other project keeps events forever, and its newest 3 rows.
	f.r.now = func() time.Time { return time.Now().Add(91 * days) }
	if rep := f.run(); rep.RejectedInbox != 3 {
		t.Errorf("pass 91 days on deleted %d rejected rows, want project 1's 3", rep.RejectedInbox)
	}
	if got := f.rejected(1); got != "" {
		t.Errorf("project 1 kept the rejected events %q after 91 days, want none", got)
	}
	if got := f.rejected(other.ID); got != "xyz" {
		t.Errorf("the other project kept the rejected events %q, want \"xyz\"", got)
	}
}
