package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stacklens/stacklens/internal/testkit"
)

// buildBrowserApp bundles e2e/clients/browser with esbuild (--bundle --minify
// --sourcemap, as the fixtures were built) into a temp dir beside index.html.
// The sources are copied to <dir>/src first so the map names them src/app.js
// and src/orders.js rather than a path that depends on the checkout.
func buildBrowserApp(t *testing.T) string {
	t.Helper()
	modules := testkit.NodeModules(t)
	testkit.Node(t)
	from := filepath.Join(clientsDir(t), "browser")
	out := t.TempDir()
	for _, name := range []string{"app.js", "orders.js", "index.html"} {
		dst := filepath.Join(out, "src", name)
		if name == "index.html" {
			dst = filepath.Join(out, name)
		}
		copyFile(t, filepath.Join(from, name), dst)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(modules, ".bin", "esbuild"), "src/app.js",
		"--bundle", "--minify", "--sourcemap", "--outfile=app.js")
	cmd.Dir = out
	// esbuild resolves bare imports (posthog-js) through NODE_PATH too.
	cmd.Env = append(baseEnv(), "NODE_PATH="+modules)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("esbuild the browser app: %v\n%s", err, msg)
	}
	return out
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatalf("read %s: %v", from, err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatalf("mkdir for %s: %v", to, err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatalf("write %s: %v", to, err)
	}
}

// requestLog records the paths a test HTTP server was asked for.
type requestLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.paths = append(l.paths, r.URL.Path)
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *requestLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.paths, " ")
}

// posthogAssets serves posthog-js's dist files as /static/{version}/{file}
// (and /static/{file}), the target of STACKLENS_POSTHOG_ASSETS_URL.
func posthogAssets(t *testing.T, log *requestLog) *httptest.Server {
	t.Helper()
	dist := filepath.Join(testkit.NodeModules(t), "posthog-js", "dist")
	files := http.FileServer(http.Dir(dist))
	srv := httptest.NewServer(log.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if len(parts) < 2 || parts[0] != "static" {
			http.NotFound(w, r)
			return
		}
		name := parts[len(parts)-1]
		if !strings.HasSuffix(name, ".js") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", "*")
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + name
		files.ServeHTTP(w, r2)
	})))
	t.Cleanup(srv.Close)
	return srv
}

