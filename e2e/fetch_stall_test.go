package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stacklens/stacklens/internal/testkit"
)

// otherProjectBound is how long project B's event may take while project
// A's source maps hang. It is a generous bound for something that took a
// minute before fetches left the worker's path, not a speed requirement.
const otherProjectBound = 5 * time.Second

// holdingHost is a bundle host that accepts requests and answers none of
// them until released; then it serves the posthog-browser fixture bundle.
type holdingHost struct {
	URL     string // on "localhost", so it is another host name than 127.0.0.1
	waiting atomic.Int32
	release func()
}

func startHoldingHost(t *testing.T) *holdingHost {
	t.Helper()
	h := &holdingHost{}
	released := make(chan struct{})
	var once sync.Once
	h.release = func() { once.Do(func() { close(released) }) }
	files := http.FileServer(http.Dir(filepath.Join(testkit.Fixtures(t), "bundles", "posthog-browser")))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.waiting.Add(1)
		select {
		case <-released:
		case <-r.Context().Done():
		}
		h.waiting.Add(-1)
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(h.release) // runs first: lets held requests end so Close can return
	h.URL = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	return h
}

// silentHost accepts TCP connections and never writes a byte.
func silentHost(t *testing.T) (origin string, accepted *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = &atomic.Int32{}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://localhost:" + fmt.Sprint(l.Addr().(*net.TCPAddr).Port), accepted
}

// addProject adds a project through the settings page and returns its id and token.
func addProject(t *testing.T, b *browser, name string) (int, string) {
	t.Helper()
	list := b.get(t, "/settings/projects")
	create, ok := findForm(t, list.Body, func(f form) bool { return f.Action == "/settings/projects" && f.has("name") })
	if !ok {
		t.Fatalf("GET /settings/projects: no create form")
	}
	create.Fields.Set("name", name)
	got := b.postForm(t, create.Action, create.Fields)
	var id int
	if _, err := fmt.Sscanf(got.Location[strings.LastIndex(got.Location, "project=")+len("project="):], "%d", &id); err != nil || got.Status != http.StatusSeeOther {
		t.Fatalf("create project %s: %d → %q", name, got.Status, got.Location)
	}
	return id, tokenOn(t, b.get(t, got.Location).Body)
}

// postEventsWithToken sends events as one JSON batch with token and requires 200.
func postEventsWithToken(t *testing.T, s *server, token string, events []any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"api_key": token, "batch": events})
	if err != nil {
		t.Fatal(err)
	}
	if status, answer := postCapture(t, s, "/batch/", map[string]string{"Content-Type": "application/json"}, body); status != http.StatusOK {
		t.Fatalf("POST /batch/: %d %s", status, answer)
	}
}

// issueFrames returns the frames of the newest event of the issue described
// as description, or nil while there is none.
func issueFrames(ctx context.Context, a *api, description string) (string, []apiFrame, error) {
	issues, err := a.issues(ctx)
	if err != nil {
		return "", nil, err
	}
	for _, is := range issues {
		if is.Description != description {
			continue
		}
		events, err := a.events(ctx, is.ID.String(), 1)
		if err != nil || len(events) == 0 || len(events[0].ExceptionList) == 0 {
			return "", nil, err
		}
		return is.ID.String(), events[0].ExceptionList[0].Frames, nil
	}
	return "", nil, nil
}

func describeFrames(frames []apiFrame) string {
	var parts []string
	for _, f := range frames {
		parts = append(parts, fmt.Sprintf("%s→%s resolved=%v failure=%q", f.MangledName, f.ResolvedName, f.Resolved, f.ResolveFailure))
	}
	return strings.Join(parts, "; ")
}

