package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestIssueListRowsAndActionsReadClearly: rows name the crash site (the
// original function and file once a source map resolved it); the filters
// have no Status select beside the tabs but keep the tab's status; the bulk
// bar offers only actions that change something on each tab; the issue
// page's Resolve is its own button and resolving in a release its own form.
func TestIssueListRowsAndActionsReadClearly(t *testing.T) {
	files := textFixtures(t)
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	b := newBrowser(t, s)
	b.login(t)
	postException(t, s, s.Token, newException("LedgerError", "ledger out of balance"))
	cartFile := files.URL + "/cart.min.js"
	postException(t, s, s.Token, withFrames(newException("CartError", "cart full"), webFrame(cartFile, "a", 1, 14)))
	byName := waitForTotal(t, a, 2)
	cart, ledger := byName["CartError"].ID, byName["LedgerError"].ID
	waitFor(t, "the cart frame to resolve", func(ctx context.Context) (bool, string, error) {
		evs, err := a.events(ctx, fmt.Sprint(cart), 1)
		if err != nil || len(evs) == 0 || len(evs[0].ExceptionList) == 0 || len(evs[0].ExceptionList[0].Frames) == 0 {
			return false, "no event yet", err
		}
		return evs[0].ExceptionList[0].Frames[0].Resolved, "", nil
	})

	list := b.get(t, "/issues")
	if row := pageText(t, issueRowHTML(t, list.Body, ledger)); !strings.Contains(row, "raiseLedgerError in app/LedgerError.js:3") {
		t.Errorf("the LedgerError row does not name its crash site raiseLedgerError in app/LedgerError.js:3: %q", row)
	}
	if row := pageText(t, issueRowHTML(t, list.Body, cart)); !strings.Contains(row, "addToCart in src/cart.js:1") || strings.Contains(row, "minified") {
		t.Errorf("the CartError row does not name its resolved crash site addToCart in src/cart.js:1: %q", row)
	}

	filters, ok := findForm(t, list.Body, func(f form) bool { return f.Method == http.MethodGet && f.has("q") })
	if !ok {
		t.Fatal("the list has no filter form")
	}
	if strings.Contains(list.Body, `<select name="status"`) {
		t.Errorf("the filter form still has a Status select beside the status tabs")
	}
	if filters.Fields.Get("status") != "active" {
		t.Errorf("the filter form does not keep the tab's status: %v", filters.Fields)
	}
	resolvedTab := b.get(t, "/issues?status=resolved&sort=users")
	if f, _ := findForm(t, resolvedTab.Body, func(f form) bool { return f.Method == http.MethodGet && f.has("q") }); f.Fields.Get("status") != "resolved" {
		t.Errorf("on the Resolved tab the filter form sends status %q", f.Fields.Get("status"))
	}

	bulkActions := func(status string) []string {
		t.Helper()
		body := b.get(t, "/issues?status="+status).Body
		var got []string
		for _, act := range []string{"resolve", "suppress", "reopen", "merge"} {
			if strings.Contains(body, `name="action" value="`+act+`"`) {
				got = append(got, act)
			}
		}
		return got
	}
	if got := fmt.Sprint(bulkActions("active")); got != "[resolve suppress merge]" {
		t.Errorf("bulk actions on the Active tab: %s, want no Reopen", got)
	}
	if err := a.do(t.Context(), http.MethodPatch, fmt.Sprintf("/issues/%d", ledger), map[string]string{"status": "resolved"}, nil); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(bulkActions("resolved")); got != "[suppress reopen merge]" {
		t.Errorf("bulk actions on the Resolved tab: %s", got)
	}
	if got := fmt.Sprint(bulkActions("all")); got != "[resolve suppress reopen merge]" {
		t.Errorf("bulk actions on the All tab: %s", got)
	}

	// The issue page: Resolve alone resolves; the release goes with its own form.
	path := fmt.Sprintf("/issues/%d", cart)
	statusURL := path + "/status"
	var plain, inRelease *form
	for _, f := range forms(t, b.get(t, path).Body, path) {
		if f.Action != statusURL {
			continue
		}
		if f.has("resolved_in_release") {
			inRelease = &f
		} else {
			plain = &f
		}
	}
	if plain == nil || inRelease == nil {
		t.Fatalf("issue page: want one status form without a release field and one with it (plain %v, in release %v)", plain, inRelease)
	}
	if inRelease.Fields.Get("status") != "resolved" {
		t.Errorf("the resolve-in-release form sends status %q", inRelease.Fields.Get("status"))
	}
	fields := url.Values{"_csrf": plain.Fields["_csrf"], "status": {"resolved"}}
	if got := b.postForm(t, statusURL, fields); got.Status != http.StatusSeeOther {
		t.Fatalf("Resolve: %d", got.Status)
	}
	if got := getTriage(t, a, cart); got.Status != "resolved" || got.ResolvedInRelease != nil {
		t.Errorf("after Resolve: %+v, want resolved with no release", got)
	}
	text := pageText(t, b.get(t, path).Body)
	if strings.Contains(text, "Resolve in release") {
		t.Errorf("a resolved issue still offers to resolve in a release:\n%s", truncate(text, 1500))
	}
}

// TestIssueListFiltersApplyWithoutApplyInChromium: with JavaScript on,
// choosing a sort or a release reloads the list with it (the Apply button is
// hidden), and the status tab stays.
func TestIssueListFiltersApplyWithoutApplyInChromium(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	postException(t, s, s.Token, triageEvent(triageSpec{Type: "OldRelError", Value: "old", User: "u1", Release: "1.0.0"}),
		triageEvent(triageSpec{Type: "NewRelError", Value: "new", User: "u2", Release: "2.0.0"}))
	byName := waitForTotal(t, a, 2)
	var console syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", console.String())
		}
	})
	ctx := chromium(t, &console)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	newRow := chromedp.CSS(fmt.Sprintf(`a.issue-link[href^="/issues/%d"]`, byName["NewRelError"].ID))
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), adminEmail),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), adminPassword),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(newRow),
		chromedp.Navigate(s.URL+"/issues?status=all"),
		chromedp.WaitVisible(newRow),
	); err != nil {
		t.Fatalf("sign in and open the list: %v", err)
	}
	if hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('form.filters button[type=submit]').hidden`)); err != nil || !hidden {
		t.Errorf("the Apply button is shown with JavaScript on (err %v)", err)
	}
	// Choose 1.0.0 as a person does: the select's value changes, then its change event fires.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const s = document.querySelector('select[name=release]');
		s.value = '1.0.0';
		return s.dispatchEvent(new Event('change', {bubbles: true}));
	})()`)); err != nil {
		t.Fatalf("choose release 1.0.0: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitNotPresent(newRow)); err != nil {
		t.Fatalf("the list did not reload with release 1.0.0: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search`))
	if err != nil || !strings.Contains(loc, "release=1.0.0") || !strings.Contains(loc, "status=all") {
		t.Errorf("after choosing a release the list is at %q (err %v), want release=1.0.0 and status=all kept", loc, err)
	}
}