// chromium starts a fresh headless Chromium (own user-data-dir) and returns a
// chromedp context for one tab; the tab's console and uncaught page errors are
// copied to console.
func chromium(t *testing.T, console *syncBuffer) context.Context {
	t.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(testkit.Chromium(t)),
		chromedp.UserDataDir(t.TempDir()),
	)
	for _, f := range testkit.ChromiumFlags() {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if hasValue {
			opts = append(opts, chromedp.Flag(name, value))
		} else {
			opts = append(opts, chromedp.Flag(name, true))
		}
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	messages := chromedp.Console(ctx)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		for m, err := range messages {
			if err != nil {
				return
			}
			fmt.Fprintln(console, m.String())
		}
	}()
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		<-copied
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// TestPosthogJSInChromium loads a minified app using the real posthog-js in
// headless Chromium, from another origin than stacklens, and checks that a
// manual captureException, an autocaptured uncaught error and an autocaptured
// unhandled rejection become three issues whose minified frames are shown
// with their original names and code.
func TestPosthogJSInChromium(t *testing.T) {
	appDir := buildBrowserApp(t)
	var assetRequests requestLog
	assets := posthogAssets(t, &assetRequests)
	s := startServer(t, serverOptions{AssetsURL: assets.URL})
	app := httptest.NewServer(http.FileServer(http.Dir(appDir)))
	t.Cleanup(app.Close)

	var console syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser console:\n%s\nasset server requests: %s", console.String(), assetRequests.String())
		}
	})
	ctx := chromium(t, &console)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	pageURL := app.URL + "/index.html?" + url.Values{"host": {s.URL}, "token": {s.Token}}.Encode()
	err := chromedp.Do(ctx,
		chromedp.Navigate(pageURL),
		chromedp.Poll[chromedp.Void](`window.stacklensReady && window.stacklensReady()`,
			chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		t.Fatalf("load %s and wait for exception autocapture to start: %v", pageURL, err)
	}
	if !strings.Contains(assetRequests.String(), "/exception-autocapture.js") {
		t.Errorf("exception-autocapture.js was not fetched from the asset origin; it got: %s", assetRequests.String())
	}
	for _, button := range []string{"#manual", "#uncaught", "#rejection"} {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(button))); err != nil {
			t.Fatalf("click %s: %v", button, err)
		}
	}

	a := newAPI(s)
	issues := waitForIssues(t, a, 3)
	b := newBrowser(t, s)
	b.login(t)
	checkIssueList(t, b, issues)
	// crash lists, per exception, the original function of the crash-site
	// frame and its line of original code: the page must show both.
	cases := []struct {
		name, value string
		handled     bool
		chain       [][2]string
		crash       [][2]string
	}{
		{"Error", "browser e2e manual boom", true, [][2]string{{"Error", "browser e2e manual boom"}},
			[][2]string{{"deepest", "throw new Error(message);"}}},
		{"RangeError", "browser e2e uncaught explosion", false, [][2]string{{"RangeError", "browser e2e uncaught explosion"}},
			[][2]string{{"explodeUncaught", "throw new RangeError('browser e2e uncaught explosion');"}}},
		{"CheckoutRejectedError", "browser e2e checkout ord_browser rejected", false, [][2]string{
			{"CheckoutRejectedError", "browser e2e checkout ord_browser rejected"},
			{"TypeError", "browser e2e amount is undefined"},
		}, [][2]string{
			{"checkout", "throw new CheckoutRejectedError('browser e2e checkout ' + order.id + ' rejected', { cause: err });"},
			{"chargeCard", "throw new TypeError('browser e2e amount is ' + typeof amount);"},
		}},
	}
	for _, c := range cases {
		is, ok := issueNamed(issues, c.name, c.value)
		if !ok {
			t.Errorf("no issue %s: %q in %s", c.name, c.value, describeIssues(issues))
			continue
		}
		ev := onlyEvent(t, a, is)
		checkExceptions(t, ev, c.chain)
		var texts []string
		for _, tv := range c.chain {
			texts = append(texts, tv[0], tv[1])
		}
		// The minified frames resolve through the map fetched from the app's
		// origin: original function names, files and code on the page.
		for i, want := range c.crash {
			if i >= len(ev.ExceptionList) || len(ev.ExceptionList[i].Frames) == 0 {
				continue
			}
			frames := ev.ExceptionList[i].Frames
			crash := frames[len(frames)-1]
			if !crash.Resolved || crash.ResolvedName != want[0] || !strings.HasSuffix(crash.Source, "orders.js") {
				t.Errorf("%s: crash site of %s resolved to %q in %q (resolved=%v, failure %q), want %s in orders.js",
					c.name, ev.ExceptionList[i].Type, crash.ResolvedName, crash.Source, crash.Resolved, crash.ResolveFailure, want[0])
			}
			texts = append(texts, want[0], want[1])
		}
		checkIssuePage(t, b, is.ID.String(), pageExpectation{Texts: texts})
		if h := ev.ExceptionList[0].Mechanism["handled"]; h != c.handled {
			t.Errorf("%s: mechanism.handled = %v, want %v", c.name, h, c.handled)
		}
		for _, ex := range ev.ExceptionList {
			if len(ex.Frames) == 0 {
				t.Errorf("%s: %s has no frames", c.name, ex.Type)
			}
			for _, f := range ex.Frames {
				if f.Platform != "web:javascript" {
					t.Errorf("%s: frame %s platform %q, want web:javascript", c.name, describeFrame(f), f.Platform)
				}
			}
		}
		logFrames(t, c.name, ev)
	}
}
