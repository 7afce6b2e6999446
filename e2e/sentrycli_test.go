package e2e

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stacklens/stacklens/internal/testkit"
)

// sentryCLI runs the real sentry-cli of @sentry/cli (the binary of its
// platform package) with only the given environment besides PATH and HOME.
func sentryCLI(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	bin := filepath.Join(testkit.NodeModules(t), "@sentry", "cli-linux-x64", "bin", "sentry-cli")
	if _, err := os.Stat(bin); err != nil {
		testkit.Missing(t, "the sentry-cli binary of @sentry/cli-linux-x64 (npm ci --prefix e2e): "+err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "SENTRY_LOG_LEVEL=info",
		"SENTRYCLI_SKIP_DOWNLOAD=1", "SENTRY_DISABLE_UPDATE_CHECK=true"}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// sentryCLIEnv points sentry-cli at s with the admin's personal API key.
func sentryCLIEnv(project string) []string {
	return []string{"SENTRY_AUTH_TOKEN=" + apiKey, "SENTRY_ORG=stacklens", "SENTRY_PROJECT=" + project}
}

// mapRequests is a static file server that counts requests for source maps,
// so a test can check that nothing fetched them.
type mapRequests struct {
	mu   sync.Mutex
	maps []string
}

func (m *mapRequests) serve(t *testing.T, dir string) *httptest.Server {
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".map") {
			m.mu.Lock()
			m.maps = append(m.maps, r.URL.Path+" ("+r.UserAgent()+")")
			m.mu.Unlock()
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (m *mapRequests) seen() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.maps...)
}

// TestSentryCLIUploadThenBrowser: the real `sentry-cli sourcemaps inject`
// on an esbuild bundle of an app using @sentry/browser; the injected build
// deployed without its map; an error captured in Chromium carries the
// debug id, and the symbol-set page says no map with that id was uploaded
// and what to run. The real `sentry-cli sourcemaps upload --url <server>`
// with a personal API key then stores a symbol set keyed by the debug id,
// and the event's frames resolve to the original names and code, with no
// source map fetched from anywhere.
func TestSentryCLIUploadThenBrowser(t *testing.T) {
	build := buildSentryBrowserApp(t)
	if out, err := sentryCLI(t, build, nil, "sourcemaps", "inject", "."); err != nil {
		t.Fatalf("sentry-cli sourcemaps inject: %v\n%s", err, out)
	}
	minified, err := os.ReadFile(filepath.Join(build, "app.js"))
	if err != nil {
		t.Fatal(err)
	}
	debugID := lastDebugID(string(minified))
	if debugID == "" {
		t.Fatalf("sentry-cli inject left no //# debugId= in app.js")
	}
	// Deploy the build without its map: only a map upload can resolve it.
	deployed := t.TempDir()
	copyFile(t, filepath.Join(build, "app.js"), filepath.Join(deployed, "app.js"))
	copyFile(t, filepath.Join(build, "index.html"), filepath.Join(deployed, "index.html"))
	var maps mapRequests
	app := maps.serve(t, deployed)

	s := startServer(t, serverOptions{})
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
	if err := chromedp.Do(ctx,
		chromedp.Navigate(pageURL),
		chromedp.Poll[chromedp.Void](`window.stacklensReady && window.stacklensReady()`, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Click(chromedp.CSS("#manual")),
		chromedp.Poll[chromedp.Void](`window.stacklensSent !== undefined`, chromedp.WithPollingTimeout(20*time.Second)),
	); err != nil {
		t.Fatalf("load %s and click: %v", pageURL, err)
	}
	a := newAPI(s)
	issues := waitForIssues(t, a, 1)
	is, ok := issueNamed(issues, "Error", "sentry browser e2e boom")
	if !ok {
		t.Fatalf("no issue Error: sentry browser e2e boom in %s", describeIssues(issues))
	}
	frames := onlyEvent(t, a, is).ExceptionList[0].Frames
	crash := frames[len(frames)-1]
	if crash.Resolved || crash.ResolveFailure != "not_uploaded" {
		t.Fatalf("before the upload the crash frame is %s (failure %q), want not resolved: not_uploaded", describeFrame(crash), crash.ResolveFailure)
	}

	// Before the upload: the symbol set of the debug id says it is missing, and how to upload it here.
	set := waitForSymbolSet(t, s, debugID)
	if set.HasUploadedFile {
		t.Fatalf("symbol set %s stored before any upload", debugID)
	}
	b := newBrowser(t, s)
	b.login(t)
	before := b.get(t, "/settings/symbol-sets/"+set.ID)
	text := pageText(t, before.Body)
	for _, want := range []string{
		"Events carried debug id " + debugID,
		app.URL + "/app.js",
		"No source map with this debug id was uploaded to this project.",
		"export SENTRY_PROJECT=1",
		"npx sentry-cli sourcemaps inject ./dist",
		"npx sentry-cli --url " + s.URL + " sourcemaps upload ./dist",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("symbol-set page before the upload does not say %q:\n%s", want, text)
		}
	}

	out, err := sentryCLI(t, build, sentryCLIEnv("1"), "--url", s.URL, "sourcemaps", "upload", "--release", "browser-e2e@1.0.0", ".")
	if err != nil {
		t.Fatalf("sentry-cli sourcemaps upload: %v\n%s", err, out)
	}
	if !strings.Contains(out, "debug id "+debugID) || !strings.Contains(out, "File processing complete") {
		t.Errorf("sentry-cli upload output:\n%s", out)
	}

	// After: the frames resolve through the uploaded map, with code around them.
	waitFor(t, "the crash frame to resolve", func(ctx context.Context) (bool, string, error) {
		events, err := a.events(ctx, is.ID.String(), 1)
		if err != nil || len(events) == 0 {
			return false, "", err
		}
		frames := events[0].ExceptionList[0].Frames
		crash = frames[len(frames)-1]
		return crash.Resolved, describeFrame(crash), nil
	})
	if crash.ResolvedName != "deepest" || !strings.HasSuffix(crash.Source, "orders.js") || crash.Line != 26 {
		t.Errorf("crash frame %s, want deepest in orders.js line 26", describeFrame(crash))
	}
	// The issue page shows the original code around it, from the uploaded map's sources.
	issuePage := pageText(t, b.get(t, "/issues/"+is.ID.String()).Body)
	for _, want := range []string{"export function deepest(message) {", "throw new Error(message);"} {
		if !strings.Contains(issuePage, want) {
			t.Errorf("issue page does not show the original code %q:\n%s", want, truncate(issuePage, 4000))
		}
	}
	stored := getSymbolSet(t, s, set.ID)
	if !stored.HasUploadedFile || stored.Release == nil || *stored.Release != "browser-e2e@1.0.0" {
		t.Errorf("symbol set after upload: %+v", stored)
	}
	list := pageText(t, b.get(t, "/settings/symbol-sets").Body)
	for _, want := range []string{debugID, "debug id · ~/app.js · release browser-e2e@1.0.0"} {
		if !strings.Contains(list, want) {
			t.Errorf("symbol-set list does not show %q:\n%s", want, list)
		}
	}
	after := pageText(t, b.get(t, "/settings/symbol-sets/"+set.ID).Body)
	if !strings.Contains(after, "A source map with this debug id was uploaded") || !strings.Contains(after, "~/app.js") {
		t.Errorf("symbol-set page after the upload:\n%s", after)
	}
	if seen := maps.seen(); len(seen) > 0 {
		t.Errorf("source maps were fetched from the app's origin: %v", seen)
	}
	if n := s.database().Count(t, "SELECT COUNT(*) FROM upload_chunks"); n != 0 {
		t.Errorf("%d chunks left in the database after the assembly", n)
	}
}

func lastDebugID(js string) string {
	i := strings.LastIndex(js, "//# debugId=")
	if i < 0 {
		return ""
	}
	id, _, _ := strings.Cut(js[i+len("//# debugId="):], "\n")
	return strings.TrimSpace(id)
}

// TestSentryCLIReleases drives the real sentry-cli's release commands.
func TestSentryCLIReleases(t *testing.T) {
	s := startServer(t, serverOptions{})
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		out, err := sentryCLI(t, dir, sentryCLIEnv("1"), append([]string{"--url", s.URL}, args...)...)
		if err != nil {
			t.Fatalf("sentry-cli %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	if out := run("info"); !strings.Contains(out, adminEmail) {
		t.Errorf("sentry-cli info does not name the key's user:\n%s", out)
	}
	if out := run("releases", "new", "web@2.0.0+build.7"); !strings.Contains(out, "Created release web@2.0.0+build.7") {
		t.Errorf("releases new:\n%s", out)
	}
	if out := run("releases", "list"); !strings.Contains(out, "web@2.0.0+build.7") || !strings.Contains(out, "(unreleased)") {
		t.Errorf("releases list before finalize:\n%s", out)
	}
	if out := run("releases", "finalize", "web@2.0.0+build.7"); !strings.Contains(out, "Finalized release web@2.0.0+build.7") {
		t.Errorf("releases finalize:\n%s", out)
	}
	if out := run("releases", "list"); strings.Contains(out, "(unreleased)") {
		t.Errorf("releases list after finalize still unreleased:\n%s", out)
	}
	if out := run("releases", "deploys", "web@2.0.0+build.7", "new", "-e", "production"); !strings.Contains(out, "production") {
		t.Errorf("deploys new:\n%s", out)
	}
	if out := run("releases", "info", "web@2.0.0+build.7"); !strings.Contains(out, "web@2.0.0+build.7") {
		t.Errorf("releases info:\n%s", out)
	}
	if out, err := sentryCLI(t, dir, sentryCLIEnv("no-such-project"), "--url", s.URL, "releases", "new", "x@1"); err == nil || !strings.Contains(out, "no-such-project") {
		t.Errorf("releases new for an unknown project: %v\n%s", err, out)
	}
}

// sentryCall sends one request to the sentry-cli API with the admin's key.
func sentryCall(t *testing.T, s *server, method, path, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// chunkBody is a chunk-upload multipart body: one file_gzip part per chunk, named as given.
func chunkBody(t *testing.T, parts map[string][]byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for name, data := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file_gzip"; filename="%s"`, name))
		h.Set("Content-Type", "application/octet-stream")
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		zw := gzip.NewWriter(w)
		zw.Write(data)
		zw.Close()
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func sha1Hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

type assembleAnswer struct {
	State         string   `json:"state"`
	MissingChunks []string `json:"missingChunks"`
	Detail        *string  `json:"detail"`
}

func assemble(t *testing.T, s *server, checksum string, chunks []string, projects ...string) (int, assembleAnswer) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"checksum": checksum, "chunks": chunks, "projects": projects})
	status, out := sentryCall(t, s, http.MethodPost, "/api/0/organizations/acme/artifactbundle/assemble/", "application/json", body)
	var a assembleAnswer
	if status == http.StatusOK {
		decodeInto(t, "assemble answer", out, &a)
	} else {
		t.Logf("assemble %s for %v: %d %s", checksum, projects, status, out)
	}
	return status, a
}

// TestReplaySentryCLIRecording replays what the real sentry-cli 3.8.0 sent
// (testdata/fixtures/sdk/sentry-cli/upload.json) with its recorded headers
// and bodies, the recorded token swapped for a personal API key: the
// options have the recorded shape, the first assemble reports the recorded
// chunk missing, and (the recording does not keep the chunk's bytes) the
// last assemble still reports it missing instead of claiming ok. A chunk
// upload in the recorded form whose content does not match its SHA-1 name
// is refused, and a recorded request without a valid key gets 401.
func TestReplaySentryCLIRecording(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testkit.Fixtures(t), "sdk", "sentry-cli", "upload.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Requests []struct {
			recordedRequest
			Response struct {
				Status int             `json:"status"`
				Body   json.RawMessage `json:"body"`
			} `json:"response"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Requests) != 4 {
		t.Fatalf("recording has %d requests, want 4", len(rec.Requests))
	}
	s := startServer(t, serverOptions{})
	// The recorded token is "x": unknown here.
	r0 := rec.Requests[0].recordedRequest
	if resp, body := replay(t, s, r0); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "not valid") {
		t.Errorf("recorded request with the recorded token: %d %s, want 401", resp.StatusCode, body)
	}
	withKey := func(r recordedRequest) recordedRequest {
		h := map[string]string{}
		for k, v := range r.Headers {
			h[k] = v
		}
		h["authorization"] = "Bearer " + apiKey
		r.Headers = h
		return r
	}
	// Options: every field the recorded answer had, with the upload URL on this server.
	resp, body := replay(t, s, withKey(r0))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("options: %d %s", resp.StatusCode, body)
	}
	var got, recorded map[string]any
	decodeInto(t, "options", body, &got)
	decodeInto(t, "recorded options", rec.Requests[0].Response.Body, &recorded)
	for k := range recorded {
		if _, ok := got[k]; !ok {
			t.Errorf("options lack %q: %s", k, body)
		}
	}
	if got["url"] != s.URL+"/api/0/organizations/o/chunk-upload/" || got["hashAlgorithm"] != "sha1" {
		t.Errorf("options: %s", body)
	}
	// The recorded project "p" is not a project here: refused with a sentence.
	r1 := withKey(rec.Requests[1].recordedRequest)
	if resp, body := replay(t, s, r1); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "SENTRY_PROJECT") {
		t.Errorf("assemble for project p: %d %s, want 400 naming SENTRY_PROJECT", resp.StatusCode, body)
	}
	// Rename the default project to "p" (the slug sentry-cli was given) and replay again.
	b := newBrowser(t, s)
	b.login(t)
	renameDefaultProject(t, b, "p")
	var chunkName string
	for i, want := range []string{"not_found", "", "not_found"} {
		r := withKey(rec.Requests[i+1].recordedRequest)
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/chunk-upload/") {
			// The recording keeps the part's form, not its bytes: send other bytes under the recorded name.
			body, ct := chunkBody(t, map[string][]byte{chunkName: []byte("not the recorded chunk")})
			status, out := sentryCall(t, s, http.MethodPost, r.Path, ct, body)
			if status != http.StatusBadRequest || !strings.Contains(string(out), "damaged") {
				t.Errorf("chunk whose content does not match its SHA-1: %d %s, want 400", status, out)
			}
			continue
		}
		resp, body := replay(t, s, r)
		var a assembleAnswer
		decodeInto(t, "assemble", body, &a)
		if resp.StatusCode != http.StatusOK || a.State != want || len(a.MissingChunks) != 1 {
			t.Errorf("replayed assemble %d: %d %s, want %s with the recorded chunk missing", i, resp.StatusCode, body, want)
		}
		chunkName = a.MissingChunks[0]
	}
	if n := s.database().Count(t, "SELECT COUNT(*) FROM upload_chunks"); n != 0 {
		t.Errorf("%d chunks stored after refused uploads", n)
	}
}

// renameDefaultProject renames project 1 on its settings page.
func renameDefaultProject(t *testing.T, b *browser, name string) {
	t.Helper()
	doc := b.get(t, "/settings/projects").Body
	f, ok := findForm(t, doc, func(f form) bool { return strings.HasSuffix(f.Action, "/settings/projects/1/rename") })
	if !ok {
		t.Fatal("no rename form for project 1 on /settings/projects")
	}
	f.Fields.Set("name", name)
	if p := b.postForm(t, f.Action, f.Fields); p.Status >= 400 {
		t.Fatalf("rename project 1: %d %s", p.Status, p.Body)
	}
}

// TestSentryCLIChunksAndAssembly: the chunk and assemble endpoints as
// sentry-cli uses them, with the failures it can meet: missing chunks
// reported in order, a chunk with the wrong SHA-1 refused and not stored,
// a bundle whose parts do not add up to its checksum, a zip bomb, no key.
func TestSentryCLIChunksAndAssembly(t *testing.T) {
	s := startServer(t, serverOptions{Env: []string{"STACKLENS_MAX_UPLOAD_BYTES=1048576"}})
	bundle, err := os.ReadFile(filepath.Join(testkit.RepoRoot(t), "artifactbundle", "testdata", "sentry-cli-3.8.0.sysb"))
	if err != nil {
		t.Fatal(err)
	}
	first, second := bundle[:1000], bundle[1000:]
	names := []string{sha1Hex(first), sha1Hex(second)}
	checksum := sha1Hex(bundle)

	if status, a := assemble(t, s, checksum, names, "1"); status != http.StatusOK || a.State != "not_found" || strings.Join(a.MissingChunks, ",") != strings.Join(names, ",") {
		t.Fatalf("assemble before upload: %d %+v", status, a)
	}
	// A chunk named by another content's SHA-1: 400, nothing kept.
	body, ct := chunkBody(t, map[string][]byte{names[0]: second})
	if status, out := sentryCall(t, s, http.MethodPost, "/api/0/organizations/acme/chunk-upload/", ct, body); status != http.StatusBadRequest || !strings.Contains(string(out), "damaged") {
		t.Errorf("bad chunk: %d %s", status, out)
	}
	body, ct = chunkBody(t, map[string][]byte{names[0]: first})
	if status, out := sentryCall(t, s, http.MethodPost, "/api/0/organizations/acme/chunk-upload/", ct, body); status != http.StatusOK {
		t.Fatalf("good chunk: %d %s", status, out)
	}
	if _, a := assemble(t, s, checksum, names, "1"); a.State != "not_found" || strings.Join(a.MissingChunks, ",") != names[1] {
		t.Errorf("assemble with one chunk uploaded: %+v, want only %s missing", a, names[1])
	}
	body, ct = chunkBody(t, map[string][]byte{names[1]: second})
	if status, out := sentryCall(t, s, http.MethodPost, "/api/0/organizations/acme/chunk-upload/", ct, body); status != http.StatusOK {
		t.Fatalf("second chunk: %d %s", status, out)
	}
	// The chunks in the wrong order do not make the bundle: error, nothing stored.
	if _, a := assemble(t, s, checksum, []string{names[1], names[0]}, "1"); a.State != "error" || a.Detail == nil || !strings.Contains(*a.Detail, "not the checksum") {
		t.Errorf("chunks out of order: %+v", a)
	}
	if _, a := assemble(t, s, checksum, names, "1"); a.State != "ok" || len(a.MissingChunks) != 0 {
		t.Fatalf("assemble: %+v", a)
	}
	set := waitForSymbolSet(t, s, "517b81d8-c6fd-5743-9d27-df64050f6eaa")
	if !set.HasUploadedFile {
		t.Errorf("bundle's symbol set not stored: %+v", set)
	}
	// A poll after ok still reads ok.
	if _, a := assemble(t, s, checksum, names, "1"); a.State != "ok" {
		t.Errorf("poll after ok: %+v", a)
	}

	// A zip bomb: a small zip whose entry inflates past the upload cap.
	var zbuf bytes.Buffer
	zw := newZip(&zbuf)
	zw.add(t, "manifest.json", []byte(`{"files":{"files/_/_/a.js.map":{"type":"source_map","url":"~/a.js.map","headers":{"debug-id":"00000000-0000-0000-0000-00000000000b"}}}}`))
	zw.add(t, "files/_/_/a.js.map", bytes.Repeat([]byte(" "), 64<<20))
	zw.close(t)
	bomb := zbuf.Bytes()
	if len(bomb) > 1<<20 {
		t.Fatalf("bomb is %d bytes: not small", len(bomb))
	}
	body, ct = chunkBody(t, map[string][]byte{sha1Hex(bomb): bomb})
	if status, out := sentryCall(t, s, http.MethodPost, "/api/0/organizations/acme/chunk-upload/", ct, body); status != http.StatusOK {
		t.Fatalf("bomb chunk: %d %s", status, out)
	}
	if _, a := assemble(t, s, sha1Hex(bomb), []string{sha1Hex(bomb)}, "1"); a.State != "error" || a.Detail == nil || !strings.Contains(*a.Detail, "larger than") {
		t.Errorf("zip bomb: %+v", a)
	}

	// One usable map and one broken one: error naming the broken one, neither stored.
	zbuf.Reset()
	zw = newZip(&zbuf)
	zw.add(t, "manifest.json", []byte(`{"files":{
		"files/_/_/good.js.map":{"type":"source_map","url":"~/good.js.map","headers":{"debug-id":"00000000-0000-0000-0000-0000000000c1"}},
		"files/_/_/bad.js.map":{"type":"source_map","url":"~/bad.js.map","headers":{"debug-id":"00000000-0000-0000-0000-0000000000c2"}}}}`))
	zw.add(t, "files/_/_/good.js.map", []byte(`{"version":3,"sources":["a.js"],"names":[],"mappings":"AAAA"}`))
	zw.add(t, "files/_/_/bad.js.map", []byte(`{"version":3,"mappings":`))
	zw.close(t)
	mixed := zbuf.Bytes()
	body, ct = chunkBody(t, map[string][]byte{sha1Hex(mixed): mixed})
	if status, out := sentryCall(t, s, http.MethodPost, "/api/0/organizations/acme/chunk-upload/", ct, body); status != http.StatusOK {
		t.Fatalf("mixed bundle chunk: %d %s", status, out)
	}
	if _, a := assemble(t, s, sha1Hex(mixed), []string{sha1Hex(mixed)}, "1"); a.State != "error" || a.Detail == nil || !strings.Contains(*a.Detail, "~/bad.js.map") {
		t.Errorf("bundle with a broken map: %+v", a)
	}
	if status, body := rawCall(t, http.MethodGet, symbolSetsAPI(s)+"/?status=all", nil); status != http.StatusOK || strings.Contains(string(body), "0000000000c1") {
		t.Errorf("a bundle refused for one broken map stored another: %s", body)
	}

	// Without a key, with an unknown project, with a body that is not JSON.
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/0/organizations/acme/chunk-upload/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("chunk-upload options without a key: %d", resp.StatusCode)
	}
	if status, _ := assemble(t, s, checksum, names, "42"); status != http.StatusBadRequest {
		t.Errorf("assemble for project 42: %d", status)
	}
	if status, out := sentryCall(t, s, http.MethodPost, "/api/0/organizations/acme/artifactbundle/assemble/", "application/json", []byte("{")); status != http.StatusBadRequest {
		t.Errorf("assemble with a broken body: %d %s", status, out)
	}
}

type zipBuilder struct{ w *zip.Writer }

func newZip(w io.Writer) zipBuilder { return zipBuilder{zip.NewWriter(w)} }

func (z zipBuilder) add(t *testing.T, name string, data []byte) {
	t.Helper()
	f, err := z.w.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
}

func (z zipBuilder) close(t *testing.T) {
	t.Helper()
	if err := z.w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSentryCLIUploadWithoutDebugIDs: a build that was never injected is
// refused with the sentence that says to inject it, and stores nothing.
func TestSentryCLIUploadWithoutDebugIDs(t *testing.T) {
	build := buildSentryBrowserApp(t)
	s := startServer(t, serverOptions{})
	out, err := sentryCLI(t, build, sentryCLIEnv("1"), "--url", s.URL, "sourcemaps", "upload", "--release", "r1", ".")
	if err == nil || !strings.Contains(out, "None of the bundle's source maps carries a debug id") || !strings.Contains(out, "sentry-cli sourcemaps inject") {
		t.Fatalf("upload of a build without debug ids: %v\n%s", err, out)
	}
	status, body := rawCall(t, http.MethodGet, symbolSetsAPI(s)+"/?status=all", nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"count":0`) {
		t.Errorf("symbol sets after the refused upload: %d %s", status, body)
	}
}
