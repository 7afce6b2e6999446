package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// Retention is off by default in these tests (0 = keep forever) so that
// nothing is deleted before the settings page asks for it.
var retentionOff = []string{"STACKLENS_RETENTION_INTERVAL=300ms", "STACKLENS_RETENTION_DAYS=0",
	"STACKLENS_RETENTION_MAX_EVENTS_PER_ISSUE=0", "STACKLENS_SYMBOL_SET_RETENTION_DAYS=0"}

// exceptionAt is newException with the given timestamp.
func exceptionAt(typ string, at time.Time) captureEvent {
	ev := newException(typ, "retention test")
	ev.Timestamp = at.UTC().Format(time.RFC3339Nano)
	return ev
}

// withChunkFrame gives ev one browser frame with a chunk id (no map is
// uploaded for it, so the worker records a symbol set that says so).
func withChunkFrame(ev captureEvent, chunk string) captureEvent {
	ev.Properties["$exception_list"].([]any)[0].(map[string]any)["stacktrace"] = map[string]any{"type": "raw", "frames": []any{
		map[string]any{"platform": "web:javascript", "filename": "https://app.example/" + chunk + ".js", "chunk_id": chunk,
			"function": "x", "lineno": 1, "colno": 5, "in_app": true}}}
	return ev
}

// setRetention saves the retention fields on project 1's settings page.
func setRetention(t *testing.T, b *browser, fields map[string]string) {
	t.Helper()
	f, ok := findForm(t, b.get(t, "/settings/project?project=1").Body, func(f form) bool { return f.has("retention_days") })
	if !ok {
		t.Fatalf("no form with retention fields on the project settings page")
	}
	for k, v := range fields {
		f.Fields.Set(k, v)
	}
	if got := b.postForm(t, f.Action, f.Fields); got.Status != http.StatusSeeOther {
		t.Fatalf("save retention: status %d: %s", got.Status, truncate(pageText(t, got.Body), 500))
	}
}

