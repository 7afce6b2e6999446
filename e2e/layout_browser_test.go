package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// overflowCheck lists what sticks out of its box on the current page: the
// page itself scrolling sideways, and every element whose content is wider
// than its box, unless the element is a deliberate scroll container (class
// scroll-x, or a code block), cuts its text with an ellipsis, or sits inside
// one of those.
const overflowCheck = `(() => {
  const out = [];
  const vw = window.innerWidth;
  const doc = document.documentElement;
  if (doc.scrollWidth > vw) out.push('the page scrolls sideways: ' + doc.scrollWidth + 'px wide in a ' + vw + 'px window');
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    if (el.classList.length) s += '.' + [...el.classList].join('.');
    const p = el.parentElement;
    if (p && p !== document.body) s = describe(p).split(' > ').slice(-2).join(' > ') + ' > ' + s;
    return s;
  };
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.scroll-x, pre, .code, .visually-hidden, svg, [hidden], details:not([open]) > :not(summary)')) continue;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.display === 'inline' || cs.visibility === 'hidden' || el.clientWidth === 0) continue;
    if (cs.textOverflow === 'ellipsis') continue;
    // A text field scrolls its own value; only its box must fit.
    if (el.scrollWidth > el.clientWidth + 1 && !el.matches('input, textarea, select')) {
      out.push(describe(el) + ': content ' + el.scrollWidth + 'px wide in a ' + el.clientWidth + 'px box');
    }
    const r = el.getBoundingClientRect();
    if (r.right > vw + 1 && !el.closest('.scroll-x')) {
      out.push(describe(el) + ': reaches ' + Math.round(r.right) + 'px in a ' + vw + 'px window');
    }
  }
  return [...new Set(out)].slice(0, 20);
})()`

// visibleWithin reports elements matching selector that are not shown
// whole inside the window (or inside a scroll-x container the user can
// scroll), as "selector: why".
const visibleWithin = `((selector) => {
  const out = [];
  const els = document.querySelectorAll(selector);
  if (els.length === 0) return [selector + ': not on the page'];
  const vw = window.innerWidth;
  for (const el of els) {
    if (el.closest('[hidden], details:not([open]) > :not(summary)')) continue;
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    if (cs.display === 'none' || cs.visibility === 'hidden' || r.width === 0) { out.push(selector + ': hidden: ' + el.outerHTML.slice(0, 120)); continue; }
    if (el.closest('.scroll-x')) continue;
    if (r.left < -1 || r.right > vw + 1) out.push(selector + ': from ' + Math.round(r.left) + ' to ' + Math.round(r.right) + 'px in a ' + vw + 'px window');
  }
  return out;
})`

