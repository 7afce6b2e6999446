package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/getsentry/sentry-go"

	"github.com/stacklens/stacklens/internal/testkit"
)

// sentryEvent is the part of a Sentry event the tests compare with what the
// server stored.
type sentryEvent struct {
	EventID   string `json:"event_id"`
	Exception struct {
		Values []struct {
			Type       string `json:"type"`
			Value      string `json:"value"`
			Stacktrace struct {
				Frames []recordedFrame `json:"frames"`
			} `json:"stacktrace"`
		} `json:"values"`
	} `json:"exception"`
	Tags map[string]string `json:"tags"`
}

// sentEvents reads the event items out of an envelope the way the protocol
// describes it (header line; item header; payload of `length` bytes or up to
// the next newline), independently of the server's decoder.
func sentEvents(t *testing.T, body []byte) []sentryEvent {
	t.Helper()
	r := bufio.NewReader(bytes.NewReader(body))
	if _, err := r.ReadBytes('\n'); err != nil {
		return nil // header only
	}
	var out []sentryEvent
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) == 0 {
			if err != nil {
				return out
			}
			continue
		}
		var item struct {
			Type   string `json:"type"`
			Length *int   `json:"length"`
		}
		if jerr := json.Unmarshal(line, &item); jerr != nil {
			t.Fatalf("recorded envelope: item header %q: %v", line, jerr)
		}
		var payload []byte
		if item.Length != nil {
			payload = make([]byte, *item.Length)
			if _, err := io.ReadFull(r, payload); err != nil {
				t.Fatalf("recorded envelope: item payload: %v", err)
			}
		} else {
			payload, _ = r.ReadBytes('\n')
		}
		if item.Type == "event" {
			var ev sentryEvent
			if err := json.Unmarshal(payload, &ev); err != nil {
				t.Fatalf("recorded envelope: event: %v", err)
			}
			out = append(out, ev)
		}
	}
}

// loadSentryRecordings reads fixtures/sdk/sentry-{node,browser}/*.json (the
// SDKs' ingest requests; sentry-cli's uploads are another API).
func loadSentryRecordings(t *testing.T) []recording {
	t.Helper()
	var out []recording
	for _, sdk := range []string{"sentry-browser", "sentry-node"} {
		paths, err := filepath.Glob(filepath.Join(testkit.Fixtures(t), "sdk", sdk, "*.json"))
		if err != nil || len(paths) == 0 {
			t.Fatalf("no %s recordings under %s (%v)", sdk, testkit.Fixtures(t), err)
		}
		sort.Strings(paths)
		for _, p := range paths {
			raw, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var rec recording
			if err := json.Unmarshal(raw, &rec); err != nil {
				t.Fatalf("decode %s: %v", p, err)
			}
			rec.Name = sdk + "/" + strings.TrimSuffix(filepath.Base(p), ".json")
			out = append(out, rec)
		}
	}
	return out
}

// TestReplaySentryRecordings sends every envelope the real @sentry/node and
// @sentry/browser were recorded sending, byte for byte, to a server whose
// project token is the recordings' DSN key, and checks the answers (the
// event id, CORS for the browser), then the issues and events: one issue per
// error, named by the outer error, with the cause chain in PostHog's order
// (outer first) and the frames as sent.
func TestReplaySentryRecordings(t *testing.T) {
	for _, rec := range loadSentryRecordings(t) {
		t.Run(rec.Name, func(t *testing.T) {
			s := startServer(t, serverOptions{Token: "publickey"})
			var sent []sentryEvent
			for _, r := range rec.Requests {
				if r.Method != http.MethodPost || !strings.HasPrefix(r.Path, "/api/1/envelope") {
					continue
				}
				resp, body := replay(t, s, r)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: status %d: %s", r.URL, resp.StatusCode, truncate(string(body), 300))
				}
				if origin := r.Headers["origin"]; origin != "" {
					if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin && got != "*" {
						t.Errorf("%s from %s: Access-Control-Allow-Origin %q", r.URL, origin, got)
					}
				}
				events := sentEvents(t, r.body(t))
				for _, ev := range events {
					var answer struct {
						ID string `json:"id"`
					}
					if err := json.Unmarshal(body, &answer); err != nil || answer.ID != ev.EventID {
						t.Errorf("%s: answer %s, want {\"id\":%q}", r.URL, body, ev.EventID)
					}
				}
				sent = append(sent, events...)
			}
			if len(sent) == 0 {
				t.Fatalf("%s: no event items in its envelopes", rec.Name)
			}
			checkSentryStored(t, s, sent)
		})
	}
}

