package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// cspListener runs before any of a page's own scripts and records every
// securitypolicyviolation event the page raises.
const cspListener = `window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') +
    ' at ' + (e.sourceFile || location.pathname) + ':' + e.lineNumber + (e.sample ? ' (' + e.sample + ')' : ''));
});`

// tinyBundle serves a one-line minified file and its source map, so an
// event on it has a frame resolved to original code with context.
func tinyBundle(t *testing.T) *httptest.Server {
	t.Helper()
	source := "function boom() {\n  throw new Error('csp check');\n}\nboom();\n"
	mapJSON, _ := json.Marshal(map[string]any{
		"version": 3, "sources": []string{"src/boom.js"}, "sourcesContent": []string{source},
		"names": []string{"boom"}, "mappings": "AAAA,SAASA",
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/boom.min.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, "function a(){throw new Error('csp check')}a();\n//# sourceMappingURL=boom.min.js.map\n")
	})
	mux.HandleFunc("/boom.min.js.map", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(mapJSON)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// cspPage loads path in Chromium and returns the CSP violations it raised,
// from the injected listener and from the browser's log.
func cspPage(ctx context.Context, t *testing.T, base, path string, logged *[]string, mu *sync.Mutex) []string {
	t.Helper()
	mu.Lock()
	*logged = nil
	mu.Unlock()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+path),
		chromedp.WaitReady(chromedp.CSS("body")),
		// app.js is deferred; give late violations (script-made ones) a moment.
		chromedp.Sleep(200*time.Millisecond),
	)
	if err != nil {
		t.Fatalf("load %s in Chromium: %v", path, err)
	}
	seen, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__cspViolations || ['listener missing: the page ran no script at all']`))
	if err != nil {
		t.Fatalf("read the CSP violations of %s: %v", path, err)
	}
	mu.Lock()
	defer mu.Unlock()
	return append(seen, *logged...)
}

// TestEveryPageObeysCSPInChromium signs in through the login form in
// Chromium and loads every page (an issue with a frame resolved through a
// source map included): none may raise a Content-Security-Policy violation,
// and app.js and app.css must still load and run.
func TestEveryPageObeysCSPInChromium(t *testing.T) {
	bundle := tinyBundle(t)
	s := startServer(t, serverOptions{})
	ev := newException("CSPError", "csp check")
	frame := ev.Properties["$exception_list"].([]any)[0].(map[string]any)["stacktrace"].(map[string]any)["frames"].([]any)[0].(map[string]any)
	for _, k := range []string{"pre_context", "context_line", "post_context"} {
		delete(frame, k)
	}
	frame["platform"], frame["filename"], frame["function"], frame["lineno"], frame["colno"] = "web:javascript", bundle.URL+"/boom.min.js", "a", 1, 14
	postException(t, s, s.Token, ev)
	a := newAPI(s)
	issue := waitForIssues(t, a, 1)[0]
	waitFor(t, "the frame to resolve through the map", func(ctx context.Context) (bool, string, error) {
		evs, err := a.events(ctx, issue.ID.String(), 1)
		if err != nil || len(evs) == 0 || len(evs[0].ExceptionList) == 0 || len(evs[0].ExceptionList[0].Frames) == 0 {
			return false, "no event yet", err
		}
		f := evs[0].ExceptionList[0].Frames[0]
		return f.Resolved, fmt.Sprintf("%+v", f), nil
	})
	set := waitForSymbolSet(t, s, bundle.URL+"/boom.min.js")

	// A Sentry event with breadcrumbs, tags, user and contexts, for the
	// issue page's event facts (a markup and style of their own).
	sentryEvent := `{"event_id":"c5b0d6a1e2f34a5b8c9d0e1f2a3b4c5d","platform":"node","level":"error","environment":"production",
		"release":"csp@1.0.0","exception":{"values":[{"type":"SentryCSPError","value":"csp facts","stacktrace":{"frames":[
		{"filename":"/srv/app/csp.js","function":"run","lineno":3,"colno":9,"in_app":true}]}}]},
		"tags":{"region":"eu","flow":"checkout"},"user":{"id":"csp-user","email":"csp@example.test","ip_address":"203.0.113.7"},
		"contexts":{"runtime":{"name":"node","version":"v20.0.0"},"os":{"name":"Linux"},"browser":{"name":"Chrome","version":"120"}},
		"breadcrumbs":{"values":[{"timestamp":1767225600.5,"category":"http","level":"warning","data":{"url":"https://x.test/","status_code":502}},
		{"timestamp":1767225601,"category":"console","message":"retry"}]},"sdk":{"name":"sentry.javascript.node","version":"10.0.0"}}`
	if status, _, body := postSentry(t, s, "/api/1/store/?sentry_key="+s.Token, nil, []byte(sentryEvent)); status != http.StatusOK {
		t.Fatalf("Sentry event for the CSP check: %d %s", status, body)
	}
	sentryIssue, ok := issueNamed(waitForIssues(t, a, 2), "SentryCSPError", "csp facts")
	if !ok {
		t.Fatal("no issue for the Sentry event of the CSP check")
	}

	// A notification channel, for its page.
	b := newBrowser(t, s)
	b.login(t)
	mustAddChannel(t, b, "url", url.Values{"name": {"CSP hook"}, "url": {"http://127.0.0.1:9/hook"}, "format": {"json"}})
	var channelPath string
	for _, f := range forms(t, b.get(t, "/settings/notifications").Body, "/settings/notifications") {
		if strings.HasSuffix(f.Action, "/enabled") {
			channelPath = strings.TrimSuffix(f.Action, "/enabled")
		}
	}
	if channelPath == "" {
		t.Fatalf("/settings/notifications lists no channel")
	}

	// A pending invitation, for the page behind its link.
	invited := b.submit(t, "/settings/users", actionMatches(`/settings/users/invites$`), url.Values{"email": {"csp@stacklens.test"}, "role": {"member"}})
	inviteLink := elementTextByID(t, invited.Body, "new-invite-link")
	if !strings.HasPrefix(inviteLink, s.URL+"/invite/") {
		t.Fatalf("invite link %q", inviteLink)
	}

	var console syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", console.String())
		}
	})
	ctx := chromium(t, &console)
	ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	var mu sync.Mutex
	var logged []string
	if err := chromedp.Listen(ctx, func(e any) {
		if entry, ok := e.(*log.EventEntryAdded); ok {
			if text := entry.Entry.Text; strings.Contains(text, "Content Security Policy") || strings.Contains(text, "Refused to") {
				mu.Lock()
				logged = append(logged, "log: "+text)
				mu.Unlock()
			}
		}
	}); err != nil {
		t.Fatalf("listen to the browser log: %v", err)
	}
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the browser log: %v", err)
	}
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: cspListener}); err != nil {
		t.Fatalf("install the CSP listener: %v", err)
	}

	check := func(path string) {
		t.Helper()
		if v := cspPage(ctx, t, s.URL, path, &logged, &mu); len(v) > 0 {
			t.Errorf("%s: %d CSP violations:\n  %s", path, len(v), strings.Join(v, "\n  "))
		}
		styled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`[...document.styleSheets].some(s => s.cssRules.length > 0)`))
		if err != nil || !styled {
			t.Errorf("%s: app.css did not apply (err %v)", path, err)
		}
	}

	// Signed out: the login page, and signing in through it.
	check("/login")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), adminEmail),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), adminPassword),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`.sidebar`)),
	); err != nil {
		t.Fatalf("sign in through the form in Chromium: %v", err)
	}
	pages := []string{
		"/issues",
		"/issues/" + issue.ID.String(),
		"/issues/" + sentryIssue.ID.String(),
		"/issues?environment=production&tag=region:eu",
		"/settings/symbol-sets",
		"/settings/symbol-sets/" + set.ID,
		"/settings/symbol-sets/upload",
		"/settings/project",
		"/settings/projects",
		"/settings/projects/1/delete",
		"/settings/notifications",
		channelPath,
		"/settings/users",
		strings.TrimPrefix(inviteLink, s.URL),
		"/no/such/page",
	}
	for _, path := range pages {
		check(path)
	}

	// app.js ran under the policy: the issue page's JS-only controls are shown,
	// and the code context of the resolved frame is there.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/issues/"+issue.ID.String()),
		chromedp.WaitReady(chromedp.CSS("body")),
	); err != nil {
		t.Fatalf("open the issue page: %v", err)
	}
	if shown, err := chromedp.Run(ctx, chromedp.Poll[int](`document.querySelectorAll('[data-js-only]:not([hidden])').length`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil || shown == 0 {
		t.Errorf("issue page: app.js did not reveal its controls (%d shown, err %v)", shown, err)
	}
	code := elementText(ctx, t, "main")
	if !strings.Contains(code, "throw new Error('csp check');") {
		t.Errorf("issue page: the resolved frame's code is missing:\n%s", truncate(code, 2000))
	}

	// The Sentry issue's page rendered its event facts under the policy.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/issues/"+sentryIssue.ID.String()), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatalf("open the Sentry issue page: %v", err)
	}
	facts, err := chromedp.Run(ctx, chromedp.Evaluate[int](
		`['#breadcrumbs-title', '#highlights-title', '#tags-title', '#user-title', '[data-context=runtime]', '[data-context=browser]', '.crumb-crash']`+
			`.filter(s => document.querySelector(s)).length`))
	if err != nil || facts != 7 {
		t.Errorf("Sentry issue page: %d of its 7 event-fact sections in Chromium (err %v)", facts, err)
	}

	// The API key page after creating one: its copy button is app.js's.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/settings/project"),
		chromedp.WaitReady(chromedp.CSS(`input[name=label]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=label]`), "CSP key"),
		chromedp.Submit(chromedp.CSS(`input[name=label]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-copy]`)),
		chromedp.Sleep(200*time.Millisecond),
	); err != nil {
		t.Fatalf("create an API key in Chromium: %v", err)
	}
	if after, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__cspViolations`)); err != nil || len(after) > 0 {
		t.Errorf("API key created page: CSP violations %v (err %v)", after, err)
	}

	// Setup is only shown by a server without users.
	fresh := startServer(t, serverOptions{Env: []string{"STACKLENS_ADMIN_EMAIL=", "STACKLENS_ADMIN_PASSWORD=", "STACKLENS_API_KEY="}})
	if v := cspPage(ctx, t, fresh.URL, "/setup", &logged, &mu); len(v) > 0 {
		t.Errorf("/setup: CSP violations:\n  %s", strings.Join(v, "\n  "))
	}
	if title := elementText(ctx, t, "h1"); !strings.Contains(title, "admin") {
		t.Errorf("/setup in Chromium: heading %q, want the setup form", title)
	}
}
