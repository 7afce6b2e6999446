package e2e

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// cliRun is one finished run of the stacklens binary.
type cliRun struct {
	code           int
	stdout, stderr string
}

// runCLI runs the stacklens binary with args and only the given extra
// environment (no POSTHOG_CLI_* or STACKLENS_* of the test's own).
func runCLI(t *testing.T, env []string, args ...string) cliRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binaryPath, args...)
	cmd.Env = append(baseEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	run := cliRun{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		run.code = exitErr.ExitCode()
	default:
		t.Fatalf("run stacklens %s: %v", strings.Join(args, " "), err)
	}
	return run
}

func (r cliRun) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// cliFrame is a stored frame with the chunk id posthog-js stamped on it.
type cliFrame struct {
	apiFrame
	ChunkID string `json:"chunk_id"`
}

type cliEvent struct {
	ExceptionList []struct {
		Type   string     `json:"type"`
		Frames []cliFrame `json:"frames"`
	} `json:"exception_list"`
}

// TestSourcemapProcessThenChromium runs `stacklens sourcemap process` on an
// esbuild bundle of an app using posthog-js, deploys the build without its
// maps, throws in Chromium, and checks that the frames carry the injected
// chunk id and resolve to the original names through the uploaded maps alone.
func TestSourcemapProcessThenChromium(t *testing.T) {
	appDir := buildBrowserApp(t)
	var assetRequests requestLog
	assets := posthogAssets(t, &assetRequests)
	s := startServer(t, serverOptions{AssetsURL: assets.URL})

	run := runCLI(t, nil, "sourcemap", "process", appDir, "--host", s.URL, "--api-key", apiKey, "--project", "1")
	if run.code != 0 {
		t.Fatalf("sourcemap process failed:\n%s", run)
	}
	js, err := os.ReadFile(filepath.Join(appDir, "app.js"))
	if err != nil {
		t.Fatal(err)
	}
	chunkID := lastChunkID(string(js))
	if chunkID == "" || !bytes.HasPrefix(js, []byte(`!function(){try{var e="undefined"!=typeof window?window:`)) {
		t.Fatalf("app.js was not injected (chunk id %q):\n%.300s", chunkID, js)
	}
	if !strings.Contains(run.stdout, "injected "+chunkID) || !strings.Contains(run.stdout, "upload: 1 sent") {
		t.Errorf("process output does not report the injection and the upload:\n%s", run)
	}

	// Uploading again, configured by posthog-cli's environment variables
	// only, succeeds too; --delete-after then removes the maps so they are not
	// deployed.
	again := runCLI(t, []string{"POSTHOG_CLI_HOST=" + s.URL, "POSTHOG_CLI_API_KEY=" + apiKey, "POSTHOG_CLI_PROJECT_ID=1"},
		"sourcemap", "upload", "--directory", appDir, "--delete-after")
	if again.code != 0 {
		t.Fatalf("second upload failed:\n%s", again)
	}
	if !strings.Contains(again.stdout, "upload: 0 sent, 1 already on the server") {
		t.Errorf("the same content was sent again (its SHA-512 should match the stored set):\n%s", again)
	}
	if _, err := os.Stat(filepath.Join(appDir, "app.js.map")); !os.IsNotExist(err) {
		t.Errorf("--delete-after left app.js.map (stat: %v)", err)
	}

	var appRequests requestLog
	app := httptest.NewServer(appRequests.wrap(http.FileServer(http.Dir(appDir))))
	t.Cleanup(app.Close)
	var console syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser console:\n%s\napp server requests: %s", console.String(), appRequests.String())
		}
	})
	ctx := chromium(t, &console)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	pageURL := app.URL + "/index.html?" + url.Values{"host": {s.URL}, "token": {s.Token}}.Encode()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(pageURL),
		chromedp.Poll[chromedp.Void](`window.stacklensReady && window.stacklensReady()`, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Click(chromedp.CSS("#manual")),
	); err != nil {
		t.Fatalf("load %s and click: %v", pageURL, err)
	}

	a := newAPI(s)
	issues := waitForIssues(t, a, 1)
	var crash cliFrame
	waitFor(t, "the crash frame resolved", func(ctx context.Context) (bool, string, error) {
		var page struct {
			Results []cliEvent `json:"results"`
		}
		if err := a.do(ctx, http.MethodGet, "/issues/"+issues[0].ID.String()+"/events?limit=10", nil, &page); err != nil {
			return false, "", err
		}
		if len(page.Results) == 0 || len(page.Results[0].ExceptionList) == 0 || len(page.Results[0].ExceptionList[0].Frames) == 0 {
			return false, "no frames yet", nil
		}
		frames := page.Results[0].ExceptionList[0].Frames
		crash = frames[len(frames)-1]
		return crash.Resolved, describeFrame(crash.apiFrame) + " failure " + crash.ResolveFailure, nil
	})
	if crash.ChunkID != chunkID {
		t.Errorf("crash frame chunk_id = %q, want the injected %q", crash.ChunkID, chunkID)
	}
	if crash.ResolvedName != "deepest" || !strings.HasSuffix(crash.Source, "orders.js") {
		t.Errorf("crash frame resolved to %q in %q, want deepest in orders.js", crash.ResolvedName, crash.Source)
	}
	if strings.Contains(appRequests.String(), ".map") {
		t.Errorf("a source map was requested from the app server: %s", appRequests.String())
	}
}