// checkSentryStored waits for every sent event and compares it with what the
// SDK sent: exceptions outer error first, frames oldest first, as sent.
func checkSentryStored(t *testing.T, s *server, sent []sentryEvent) {
	t.Helper()
	a := newAPI(s)
	var ids []string
	distinct := map[string]bool{}
	for _, ev := range sent {
		ids = append(ids, ev.EventID)
		values := ev.Exception.Values
		distinct[values[len(values)-1].Type+": "+values[len(values)-1].Value] = true
	}
	stored := waitForEvents(t, a, ids)
	waitForIssues(t, a, len(distinct))
	for _, ev := range sent {
		got := stored[ev.EventID].Event
		values := ev.Exception.Values
		if len(got.ExceptionList) != len(values) {
			t.Fatalf("event %s: %d exceptions stored, %d sent", ev.EventID, len(got.ExceptionList), len(values))
		}
		for i, ex := range got.ExceptionList {
			want := values[len(values)-1-i] // Sentry sends the cause first
			if ex.Type != want.Type || ex.Value != want.Value {
				t.Errorf("event %s exception %d: %s: %q, want %s: %q", ev.EventID, i, ex.Type, ex.Value, want.Type, want.Value)
			}
			if len(ex.Frames) != len(want.Stacktrace.Frames) {
				t.Errorf("event %s %s: %d frames, sent %d", ev.EventID, ex.Type, len(ex.Frames), len(want.Stacktrace.Frames))
				continue
			}
			for j, f := range ex.Frames {
				w := want.Stacktrace.Frames[j]
				if f.MangledName != w.Function || f.Line != w.Lineno || f.Column != w.Colno || f.InApp != w.InApp {
					t.Errorf("event %s %s frame %d: %s, sent %s:%d:%d in_app=%v", ev.EventID, ex.Type, j, describeFrame(f), w.Function, w.Lineno, w.Colno, w.InApp)
				}
				if w.ContextLine != nil && f.ContextLine != *w.ContextLine {
					t.Errorf("event %s frame %d: context line %q, sent %q", ev.EventID, j, f.ContextLine, *w.ContextLine)
				}
			}
		}
		is, err := a.issue(t.Context(), stored[ev.EventID].IssueID)
		if err != nil {
			t.Fatal(err)
		}
		outer := values[len(values)-1]
		if is.Name != outer.Type || is.Description != outer.Value {
			t.Errorf("issue of %s: %s: %q, want %s: %q", ev.EventID, is.Name, is.Description, outer.Type, outer.Value)
		}
	}
}

// sentryAPIEvent is an events-API result with the fields Sentry SDKs add.
type sentryAPIEvent struct {
	UUID        string            `json:"uuid"`
	Level       string            `json:"level"`
	Release     string            `json:"release"`
	Environment string            `json:"environment"`
	Platform    string            `json:"platform"`
	Tags        map[string]string `json:"tags"`
	User        map[string]any    `json:"user"`
	Contexts    map[string]any    `json:"contexts"`
	Breadcrumbs []struct {
		Category string `json:"category"`
		Message  string `json:"message"`
	} `json:"breadcrumbs"`
	SDK struct {
		Name string `json:"name"`
	} `json:"sdk"`
}

func sentryEventsOf(t *testing.T, a *api, issueID string) []sentryAPIEvent {
	t.Helper()
	var page struct {
		Results []sentryAPIEvent `json:"results"`
	}
	if err := a.do(t.Context(), http.MethodGet, "/issues/"+issueID+"/events?limit=10", nil, &page); err != nil {
		t.Fatal(err)
	}
	return page.Results
}