// manualEventsAt are the recorded posthog-js events with their frames on
// origin, the first frame of each on origin's /vendor.js: two URLs, so two
// fetches, per event.
func manualEventsAt(t *testing.T, token, origin string) []any {
	t.Helper()
	events := manualCaptureEvents(t, token, origin, nil)
	for _, ev := range events {
		for _, ex := range ev.(map[string]any)["properties"].(map[string]any)["$exception_list"].([]any) {
			frames := ex.(map[string]any)["stacktrace"].(map[string]any)["frames"].([]any)
			first := frames[0].(map[string]any)
			for _, k := range []string{"filename", "abs_path"} {
				if v, ok := first[k].(string); ok {
					first[k] = strings.Replace(v, "/app.js", "/vendor.js", 1)
				}
			}
		}
	}
	return events
}

// A host that takes requests and does not answer, named by two frames of
// project A's events, must not hold up project B: B's event is stored and
// resolved while A's fetches still hang, A's frames say they are being
// resolved, and when the host answers at last they are resolved.
func TestHangingSourceMapHostDoesNotDelayOtherProjects(t *testing.T) {
	hanging := startHoldingHost(t)
	healthy := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(testkit.Fixtures(t), "bundles", "posthog-browser"))))
	t.Cleanup(healthy.Close)
	// The first-byte timeout is long so that the host's late answer, not the timeout, ends A's fetches.
	s := startServer(t, serverOptions{Env: []string{"STACKLENS_FETCH_FIRST_BYTE_TIMEOUT=120s", "STACKLENS_FETCH_TIMEOUT=180s"}})
	b := newBrowser(t, s)
	b.login(t)
	projectB, tokenB := addProject(t, b, "Other team")
	apiA, apiB := newAPI(s), projectAPI(s, projectB)

	postEventsWithToken(t, s, s.Token, manualEventsAt(t, s.Token, hanging.URL))
	waitFor(t, "project A's fetches to reach the hanging host", func(context.Context) (bool, string, error) {
		return hanging.waiting.Load() == 2, fmt.Sprintf("%d requests held", hanging.waiting.Load()), nil
	})

	sentB := time.Now()
	postEventsWithToken(t, s, tokenB, manualCaptureEvents(t, tokenB, healthy.URL, nil))
	var framesB []apiFrame
	waitFor(t, "project B's event, resolved", func(ctx context.Context) (bool, string, error) {
		_, frames, err := issueFrames(ctx, apiB, "boom manual")
		framesB = frames
		return len(frames) > 0 && frames[len(frames)-1].Resolved, describeFrames(frames), err
	})
	tookB := time.Since(sentB)
	t.Logf("project B's event was stored and resolved %s after it was sent, while project A's fetches hung", tookB)
	if tookB > otherProjectBound {
		t.Errorf("project B's event took %s, want it within %s of being sent while A's host hangs", tookB, otherProjectBound)
	}
	if got := framesB[len(framesB)-1].ResolvedName; got != "level3" {
		t.Errorf("project B's crash frame resolved to %q, want level3", got)
	}
	if n := hanging.waiting.Load(); n != 2 {
		t.Fatalf("%d of A's requests are still held, want 2: the test must check B while A hangs", n)
	}

	// A's events are stored meanwhile, their frames pending, and the page says so.
	var issueA string
	waitFor(t, "project A's event, stored with pending frames", func(ctx context.Context) (bool, string, error) {
		id, frames, err := issueFrames(ctx, apiA, "boom manual")
		issueA = id
		return len(frames) > 0 && frames[len(frames)-1].ResolveFailure == "fetch_pending", describeFrames(frames), err
	})
	if text := pageText(t, b.get(t, "/issues/"+issueA).Body); !strings.Contains(text, "being resolved") {
		t.Errorf("A's issue page while its fetch hangs does not say the frames are being resolved:\n%s", truncate(text, 3000))
	}

	// The host answers at last: app.js and its map resolve A's frames; vendor.js is a 404.
	hanging.release()
	waitFor(t, "project A's frames resolved after the host answered", func(ctx context.Context) (bool, string, error) {
		_, frames, err := issueFrames(ctx, apiA, "boom manual")
		if len(frames) < 2 {
			return false, describeFrames(frames), err
		}
		crash, first := frames[len(frames)-1], frames[0]
		return crash.Resolved && crash.ResolvedName == "level3" && first.ResolveFailure == "http_status", describeFrames(frames), err
	})
	text := pageText(t, b.get(t, "/issues/"+issueA).Body)
	if strings.Contains(text, "being resolved") || !strings.Contains(text, "level3") || !strings.Contains(text, "vendor.js answered 404") {
		t.Errorf("A's issue page after the host answered should show level3 and vendor.js's 404, and nothing pending:\n%s", truncate(text, 3000))
	}
	if issues, err := apiA.issues(t.Context()); err != nil || len(issues) != 2 {
		t.Errorf("project A has %s (%v), want its 2 issues, regrouped in place", describeIssues(issues), err)
	}
}

