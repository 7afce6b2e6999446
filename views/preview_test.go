package views

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/stacklens/stacklens/internal/testkit"
	"github.com/stacklens/stacklens/static"
)

func render(t *testing.T, c templ.Component) string {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	return buf.String()
}

func mustContain(t *testing.T, html string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(html, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func mustNotContain(t *testing.T, html string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(html, b) {
			t.Errorf("page contains %q", b)
		}
	}
}

// tagsRE strips markup so tests can look for text as a reader sees it.
var tagsRE = regexp.MustCompile(`<[^>]*>`)

func text(html string) string {
	return tagsRE.ReplaceAllString(html, "")
}

func TestLayoutNavigation(t *testing.T) {
	html := render(t, IssuesPage(sampleNav(SectionIssues), sampleIssues(time.Now())))
	mustContain(t, html,
		`<a class="nav-link active" href="/issues?project=1" aria-current="page">`,
		`href="/settings/symbol-sets?project=1"`, `href="/settings/project?project=1"`, `href="/settings/projects?project=1"`,
		// The switcher: a GET form to the section's list, the shown project selected.
		`<form class="project-switch" method="get" action="/issues">`,
		`<option value="1" selected>Storefront</option>`, `<option value="2">Back office</option>`,
		`<form method="post" action="/logout">`,
		`<input type="hidden" name="_csrf" value="csrf-token-123">`,
		"ada@example.com", "Storefront",
		`href="`+static.URL("app.css")+`"`, `src="`+static.URL("app.js")+`"`,
	)
	if strings.Contains(html, `href="/static/app.css"`) {
		t.Error("stylesheet is not content-hashed")
	}
}

func TestIssuesPage(t *testing.T) {
	now := time.Now()
	v := sampleIssues(now)
	html := render(t, IssuesPage(sampleNav(SectionIssues), v))
	mustContain(t, html,
		`href="/issues/17"`, "PaymentDeclinedError", "payment declined for order 42",
		"1,284", "3 minutes ago", "14 minutes ago", "2 hours ago", "just now",
		`title="`+absTime(v.Rows[0].LastSeen)+`"`,
		`datetime="`+isoTime(v.Rows[0].LastSeen)+`"`,
		"Cannot read properties of undefined (reading &#39;map&#39;)",
		`href="/issues?status=all&amp;page=2"`, "31 issues",
		`<a class="tab active" href="/issues?status=all" aria-current="page">All</a>`,
		`href="/issues?status=resolved"`,
		`<span class="badge badge-resolved">Resolved</span>`,
	)
	mustNotContain(t, html, "No exceptions yet")
}

func TestIssuesEmptyStateShowsSetup(t *testing.T) {
	v := IssuesView{Status: StatusActive, Setup: SetupHint{Token: "phc_abc123", Host: "http://127.0.0.1:8000", DSN: "http://phc_abc123@127.0.0.1:8000/1"}}
	html := render(t, IssuesPage(sampleNav(SectionIssues), v))
	mustContain(t, html, "No exceptions yet", "phc_abc123")
	mustContain(t, text(html), "posthog.init('phc_abc123', {", "api_host: 'http://127.0.0.1:8000',", "capture_exceptions: true",
		"new PostHog('phc_abc123', {", "enableExceptionAutocapture: true", "host='http://127.0.0.1:8000'",
		"npm install @sentry/browser", "npm install @sentry/node", "pip install sentry-sdk", "go get github.com/getsentry/sentry-go",
		"dsn: 'http://phc_abc123@127.0.0.1:8000/1'", `sentry_sdk.init(dsn="http://phc_abc123@127.0.0.1:8000/1")`,
		`sentry.ClientOptions{Dsn: "http://phc_abc123@127.0.0.1:8000/1"}`)

	resolved := render(t, IssuesPage(sampleNav(SectionIssues), IssuesView{Status: StatusResolved, Setup: v.Setup}))
	mustContain(t, resolved, "No Resolved issues")
	mustNotContain(t, resolved, "phc_abc123")
}

func TestIssuePage(t *testing.T) {
	html := render(t, IssuePage(sampleNav(SectionIssues), sampleIssue(time.Now())))
	plain := text(html)
	mustContain(t, html,
		`<span class="badge badge-unhandled">Unhandled</span>`,
		"onunhandledrejection", "1,284", "1 day ago", "3 minutes ago",
		`<span class="caused-by">Caused by</span>`,
		// The unresolved frame says why, linking to the symbol set.
		`<a href="/settings/symbol-sets/3">No source map: vendor.js has no sourceMappingURL and vendor.js.map answered 404</a>`,
		// Resolved frames keep the minified frame behind a toggle.
		"<summary>Minified frame</summary>", "Ng at http://127.0.0.1:8790/app.js:5:38410",
		// The error line is marked and numbered.
		`<tr class="error-line"><td class="ln">25</td>`,
		// Library frames are folded behind the show-all toggle.
		`id="show-all-frames"`, "2 library frames hidden", `<label class="run-fold" for="show-all-frames">`,
		// Status actions post the CSRF token.
		`action="/issues/17/status"`, `name="status" value="resolved"`,
		"Browser", "Chrome 156.0.7390.54", "posthog-js 1.449.2",
	)
	// Code context appears as text (highlighting only wraps tokens).
	mustContain(t, plain,
		"    throw new PaymentDeclinedError('payment declined for order ' + order.id, { cause: err });",
		"    throw new TypeError(`amount must be a number, got ${typeof raw}`);",
		"  return checkout(order);",
		"src/orders.js:25:11",
	)
	if strings.Count(html, `<tr class="error-line">`) != 7 {
		t.Errorf("want one error line per frame with code (7), got %d", strings.Count(html, `<tr class="error-line">`))
	}
	// The crash site in app code starts expanded, the others closed.
	if strings.Count(html, `<details class="frame-details" open>`) != 2 {
		t.Errorf("want the first in-app frame of each exception open, got %d open", strings.Count(html, `<details class="frame-details" open>`))
	}
	// Client data is escaped everywhere, including the raw JSON.
	mustNotContain(t, html, "<script>alert(1)</script>")
	mustContain(t, html, "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;")
}

func TestIssuePageFramesWithoutAppCode(t *testing.T) {
	v := sampleIssue(time.Now())
	v.Event.Exceptions = []ExceptionView{{Type: "Error", Value: "x", Frames: []FrameView{
		{Function: "processTicksAndRejections", File: "node:internal/process/task_queues", Line: 95, Column: 5},
	}}}
	html := render(t, IssuePage(sampleNav(SectionIssues), v))
	mustContain(t, html, `class="exception no-app-frames"`, "processTicksAndRejections", "node:internal/process/task_queues:95:5")
	mustNotContain(t, html, "Unhandled", "Caused by")
}

func TestLoginAndSetupPages(t *testing.T) {
	login := render(t, LoginPage(LoginView{Email: "ada@example.com", Error: "Wrong email or password <b>", CSRF: "tok", Next: "/issues/17"}))
	mustContain(t, login, `action="/login"`, `name="email"`, `value="ada@example.com"`, `name="password"`,
		`name="_csrf" value="tok"`, `name="next" value="/issues/17"`, "Wrong email or password &lt;b&gt;")
	mustNotContain(t, login, "nav-link", "/logout")

	setup := render(t, SetupPage(SetupView{CSRF: "tok2"}))
	mustContain(t, setup, `action="/setup"`, `name="email"`, `name="password"`, `name="password_confirm"`, `name="_csrf" value="tok2"`)
	mustNotContain(t, setup, "alert-error")
}

func TestErrorPage(t *testing.T) {
	anon := render(t, ErrorPage(nil, http.StatusNotFound, "No issue #99 in this project."))
	mustContain(t, anon, "404", "Not Found", "No issue #99 in this project.", `href="/login"`)
	mustNotContain(t, anon, "/logout")

	nav := sampleNav("")
	signed := render(t, ErrorPage(&nav, http.StatusInternalServerError, ""))
	mustContain(t, signed, "500", "Internal Server Error", "/logout", `href="/issues"`)
}

// TestScreenshots renders the main pages in headless Chromium at laptop and
// phone widths, in light and dark. The PNGs go to $STACKLENS_SHOTS_DIR, or a
// temporary folder; look at them when changing the pages.
func TestScreenshots(t *testing.T) {
	chromium := testkit.Chromium(t)
	now := time.Now()
	pages := map[string]templ.Component{
		"/issues":   IssuesPage(sampleNav(SectionIssues), sampleIssues(now)),
		"/issue":    IssuePage(sampleNav(SectionIssues), sampleIssue(now)),
		"/empty":    IssuesPage(sampleNav(SectionIssues), IssuesView{Status: StatusActive, Setup: SetupHint{Token: "phc_7Hq2xYbN4kPz", Host: "http://127.0.0.1:8000"}}),
		"/login":    LoginPage(LoginView{Error: "Wrong email or password."}),
		"/notfound": ErrorPage(nil, 404, "This page does not exist."),
	}
	mux := http.NewServeMux()
	mux.Handle("/static/", static.Handler())
	for path, c := range pages {
		mux.Handle(path, templ.Handler(c))
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()

	dir := os.Getenv("STACKLENS_SHOTS_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.UserDataDir(t.TempDir()))
	for _, f := range testkit.ChromiumFlags() {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if hasValue {
			opts = append(opts, chromedp.Flag(name, value))
		} else {
			opts = append(opts, chromedp.Flag(name, true))
		}
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()

	shots := []struct {
		name, path string
		width      int64
		dark       bool
	}{
		{"issue-1280", "/issue", 1280, false},
		{"issue-390", "/issue", 390, false},
		{"issue-1280-dark", "/issue", 1280, true},
		{"issues-1280", "/issues", 1280, false},
		{"issues-390", "/issues", 390, false},
		{"empty-1280", "/empty", 1280, false},
		{"login-390", "/login", 390, false},
		{"notfound-1280-dark", "/notfound", 1280, true},
	}
	for _, s := range shots {
		scheme := "light"
		if s.dark {
			scheme = "dark"
		}
		var png []byte
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(s.width, 800, func(p *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
				p.Mobile = s.width < 600
			}),
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
				})
				return err
			}),
			chromedp.Navigate(srv.URL+s.path),
			chromedp.WaitReady(chromedp.CSS("body")),
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				var err error
				png, err = chromedp.FullScreenshot(100)(ctx, tg)
				return err
			}),
		)
		if err != nil {
			t.Fatalf("screenshot %s: %v", s.name, err)
		}
		file := filepath.Join(dir, s.name+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", file)
	}

	// The page behaves as promised in a real browser: library frames are
	// folded until the toggle is clicked (CSS only), and app.js reveals the
	// controls that need it.
	visible := func() bool {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('.run-frames').offsetHeight > 0`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/issue"), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatal(err)
	}
	if visible() {
		t.Error("library frames are shown before asking")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("label.run-fold"))); err != nil {
		t.Fatal(err)
	}
	if !visible() {
		t.Error("library frames stay hidden after clicking the fold")
	}
	revealed, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.querySelector('[data-frames=expand]').hidden`))
	if err != nil || !revealed {
		t.Errorf("app.js did not reveal the JS-only controls (err %v)", err)
	}
}