func hasBreadcrumb(ev sentryAPIEvent, category, message string) bool {
	for _, b := range ev.Breadcrumbs {
		if b.Category == category && b.Message == message {
			return true
		}
	}
	return false
}

// dsnOf is the DSN the project page (and, before the first event, the
// issue list) shows for the default project.
func dsnOf(t *testing.T, s *server) string {
	t.Helper()
	b := newBrowser(t, s)
	b.login(t)
	u, _ := url.Parse(s.URL)
	want := "http://" + s.Token + "@" + u.Host + "/1"
	for _, path := range []string{"/settings/project", "/issues"} {
		if p := b.get(t, path); p.Status != http.StatusOK || !strings.Contains(p.Body, want) {
			t.Fatalf("%s (status %d) does not show the DSN %s", path, p.Status, want)
		}
	}
	return want
}

func runSentryNodeClient(t *testing.T, s *server, dsn, mode string, args ...string) {
	t.Helper()
	node := testkit.Node(t)
	testkit.NodeModules(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"sentry-node-app.js", mode}, args...)...)
	cmd.Dir = clientsDir(t)
	cmd.Env = append(baseEnv(), "STACKLENS_DSN="+dsn, "STACKLENS_HOST="+s.URL, "STACKLENS_TOKEN="+s.Token)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node sentry-node-app.js %s: %v\n%s", mode, err, out)
	}
}

// TestSentryNodeSDK drives the real @sentry/node with the DSN the project
// page shows: two captured errors become two issues with the cause chain in
// order, frames with the SDK's context lines, and the tag, user, breadcrumb,
// release and environment visible through the events API.
func TestSentryNodeSDK(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	runSentryNodeClient(t, s, dsnOf(t, s), "manual")

	issues := waitForIssues(t, a, 2)
	nested, ok := issueNamed(issues, "Error", "node e2e boom from innermost")
	if !ok {
		t.Fatalf("no issue Error: node e2e boom from innermost in %s", describeIssues(issues))
	}
	chained, ok := issueNamed(issues, "OrderRejectedError", "order ord_e2e rejected")
	if !ok {
		t.Fatalf("no issue OrderRejectedError in %s", describeIssues(issues))
	}
	ev := onlyEvent(t, a, nested)
	checkExceptions(t, ev, [][2]string{{"Error", "node e2e boom from innermost"}})
	checkCrashSite(t, ev.ExceptionList[0], "innermost", "orders.js")
	checkNodeContext(t, ev)
	chain := onlyEvent(t, a, chained)
	checkExceptions(t, chain, [][2]string{{"OrderRejectedError", "order ord_e2e rejected"}, {"TypeError", "quantity must be a number, got string"}})
	checkCrashSite(t, chain.ExceptionList[1], "parseQuantity", "orders.js")
	checkNodeContext(t, chain)

	facts := sentryEventsOf(t, a, nested.ID.String())[0]
	if facts.Tags["case"] != "nested" || facts.Release != "e2e@1.2.3" || facts.Environment != "e2e" || facts.Platform != "node" ||
		facts.Level != "error" || facts.User["id"] != "sentry-e2e-user" || facts.SDK.Name != "sentry.javascript.node" ||
		facts.Contexts["runtime"] == nil || !hasBreadcrumb(facts, "checkout", "cart opened") {
		t.Errorf("Sentry facts of the event: %+v", facts)
	}
	if ev.DistinctID != "sentry-e2e-user" {
		t.Errorf("distinct_id %q, want the Sentry user id", ev.DistinctID)
	}
}