// A host that never writes a byte: B goes on, and A's frames get a
// fetch_timeout that the page explains once the first-byte timeout passes.
func TestSilentSourceMapHostTimesOutWithoutDelayingOthers(t *testing.T) {
	silent, accepted := silentHost(t)
	s := startServer(t, serverOptions{Env: []string{"STACKLENS_FETCH_FIRST_BYTE_TIMEOUT=3s"}})
	b := newBrowser(t, s)
	b.login(t)
	projectB, tokenB := addProject(t, b, "Other team")
	apiA, apiB := newAPI(s), projectAPI(s, projectB)

	postEventsWithToken(t, s, s.Token, manualEventsAt(t, s.Token, silent))
	waitFor(t, "project A's fetches to connect to the silent host", func(context.Context) (bool, string, error) {
		return accepted.Load() >= 2, fmt.Sprintf("%d connections", accepted.Load()), nil
	})
	sentB := time.Now()
	postException(t, s, tokenB, newException("OtherTeamError", "not waiting for anyone"))
	waitForIssues(t, apiB, 1)
	tookB := time.Since(sentB)
	t.Logf("project B's event was stored %s after it was sent, while project A's fetches waited on a silent host", tookB)
	if tookB > otherProjectBound {
		t.Errorf("project B's event took %s, want it within %s", tookB, otherProjectBound)
	}

	var issueA string
	waitFor(t, "project A's frames to fail with fetch_timeout", func(ctx context.Context) (bool, string, error) {
		id, frames, err := issueFrames(ctx, apiA, "boom manual")
		issueA = id
		return len(frames) > 0 && frames[len(frames)-1].ResolveFailure == "fetch_timeout", describeFrames(frames), err
	})
	if text := pageText(t, b.get(t, "/issues/"+issueA).Body); !strings.Contains(text, "sent no answer within 3s") {
		t.Errorf("A's issue page should say the host sent no answer within 3s:\n%s", truncate(text, 3000))
	}
}