// TestEveryPageFitsPhoneAndLaptopInChromium loads every page at 390 px (a
// phone) and 1366 px (a laptop), saves a screenshot of each, and checks that
// nothing overflows its box and that the controls people need are on screen:
// the Projects table's rename field and actions, the top navigation, and
// the User and Release columns of an issue's events.
func TestEveryPageFitsPhoneAndLaptopInChromium(t *testing.T) {
	bundle := tinyBundle(t)
	s := startServer(t, serverOptions{})
	ev := triageEvent(triageSpec{Type: "LayoutError", Value: "a fairly long message about what went wrong while checking out the cart", User: "user-with-a-long-distinct-id-1234567890",
		Release: "2026.11.30-build.4711", URL: "https://shop.example.com/checkout/step/3?coupon=SPRING&ref=newsletter-campaign-november"})
	frame := ev.Properties["$exception_list"].([]any)[0].(map[string]any)["stacktrace"].(map[string]any)["frames"].([]any)[0].(map[string]any)
	for _, k := range []string{"pre_context", "context_line", "post_context"} {
		delete(frame, k)
	}
	frame["platform"], frame["filename"], frame["function"], frame["lineno"], frame["colno"] = "web:javascript", bundle.URL+"/boom.min.js", "a", 1, 14
	postException(t, s, s.Token, ev, withFrames(newException("MissingMapError", "frames without a map"),
		webFrame(bundle.URL+"/nomap.min.js", "x", 1, 5), webFrame(bundle.URL+"/nomap.min.js", "y", 1, 9)))
	a := newAPI(s)
	issues := waitForIssues(t, a, 2)
	set := waitForSymbolSet(t, s, bundle.URL+"/boom.min.js")

	b := newBrowser(t, s)
	b.login(t)
	mustAddChannel(t, b, "url", url.Values{"name": {"Layout hook with a long name"}, "url": {"https://hooks.example.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"}, "format": {"json"}})
	var channelPath string
	for _, f := range forms(t, b.get(t, "/settings/notifications").Body, "/settings/notifications") {
		if strings.HasSuffix(f.Action, "/enabled") {
			channelPath = strings.TrimSuffix(f.Action, "/enabled")
		}
	}
	b.submit(t, "/settings/users", actionMatches(`/settings/users/invites$`), url.Values{"email": {"layout@stacklens.test"}, "role": {"member"}})
	b.submit(t, "/settings/projects", actionMatches(`/settings/projects$`), url.Values{"name": {"A second project with a long name"}})

	var console syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", console.String())
		}
	})
	ctx := chromium(t, &console)
	ctx, cancel := context.WithTimeout(ctx, 240*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), adminEmail),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), adminPassword),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`.sidebar`)),
	); err != nil {
		t.Fatalf("sign in in Chromium: %v", err)
	}
	issuePaths := []string{}
	for _, is := range issues {
		issuePaths = append(issuePaths, "/issues/"+is.ID.String())
	}
	pages := append([]string{"/issues", "/issues?status=all&release=2026.11.30-build.4711"}, issuePaths...)
	pages = append(pages, "/settings/symbol-sets", "/settings/symbol-sets/"+set.ID, "/settings/symbol-sets/upload",
		"/settings/project", "/settings/projects", "/settings/projects/1/delete", "/settings/notifications", channelPath,
		"/settings/users", "/no/such/page")
	// What must be on screen, per page (checked at both widths).
	reachable := map[string][]string{
		"/issues":               {`.issue-row input[name=ids]`, `.bulk-bar button`, `nav.tabs a`},
		issuePaths[0]:           {`table.events td.user`, `table.events td.release`, `.issue-actions .btn`},
		"/settings/projects":    {`table.projects input[name=name]`, `table.projects button`, `table.projects a.btn`},
		"/settings/project":     {`form input:not([type=hidden])`, `form button`},
		"/settings/users":       {`form select`, `form button`},
		"/settings/symbol-sets": {`.sidebar .nav a`},
	}
	dir := t.ArtifactDir()
	for _, width := range []int64{390, 1366} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
			t.Fatalf("set the window to %d px: %v", width, err)
		}
		for _, path := range pages {
			if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+path), chromedp.WaitReady(chromedp.CSS("body")), chromedp.Sleep(150*time.Millisecond)); err != nil {
				t.Fatalf("load %s at %d px: %v", path, width, err)
			}
			shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("screenshot %s at %d px: %v", path, width, err)
			}
			name := fmt.Sprintf("%d-%s.png", width, strings.Trim(strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "-").Replace(path), "_"))
			if err := os.WriteFile(filepath.Join(dir, name), shot, 0o644); err != nil {
				t.Fatal(err)
			}
			problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](overflowCheck))
			if err != nil {
				t.Fatalf("check %s at %d px: %v", path, width, err)
			}
			for _, sel := range reachable[path] {
				missing, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](visibleWithin+"("+jsString(sel)+")"))
				if err != nil {
					t.Fatalf("check %s on %s: %v", sel, path, err)
				}
				problems = append(problems, missing...)
			}
			if len(problems) > 0 {
				t.Errorf("%s at %d px (screenshot %s):\n  %s", path, width, filepath.Join(dir, name), strings.Join(problems, "\n  "))
			}
		}
	}
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