// TestSentryAndPostHogGroupTogether sends one error from the same code through
// @sentry/node and posthog-node: both events land in one issue.
func TestSentryAndPostHogGroupTogether(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	runSentryNodeClient(t, s, dsnOf(t, s), "both")
	waitFor(t, "two events", func(ctx context.Context) (bool, string, error) {
		all, err := allEvents(ctx, a)
		return len(all) == 2, fmt.Sprintf("%d events", len(all)), err
	})
	issues, err := a.issues(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(issues) != 1 || issues[0].Occurrences != 2 {
		all, _ := allEvents(t.Context(), a)
		for id, ev := range all {
			logFrames(t, id+" in issue "+ev.IssueID, ev.Event)
		}
		t.Fatalf("the same error through both SDKs: %s; want one issue with 2 occurrences", describeIssues(issues))
	}
}

// TestSentryGoSDK drives the real sentry-go client from this test process:
// the error becomes an issue with Go frames of this file (sentry-go sends no
// context lines) and the tag and breadcrumb set on the scope.
func TestSentryGoSDK(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	client, err := sentry.NewClient(sentry.ClientOptions{Dsn: dsnOf(t, s), Release: "go-e2e@1.0.0", Environment: "e2e"})
	if err != nil {
		t.Fatalf("sentry.NewClient: %v", err)
	}
	hub := sentry.NewHub(client, sentry.NewScope())
	hub.Scope().SetTag("case", "go")
	hub.AddBreadcrumb(&sentry.Breadcrumb{Category: "db", Message: "select orders"}, nil)
	id := captureGoError(hub)
	if id == nil {
		t.Fatal("sentry-go did not capture the error")
	}
	if !hub.Flush(20 * time.Second) {
		t.Fatal("sentry-go did not flush within 20 s")
	}

	issues := waitForIssues(t, a, 1)
	is, ok := issueNamed(issues, "*errors.errorString", "sentry-go e2e: order lookup failed")
	if !ok {
		t.Fatalf("no issue for the sentry-go error in %s", describeIssues(issues))
	}
	ev := onlyEvent(t, a, is)
	if want := strings.ReplaceAll(string(*id), "-", ""); ev.UUID != want {
		t.Errorf("event uuid %q, sentry-go's id %q", ev.UUID, want)
	}
	var crash *apiFrame
	for i, f := range ev.ExceptionList[0].Frames {
		if f.Platform != "go" {
			t.Errorf("frame %s platform %q, want go", describeFrame(f), f.Platform)
		}
		if strings.Contains(f.MangledName, "captureGoError") {
			crash = &ev.ExceptionList[0].Frames[i]
		}
	}
	if crash == nil {
		t.Fatalf("no frame of captureGoError: %+v", ev.ExceptionList[0].Frames)
	}
	// sentry-go sends no context lines (it dropped its ContextifyFrames
	// integration); the frame's file and line must point at the capture.
	src, err := os.ReadFile(crash.Source)
	lines := strings.Split(string(src), "\n")
	if err != nil || !crash.InApp || crash.Line < 1 || crash.Line > len(lines) || !strings.Contains(lines[crash.Line-1], "hub.CaptureException(err)") {
		t.Errorf("captureGoError frame: %s in_app=%v (read %v); want this file's line calling hub.CaptureException", describeFrame(*crash), crash.InApp, err)
	}
	facts := sentryEventsOf(t, a, is.ID.String())[0]
	if facts.Tags["case"] != "go" || facts.Platform != "go" || facts.Release != "go-e2e@1.0.0" || !hasBreadcrumb(facts, "db", "select orders") {
		t.Errorf("Sentry facts of the event: %+v", facts)
	}
}

func captureGoError(hub *sentry.Hub) *sentry.EventID {
	err := errors.New("sentry-go e2e: order lookup failed")
	return hub.CaptureException(err)
}

// TestSentryBrowserInChromium loads a minified app using the real
// @sentry/browser in headless Chromium, from another origin than stacklens:
// the captured error becomes an issue whose minified frames resolve through
// the source map fetched from the app's origin.
func TestSentryBrowserInChromium(t *testing.T) {
	appDir := buildSentryBrowserApp(t)
	s := startServer(t, serverOptions{})
	app := httptest.NewServer(http.FileServer(http.Dir(appDir)))
	t.Cleanup(app.Close)
	u, _ := url.Parse(s.URL)
	dsn := "http://" + s.Token + "@" + u.Host + "/1"

	var console syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", console.String())
		}
	})
	ctx := chromium(t, &console)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	pageURL := app.URL + "/index.html?" + url.Values{"dsn": {dsn}}.Encode()
	err := chromedp.Do(ctx,
		chromedp.Navigate(pageURL),
		chromedp.Poll[chromedp.Void](`window.stacklensReady && window.stacklensReady()`, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Click(chromedp.CSS("#manual")),
		chromedp.Poll[chromedp.Void](`window.stacklensSent !== undefined`, chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		t.Fatalf("load %s and click: %v", pageURL, err)
	}
	sentOK, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.stacklensSent`))
	if err != nil {
		t.Fatalf("read window.stacklensSent: %v", err)
	}
	if !sentOK {
		t.Error("Sentry.flush() reported the envelope was not sent")
	}
	a := newAPI(s)
	issues := waitForIssues(t, a, 1)
	is, ok := issueNamed(issues, "Error", "sentry browser e2e boom")
	if !ok {
		t.Fatalf("no issue Error: sentry browser e2e boom in %s", describeIssues(issues))
	}
	ev := onlyEvent(t, a, is)
	frames := ev.ExceptionList[0].Frames
	crash := frames[len(frames)-1]
	if !crash.Resolved || crash.ResolvedName != "deepest" || !strings.HasSuffix(crash.Source, "orders.js") || crash.Platform != "web:javascript" {
		t.Errorf("crash site %s platform %q (failure %q), want deepest in orders.js", describeFrame(crash), crash.Platform, crash.ResolveFailure)
	}
	facts := sentryEventsOf(t, a, is.ID.String())[0]
	if facts.Tags["case"] != "manual" || facts.SDK.Name != "sentry.javascript.browser" || facts.Release != "browser-e2e@1.0.0" {
		t.Errorf("Sentry facts: %+v", facts)
	}
	logFrames(t, "sentry-browser", ev)
}

// buildSentryBrowserApp bundles e2e/clients/sentry-browser/app.js (with the
// browser app's orders.js beside it) like buildBrowserApp does.
func buildSentryBrowserApp(t *testing.T) string {
	t.Helper()
	modules := testkit.NodeModules(t)
	testkit.Node(t)
	out := t.TempDir()
	copyFile(t, filepath.Join(clientsDir(t), "sentry-browser", "app.js"), filepath.Join(out, "src", "app.js"))
	copyFile(t, filepath.Join(clientsDir(t), "browser", "orders.js"), filepath.Join(out, "src", "orders.js"))
	copyFile(t, filepath.Join(clientsDir(t), "sentry-browser", "index.html"), filepath.Join(out, "index.html"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(modules, ".bin", "esbuild"), "src/app.js",
		"--bundle", "--minify", "--sourcemap", "--outfile=app.js")
	cmd.Dir = out
	cmd.Env = append(baseEnv(), "NODE_PATH="+modules)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("esbuild the Sentry browser app: %v\n%s", err, msg)
	}
	return out
}

// TestSentryBadInput: what Sentry clients get for requests the server
// refuses, each with a sentence saying why, and that none of them stores
// anything; a preflight is answered with the headers @sentry/browser asks for.
func TestSentryBadInput(t *testing.T) {
	s := startServer(t, serverOptions{MaxBodyBytes: 4 << 20})
	good := "{}\n{\"type\":\"event\"}\n{\"exception\":{\"values\":[{\"type\":\"Error\",\"value\":\"good\"}]}}\n"
	big := "{}\n{\"type\":\"event\"}\n{\"message\":\"" + strings.Repeat("x", 3<<20) + "\"}\n"
	cases := []struct {
		name, path string
		headers    map[string]string
		body       string
		status     int
		says       string
	}{
		{"no key", "/api/1/envelope/", nil, good, 401, "sentry_key"},
		{"unknown key", "/api/1/envelope/?sentry_key=nope", nil, good, 403, "not known"},
		{"unknown key in X-Sentry-Auth", "/api/1/envelope/", map[string]string{"X-Sentry-Auth": "Sentry sentry_key=nope, sentry_version=7"}, good, 403, "not known"},
		{"other project", "/api/2/envelope/?sentry_key=" + s.Token, nil, good, 403, "project 1"},
		{"malformed envelope", "/api/1/envelope/?sentry_key=" + s.Token, nil, "not an envelope", 400, "header"},
		{"bad item length", "/api/1/envelope/?sentry_key=" + s.Token, nil, "{}\n{\"type\":\"event\",\"length\":500}\n{}\n", 400, "500 bytes"},
		{"oversized item", "/api/1/envelope/?sentry_key=" + s.Token, nil, big, 413, "at most"},
		{"unsupported encoding", "/api/1/envelope/?sentry_key=" + s.Token, map[string]string{"Content-Encoding": "zstd"}, good, 400, "zstd"},
		{"bad store body", "/api/1/store/?sentry_key=" + s.Token, nil, "[1]", 400, "JSON"},
	}
	for _, c := range cases {
		status, header, body := postSentry(t, s, c.path, c.headers, []byte(c.body))
		if status != c.status || !strings.Contains(body, c.says) || header.Get("X-Sentry-Error") == "" {
			t.Errorf("%s: %d %s (X-Sentry-Error %q); want %d saying %q", c.name, status, body, header.Get("X-Sentry-Error"), c.status, c.says)
		}
	}
	// Over the body cap before decompression.
	status, _, body := postSentry(t, s, "/api/1/envelope/?sentry_key="+s.Token, nil, []byte(strings.Repeat("x", 5<<20)))
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "bytes") {
		t.Errorf("body over the cap: %d %s", status, body)
	}

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, s.URL+"/api/1/envelope/?sentry_key="+s.Token, nil)
	req.Header.Set("Origin", "http://app.example.test")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,sentry-trace,baggage,x-sentry-auth")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
	if resp.StatusCode/100 != 2 || resp.Header.Get("Access-Control-Allow-Origin") != "http://app.example.test" ||
		!strings.Contains(allowed, "sentry-trace") || !strings.Contains(allowed, "baggage") || !strings.Contains(allowed, "x-sentry-auth") {
		t.Errorf("preflight: %d, allow-origin %q, allow-headers %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), allowed)
	}

	// Nothing above was stored: the one good event that follows is the only issue.
	if status, _, body := postSentry(t, s, "/api/1/store?sentry_key="+s.Token, nil, []byte(`{"exception":{"values":[{"type":"Error","value":"good"}]}}`)); status != 200 {
		t.Fatalf("good /store/ event: %d %s", status, body)
	}
	a := newAPI(s)
	waitForIssues(t, a, 1)
	all, err := allEvents(t.Context(), a)
	if err != nil || len(all) != 1 {
		t.Errorf("events stored after the bad requests and one good one: %d (%v), want 1", len(all), err)
	}
}

func postSentry(t *testing.T, s *server, path string, headers map[string]string, body []byte) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(raw)
}

// TestSentryRateLimited: past the project's rate limit a Sentry SDK gets 429
// with Retry-After and X-Sentry-Rate-Limits (the header it backs off by), and
// only the events answered 200 are stored.
func TestSentryRateLimited(t *testing.T) {
	s := startServer(t, serverOptions{Env: []string{"STACKLENS_RATE_LIMIT=1", "STACKLENS_RATE_LIMIT_BURST=3"}})
	accepted, limited := 0, 0
	for i := range 6 {
		body := fmt.Sprintf("{}\n{\"type\":\"event\"}\n{\"exception\":{\"values\":[{\"type\":\"Error\",\"value\":\"limited %d\"}]}}\n", i)
		status, header, answer := postSentry(t, s, "/api/1/envelope/?sentry_key="+s.Token, nil, []byte(body))
		switch status {
		case http.StatusOK:
			accepted++
		case http.StatusTooManyRequests:
			limited++
			retry := header.Get("Retry-After")
			if retry == "" || header.Get("X-Sentry-Rate-Limits") != retry+":error;default:project" {
				t.Errorf("429: Retry-After %q, X-Sentry-Rate-Limits %q", retry, header.Get("X-Sentry-Rate-Limits"))
			}
		default:
			t.Fatalf("envelope %d: %d %s", i, status, answer)
		}
	}
	if accepted == 0 || limited == 0 {
		t.Fatalf("%d accepted, %d limited; want both", accepted, limited)
	}
	a := newAPI(s)
	waitForIssues(t, a, accepted)
	all, err := allEvents(t.Context(), a)
	if err != nil || len(all) != accepted {
		t.Errorf("%d events stored (%v), %d answered 200", len(all), err, accepted)
	}
}