// Unique query strings must not create unbounded fetches and symbol-set
// rows: past the hourly cap, frames say fetch_rate_limited and no row is
// created for their URL.
func TestNewFetchRefsAreCappedPerProject(t *testing.T) {
	var minifiedGets atomic.Int32
	files := http.FileServer(http.Dir(filepath.Join(testkit.Fixtures(t), "bundles", "posthog-browser")))
	bundles := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/app.js" {
			minifiedGets.Add(1)
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(bundles.Close)
	const limit, sent = 3, 8
	s := startServer(t, serverOptions{Env: []string{fmt.Sprintf("STACKLENS_FETCH_NEW_REFS_PER_HOUR=%d", limit)}})
	a := newAPI(s)

	var events []any
	for i := range sent {
		for j, ev := range manualCaptureEvents(t, s.Token, bundles.URL, func(frame map[string]any) {
			for _, k := range []string{"filename", "abs_path"} {
				if v, ok := frame[k].(string); ok {
					frame[k] = strings.Replace(v, "/app.js", fmt.Sprintf("/app.js?cache_bust=%d", i), 1)
				}
			}
		}) {
			m := ev.(map[string]any)
			m["uuid"] = newUUID()
			if j == 0 {
				events = append(events, m) // one "boom manual" per query string
			}
		}
	}
	postEvents(t, s, events)
	var all map[string]locatedEvent
	waitFor(t, fmt.Sprintf("%d events, each resolved or rate-limited", sent), func(ctx context.Context) (bool, string, error) {
		var err error
		all, err = allEvents(ctx, a)
		if err != nil || len(all) != sent {
			return false, fmt.Sprintf("%d events", len(all)), err
		}
		var states []string
		settled := 0
		for _, ev := range all {
			frames := ev.Event.ExceptionList[0].Frames
			crash := frames[len(frames)-1]
			states = append(states, crash.ResolveFailure)
			if crash.Resolved || crash.ResolveFailure == "fetch_rate_limited" {
				settled++
			}
		}
		return settled == sent, strings.Join(states, ","), nil
	})
	resolved, limited := 0, 0
	for _, ev := range all {
		frames := ev.Event.ExceptionList[0].Frames
		if crash := frames[len(frames)-1]; crash.Resolved {
			resolved++
		} else {
			limited++
		}
	}
	if resolved != limit || limited != sent-limit {
		t.Errorf("%d events resolved and %d rate-limited, want %d and %d", resolved, limited, limit, sent-limit)
	}
	status, body := rawCall(t, http.MethodGet, symbolSetsAPI(s)+"/?status=all&limit=100", nil)
	var page struct {
		Count   int            `json:"count"`
		Results []apiSymbolSet `json:"results"`
	}
	if err := json.Unmarshal(body, &page); status != http.StatusOK || err != nil {
		t.Fatalf("list symbol sets: %d %v %s", status, err, body)
	}
	if page.Count != limit {
		t.Errorf("%d symbol sets after %d unique query strings, want the cap of %d", page.Count, sent, limit)
	}
	if n := minifiedGets.Load(); n != limit {
		t.Errorf("the bundle host was asked for app.js %d times, want %d", n, limit)
	}

	// The page says why a rate-limited frame is not resolved.
	b := newBrowser(t, s)
	b.login(t)
	for _, ev := range all {
		frames := ev.Event.ExceptionList[0].Frames
		if frames[len(frames)-1].Resolved {
			continue
		}
		text := pageText(t, b.get(t, "/issues/"+ev.IssueID).Body)
		if !strings.Contains(text, "STACKLENS_FETCH_NEW_REFS_PER_HOUR") {
			t.Errorf("issue page of a rate-limited event does not explain the cap:\n%s", truncate(text, 3000))
		}
		break
	}
}

// An inbox row that can never become an event (here: one left by some other
// program in the database) is set aside without holding up the others,
// and the project settings page says how many and why.
func TestRejectedRowsAreCountedOnTheProjectPage(t *testing.T) {
	s := startServer(t, serverOptions{})
	bad := []byte(`{"event":"$exception", truncated`)
	s.database().Exec(t, `INSERT INTO inbox(project_id, format, received_at, payload_bytes, uuid) VALUES (1, 'posthog', ?, ?, ?)`,
		time.Now().UnixMilli(), len(bad), newUUID())
	s.database().Exec(t, `INSERT INTO inbox_payloads(inbox_id, payload) SELECT max(id), ? FROM inbox`, bad)
	postException(t, s, s.Token, newException("StillStoredError", "stored although a bad row came first"))
	waitForIssues(t, newAPI(s), 1)

	b := newBrowser(t, s)
	b.login(t)
	waitFor(t, "the set-aside row on the project page", func(context.Context) (bool, string, error) {
		text := pageText(t, b.get(t, "/settings/project").Body)
		i := strings.Index(text, "Events set aside")
		if i < 0 {
			return false, "no such section", nil
		}
		section := text[i:]
		return strings.Contains(section, "1 event: parse event"), truncate(section, 500), nil
	})
	if !strings.Contains(s.logs.String(), "inbox rows moved to inbox_rejected") {
		t.Errorf("the log does not say rows were set aside:\n%s", truncate(s.logs.String(), 3000))
	}
}
