package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestTriageInChromium clicks through the pages as a person would: sign in,
// open the issue from the list, resolve it, and — after the error comes
// back — see the regression on the list and on the issue page; then tick
// it on the list and suppress it with the bulk bar.
func TestTriageInChromium(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	spec := triageSpec{Type: "WidgetError", Value: "widget fell over", User: "u1", Release: "3.1.0"}
	postException(t, s, s.Token, triageEvent(spec))
	is := waitForTotal(t, a, 1)["WidgetError"]

	var console syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", console.String())
		}
	})
	ctx := chromium(t, &console)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	issuePath := fmt.Sprintf("/issues/%d", is.ID)
	issueLink := chromedp.CSS(`a.issue-link[href="` + issuePath + `"]`)
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), adminEmail),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), adminPassword),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(issueLink),
		chromedp.Click(issueLink),
		chromedp.WaitVisible(chromedp.CSS(`form.status-form`)),
	)
	if err != nil {
		t.Fatalf("sign in and open the issue from the list: %v", err)
	}
	heading := elementText(ctx, t, `h1`)
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form.status-form button.btn-primary[value=resolved]`)),
		chromedp.WaitVisible(chromedp.CSS(`.issue-title .badge-resolved`)),
	)
	if err != nil {
		t.Fatalf("resolve the issue: %v", err)
	}
	if badges := elementText(ctx, t, `.issue-title .badges`); !strings.Contains(heading, "WidgetError") || !strings.Contains(badges, "Resolved") {
		t.Fatalf("issue page heading %q, badges %q", heading, badges)
	}
	if got := getTriage(t, a, is.ID); got.Status != "resolved" {
		t.Fatalf("after clicking Resolve the issue is %q", got.Status)
	}

	spec.Release = "3.1.1"
	postException(t, s, s.Token, triageEvent(spec))
	waitFor(t, "the issue to reopen", func(ctx context.Context) (bool, string, error) {
		got := getTriage(t, a, is.ID)
		return got.Status == "active", got.Status, nil
	})

	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/issues"),
		chromedp.WaitVisible(chromedp.CSS(`.issue-row .badge-regressed`)),
	); err != nil {
		t.Fatalf("see the regression on the list: %v", err)
	}
	rowBadge := elementText(ctx, t, `.issue-row .badge-regressed`)
	if err := chromedp.Do(ctx,
		chromedp.Click(issueLink),
		chromedp.WaitVisible(chromedp.CSS(`.issue-title .badge-regressed`)),
	); err != nil {
		t.Fatalf("open the regressed issue: %v", err)
	}
	pageBadge := elementText(ctx, t, `.issue-title .badge-regressed`)
	timeline := elementText(ctx, t, `.timeline`)
	// Tick the row's checkbox (above the row-wide link) and suppress it from the bulk bar.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/issues"),
		chromedp.Click(chromedp.CSS(`.issue-row input[name=ids]`)),
		chromedp.Click(chromedp.CSS(`.bulk-bar button[value=suppress]`)),
		chromedp.WaitVisible(chromedp.CSS(`.alert-success`)),
	); err != nil {
		t.Fatalf("tick the issue and suppress it from the list: %v", err)
	}
	if notice := elementText(ctx, t, `.alert-success`); notice != "1 issue suppressed." {
		t.Errorf("bulk notice %q", notice)
	}
	if got := getTriage(t, a, is.ID); got.Status != "suppressed" {
		t.Errorf("after the bulk suppress the issue is %q", got.Status)
	}
	if !strings.HasPrefix(rowBadge, "Regressed") || !strings.HasPrefix(pageBadge, "Regressed") {
		t.Errorf("regression badges: list %q, page %q", rowBadge, pageBadge)
	}
	if !strings.Contains(timeline, "reopened it as a regression: a new event came from release 3.1.1") ||
		!strings.Contains(timeline, adminEmail+" resolved it") {
		t.Errorf("timeline: %q", timeline)
	}
}

// elementText is the visible text of the first element matching a CSS selector.
func elementText(ctx context.Context, t *testing.T, selector string) string {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		t.Fatalf("read the text of %s: %v", selector, err)
	}
	return got
}