func issueByName(t *testing.T, a *api, name string) apiIssue {
	t.Helper()
	issues, err := a.issues(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range issues {
		if i.Name == name {
			return i
		}
	}
	t.Fatalf("no issue named %s among %s", name, describeIssues(issues))
	return apiIssue{}
}

func symbolSetRefs(t *testing.T, s *server) []string {
	t.Helper()
	status, body := rawCall(t, http.MethodGet, symbolSetsAPI(s)+"/?status=all&limit=100", nil)
	if status != http.StatusOK {
		t.Fatalf("list symbol sets: %d %s", status, body)
	}
	var page struct {
		Results []apiSymbolSet `json:"results"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, r := range page.Results {
		refs = append(refs, r.Ref)
	}
	sort.Strings(refs)
	return refs
}

// TestRetentionFromSettings fills a project with old and new events, sets
// retention on the settings page and waits for the background pass: old
// events are gone, an issue keeps only its newest events, counts stay, the
// frames and symbol sets only deleted events used are gone, the ones a
// kept event uses stay.
func TestRetentionFromSettings(t *testing.T) {
	s := startServer(t, serverOptions{Env: retentionOff})
	b := newBrowser(t, s)
	b.login(t)
	a := newAPI(s)
	now := time.Now()
	old := now.Add(-200 * 24 * time.Hour)

	var events []captureEvent
	for i := range 6 {
		events = append(events, exceptionAt("OldError", old.Add(time.Duration(i)*time.Minute)))
	}
	for i := range 2 {
		events = append(events, exceptionAt("OldError", now.Add(-time.Duration(i+1)*time.Minute)))
	}
	var busy []captureEvent
	for i := range 12 { // the first is the oldest
		busy = append(busy, exceptionAt("BusyError", now.Add(-time.Duration(13-i)*time.Minute)))
	}
	events = append(events, busy...)
	events = append(events, withChunkFrame(exceptionAt("MinifiedOldError", old), "chunk-only-old"),
		withChunkFrame(exceptionAt("MinifiedKeptError", old), "chunk-kept"),
		withChunkFrame(exceptionAt("MinifiedKeptError", now.Add(-time.Minute)), "chunk-kept"))
	postException(t, s, s.Token, events...)
	waitForTotal(t, a, len(events))
	if got := symbolSetRefs(t, s); strings.Join(got, ",") != "chunk-kept,chunk-only-old" {
		t.Fatalf("symbol sets before retention: %v", got)
	}

	// Nothing used either symbol set for 200 days, as far as the database says.
	store := s.database()
	if n := store.Exec(t, "UPDATE symbol_sets SET updated_at = ?, created_at = ?, last_used_at = NULL", old.UnixMilli(), old.UnixMilli()); n != 2 {
		t.Fatalf("test setup: aged %d symbol sets, want 2", n)
	}
	rawOnlyOld := store.Count(t, `SELECT count(*) FROM frame_resolutions fr JOIN symbol_sets s ON s.id = fr.symbol_set_id WHERE s.ref = 'chunk-only-old'`)
	if rawOnlyOld != 1 {
		t.Fatalf("test setup: %d frame resolutions use chunk-only-old, want 1", rawOnlyOld)
	}
	before := metricsOf(t, s, nil)

	// A wrong value is refused and changes nothing.
	f, _ := findForm(t, b.get(t, "/settings/project?project=1").Body, func(f form) bool { return f.has("retention_days") })
	f.Fields.Set("retention_days", "-3")
	if got := b.postForm(t, f.Action, f.Fields); got.Status != http.StatusBadRequest || !strings.Contains(pageText(t, got.Body), "whole number") {
		t.Fatalf("retention_days=-3: status %d, want 400 with a sentence", got.Status)
	}
	setRetention(t, b, map[string]string{"retention_days": "30", "retention_max_events": "5", "symbol_set_retention_days": "30"})
	again, _ := findForm(t, b.get(t, "/settings/project?project=1").Body, func(f form) bool { return f.has("retention_days") })
	if again.Fields.Get("retention_days") != "30" || again.Fields.Get("retention_max_events") != "5" || again.Fields.Get("symbol_set_retention_days") != "30" {
		t.Fatalf("settings page shows %v after saving 30/5/30", again.Fields)
	}

	// 6 old OldError, 7 BusyError over the cap of 5, 1 MinifiedOldError, 1 old MinifiedKeptError.
	const wantDeleted = 6 + 7 + 1 + 1
	var after map[string]float64
	waitFor(t, "retention to delete 15 events and a symbol set", func(context.Context) (bool, string, error) {
		m := metricsOf(t, s, nil)
		after = map[string]float64{"events": m.Sum("stacklens_retention_deleted_total", `kind="events"`),
			"symbol_sets":       m.Sum("stacklens_retention_deleted_total", `kind="symbol_sets"`),
			"frame_resolutions": m.Sum("stacklens_retention_deleted_total", `kind="frame_resolutions"`)}
		return after["events"] == wantDeleted && after["symbol_sets"] == 1, fmt.Sprint(after), nil
	})
	if before.Sum("stacklens_retention_deleted_total") != 0 {
		t.Errorf("retention deleted rows before it was set: %v", before.Sum("stacklens_retention_deleted_total"))
	}
	if after["frame_resolutions"] != 1 {
		t.Errorf("%v frame resolutions deleted, want 1 (the frame only the old MinifiedOldError held)", after["frame_resolutions"])
	}

	// Counts stay; only the kept events are listed.
	for name, want := range map[string]struct{ occurrences, events int }{
		"OldError": {8, 2}, "BusyError": {12, 5}, "MinifiedOldError": {1, 0}, "MinifiedKeptError": {2, 1},
	} {
		issue := issueByName(t, a, name)
		if issue.Occurrences != want.occurrences {
			t.Errorf("%s: occurrences %d after retention, want %d", name, issue.Occurrences, want.occurrences)
		}
		kept, err := a.events(t.Context(), issue.ID.String(), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(kept) != want.events {
			t.Errorf("%s: %d events kept, want %d", name, len(kept), want.events)
		}
		if name == "BusyError" {
			var got []string
			for _, e := range kept {
				got = append(got, e.UUID)
			}
			sort.Strings(got)
			var newest []string
			for _, e := range busy[7:] {
				newest = append(newest, e.UUID)
			}
			sort.Strings(newest)
			if strings.Join(got, ",") != strings.Join(newest, ",") {
				t.Errorf("BusyError kept %v, want its 5 newest %v", got, newest)
			}
		}
		if page := b.get(t, "/issues/"+issue.ID.String()); page.Status != http.StatusOK {
			t.Errorf("issue page of %s after retention: status %d", name, page.Status)
		}
	}
	list := pageText(t, b.get(t, "/issues").Body)
	for _, name := range []string{"OldError", "BusyError", "MinifiedOldError", "MinifiedKeptError"} {
		if !strings.Contains(list, name) {
			t.Errorf("the issue list no longer shows %s", name)
		}
	}
	if got := symbolSetRefs(t, s); strings.Join(got, ",") != "chunk-kept" {
		t.Errorf("symbol sets after retention: %v, want only chunk-kept (a kept event's frame uses it)", got)
	}
	if n := store.Count(t, "SELECT count(*) FROM event_frames WHERE event_id NOT IN (SELECT id FROM events)"); n != 0 {
		t.Errorf("%d event_frames rows name deleted events", n)
	}
	if n := store.Count(t, `SELECT count(*) FROM frame_resolutions fr WHERE fr.symbol_set_id IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM event_frames ef WHERE ef.project_id = fr.project_id AND ef.raw_id = fr.raw_id)`); n != 0 {
		t.Errorf("%d frame resolutions no kept event holds are left", n)
	}

	// Events keep arriving and are kept: retention takes only what is past the settings.
	postException(t, s, s.Token, exceptionAt("OldError", now))
	waitForTotal(t, a, len(events)+1)
	time.Sleep(time.Second) // a few more passes
	if kept, _ := a.events(t.Context(), issueByName(t, a, "OldError").ID.String(), 100); len(kept) != 3 {
		t.Errorf("OldError keeps %d events after a new one, want 3", len(kept))
	}
}

// TestIngestionAnswersDuringRetention deletes many old events in small
// transactions while capture requests keep coming: every one is answered
// 200 within a generous bound, and every event sent meanwhile is stored.
func TestIngestionAnswersDuringRetention(t *testing.T) {
	s := startServer(t, serverOptions{Env: append(retentionOff, "STACKLENS_RETENTION_BATCH_SIZE=50")})
	b := newBrowser(t, s)
	b.login(t)
	a := newAPI(s)
	old := time.Now().Add(-100 * 24 * time.Hour)
	const oldEvents = 10_000
	for batch := range oldEvents / 500 {
		events := make([]captureEvent, 500)
		for i := range events {
			events[i] = exceptionAt(fmt.Sprintf("Old%02dError", (batch*500+i)%40), old.Add(time.Duration(batch*500+i)*time.Second))
		}
		postException(t, s, s.Token, events...)
	}
	waitForTotal(t, a, oldEvents)

	setRetention(t, b, map[string]string{"retention_days": "30"})
	client := &http.Client{Timeout: 30 * time.Second}
	var sent, during int
	var slowest time.Duration
	deadline := time.Now().Add(processDeadline)
	for {
		m := metricsOf(t, s, nil)
		deleted := m.Sum("stacklens_retention_deleted_total", `kind="events"`)
		if deleted >= oldEvents {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retention deleted %v of %d old events before the deadline", deleted, oldEvents)
		}
		start := time.Now()
		ans, err := postBatchAnswer(t.Context(), client, s, batchBody(t, s.Token, exceptionAt("DuringRetentionError", time.Now())))
		took := time.Since(start)
		if err != nil || ans.Status != http.StatusOK {
			t.Fatalf("capture during retention: %v, status %d %s", err, ans.Status, ans.Body)
		}
		if took > 5*time.Second {
			t.Errorf("a capture request took %s during retention", took)
		}
		slowest = max(slowest, took)
		sent++
		if deleted > 0 {
			during++
		}
	}
	t.Logf("%d capture requests during retention (%d after it had begun), slowest %s", sent, during, slowest)
	if during == 0 {
		t.Errorf("no capture request was made while retention was deleting: the test proves nothing")
	}
	waitForTotal(t, a, oldEvents+sent)
	if got := issueByName(t, a, "DuringRetentionError").Occurrences; got != sent {
		t.Errorf("DuringRetentionError has %d occurrences, want %d (one per request)", got, sent)
	}
	if n := s.database().Count(t, "SELECT count(*) FROM events"); n != int64(sent) {
		t.Errorf("%d events stored after retention, want the %d sent during it", n, sent)
	}
}