// lastChunkID reads the "//# chunkId=" comment inject appends.
func lastChunkID(js string) string {
	i := strings.LastIndex(js, "\n//# chunkId=")
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(js[i+len("\n//# chunkId="):])
}

// smallBuild writes a one-file build with its map.
func smallBuild(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"app.js":     "function a(){throw new Error(\"x\")}a();\n//# sourceMappingURL=app.js.map\n",
		"app.js.map": `{"version":3,"sources":["src/a.js"],"sourcesContent":["function a() {\n  throw new Error('x')\n}\na()\n"],"names":["a"],"mappings":"AAAA,SAASA"}`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestSourcemapCLIErrors(t *testing.T) {
	s := startServer(t, serverOptions{})
	cases := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"wrong API key", []string{"sourcemap", "process", smallBuild(t), "--host", s.URL, "--api-key", "phx_wrong", "--project", "1"},
			1, []string{"401 from " + s.URL, "the API key is not valid"}},
		{"unreachable host", []string{"sourcemap", "upload", injectedBuild(t), "--host", "http://" + freeLoopbackAddr(t), "--api-key", apiKey},
			1, []string{"cannot reach 127.0.0.1:"}},
		{"no files", []string{"sourcemap", "process", t.TempDir(), "--host", s.URL, "--api-key", apiKey},
			1, []string{"no minified .js, .mjs or .cjs file with a source map was found"}},
		{"missing directory", []string{"sourcemap", "inject", filepath.Join(t.TempDir(), "nope")},
			1, []string{"does not exist"}},
		{"not injected", []string{"sourcemap", "upload", smallBuild(t), "--host", s.URL, "--api-key", apiKey},
			1, []string{"has no chunk id", "sourcemap inject"}},
		{"unknown flag", []string{"sourcemap", "upload", "--bogus", smallBuild(t)}, 2, []string{"flag provided but not defined: -bogus"}},
		{"no API key", []string{"sourcemap", "upload", smallBuild(t)}, 2, []string{"no API key"}},
		{"no directory", []string{"sourcemap", "inject"}, 2, []string{"no directory given"}},
		{"unknown command", []string{"sourcemap", "send", "x"}, 2, []string{`unknown sourcemap command "send"`}},
		{"help", []string{"sourcemap", "process", "--help"}, 0, []string{"-api-key", "-host", "-project", "-release"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := runCLI(t, nil, c.args...)
			if run.code != c.code {
				t.Errorf("exit code %d, want %d\n%s", run.code, c.code, run)
			}
			for _, want := range c.contains {
				if !strings.Contains(run.stderr+run.stdout, want) {
					t.Errorf("output lacks %q\n%s", want, run)
				}
			}
		})
	}
}

// injectedBuild is smallBuild after `stacklens sourcemap inject`.
func injectedBuild(t *testing.T) string {
	t.Helper()
	dir := smallBuild(t)
	if run := runCLI(t, nil, "sourcemap", "inject", dir); run.code != 0 {
		t.Fatalf("inject: %s", run)
	}
	return dir
}

// A chunk id the server holds with other content is a conflict: the upload
// fails and says so, unless --skip-on-conflict (kept) or --force (replaced).
func TestSourcemapUploadConflicts(t *testing.T) {
	s := startServer(t, serverOptions{})
	dir := injectedBuild(t)
	upload := func(extra ...string) cliRun {
		return runCLI(t, nil, append([]string{"sourcemap", "upload", dir, "--host", s.URL, "--api-key", apiKey, "--project", "1"}, extra...)...)
	}
	if run := upload(); run.code != 0 {
		t.Fatalf("first upload: %s", run)
	}
	mapPath := filepath.Join(dir, "app.js.map")
	b, err := os.ReadFile(mapPath)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(b), `throw new Error('x')`, `throw new Error('y')`, 1)
	if changed == string(b) {
		t.Fatal("could not change the map's source")
	}
	if err := os.WriteFile(mapPath, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	if run := upload(); run.code != 1 || !strings.Contains(run.stderr, "409") {
		t.Errorf("conflicting upload: exit %d, want 1 with the 409 explained\n%s", run.code, run)
	}
	if run := upload("--skip-on-conflict"); run.code != 0 || !strings.Contains(run.stdout, "0 sent") {
		t.Errorf("--skip-on-conflict: exit %d, want 0 with nothing sent\n%s", run.code, run)
	}
	if run := upload("--force"); run.code != 0 || !strings.Contains(run.stdout, "1 sent") {
		t.Errorf("--force: exit %d, want 0 with the map sent\n%s", run.code, run)
	}
	if run := upload(); run.code != 0 || !strings.Contains(run.stdout, "1 already on the server") {
		t.Errorf("after --force the server should hold the new content\n%s", run)
	}
}
