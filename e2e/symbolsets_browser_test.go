package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stacklens/stacklens/internal/testkit"
)

// TestSymbolSetUploadInChromium: events recorded from posthog-js point at a
// bundle served without its map, so their symbol set is missing. A person in
// a real browser finds it, is warned when uploading the map of another
// build, gets a clear refusal for a garbage file (nothing changes either
// time), then uploads the right map and sees the frames resolved.
func TestSymbolSetUploadInChromium(t *testing.T) {
	bundle := serveBundleWithoutMap(t)
	s := startServer(t, serverOptions{})
	postEvents(t, s, manualCaptureEvents(t, s.Token, bundle.URL, nil))
	a := newAPI(s)
	waitForIssues(t, a, 2)
	ref := bundle.URL + "/app.js"
	set := waitForSymbolSet(t, s, ref)
	if set.HasUploadedFile || set.FailureCode == nil || *set.FailureCode != "no_sourcemap_url" {
		t.Fatalf("symbol set of a bundle without map: %+v, want missing with no_sourcemap_url", set)
	}

	dir := t.TempDir()
	rightMap := filepath.Join(dir, "right", "app.js.map")
	otherMap := filepath.Join(dir, "other", "app.js.map")
	garbage := filepath.Join(dir, "garbage.map")
	copyFile(t, filepath.Join(testkit.Fixtures(t), "bundles", "posthog-browser", "app.js.map"), rightMap)
	copyFile(t, filepath.Join(testkit.Fixtures(t), "bundles", "sentry-browser", "app.js.map"), otherMap)
	if err := os.WriteFile(garbage, []byte("<html>404 not found</html>"), 0o644); err != nil {
		t.Fatal(err)
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
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("%s: %v\npage text: %s", what, err, truncate(foldSpace(text), 3000))
		}
	}
	// waitText polls the page's text; a navigation in between (a redirect
	// after an upload) only makes one poll fail.
	waitText := func(what, text string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		var body string
		for time.Now().Before(deadline) {
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			if err == nil && strings.Contains(got, text) {
				return
			}
			if err == nil {
				body = got
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("%s: the page never showed %q; it shows: %s", what, text, truncate(foldSpace(body), 3000))
	}
	run("log in",
		chromedp.Navigate(s.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), adminEmail),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), adminPassword),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`.sidebar`)),
	)
	run("open the missing symbol sets", chromedp.Navigate(s.URL+"/settings/symbol-sets?status=missing"))
	waitText("the list shows the missing set", "app.js")
	listText, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(`table.symbol-sets tbody`)))
	if err != nil {
		t.Fatalf("read the list: %v", err)
	}
	if !strings.Contains(listText, "Missing") || !strings.Contains(listText, "10") {
		t.Errorf("list row should say Missing and count the 10 distinct frames: %q", foldSpace(listText))
	}
	run("open the symbol set", chromedp.Click(chromedp.CSS(`a.issue-link[title="`+ref+`"]`)))
	waitText("the diagnosis shows the steps tried", "fetch minified file")
	waitText("the diagnosis gives advice", "Build with source maps on")

	upload := func(what string, files map[string]string) {
		t.Helper()
		var actions []chromedp.Action[chromedp.Void]
		for input, path := range files {
			actions = append(actions, chromedp.SetUploadFiles(chromedp.CSS(`form[data-upload] input[name=`+input+`]`), []string{path}))
		}
		actions = append(actions, chromedp.Click(chromedp.CSS(`form[data-upload] button[type=submit]`)))
		run(what, actions...)
	}
	// Another build's map: refused with the match check's warning.
	upload("upload another build's map", map[string]string{"source_map": otherMap})
	waitText("warned about another build", "frames map to nothing in this map: it is probably from another build")
	if got := getSymbolSet(t, s, set.ID); got.HasUploadedFile {
		t.Fatalf("a refused upload stored a file: %+v", got)
	}
	// Garbage: refused with a clear reason.
	upload("upload garbage", map[string]string{"source_map": garbage})
	waitText("told the file is not a map", "This file is not a usable source map")
	if got := getSymbolSet(t, s, set.ID); got.HasUploadedFile {
		t.Fatalf("a garbage upload stored a file: %+v", got)
	}
	// The right map: stored, frames resolved again, the page says so.
	upload("upload the right map", map[string]string{"source_map": rightMap})
	waitText("the page says what changed", "Source map stored. 10 frames in 2 issues now resolved.")
	links, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.alert-success a[href^="/issues/"]').length`))
	if err != nil || links != 2 {
		t.Errorf("the message should link the 2 issues whose frames resolved; it has %d links (%v)", links, err)
	}
	if got := getSymbolSet(t, s, set.ID); !got.HasUploadedFile {
		t.Fatalf("the right map was not stored: %+v", got)
	}

	// The frames of the old events resolve now: the manual capture's crash
	// site is level3 in src/orders.js, and its top frame runManual.
	issues := waitForIssues(t, a, 2)
	boom, ok := issueNamed(issues, "Error", "boom manual")
	if !ok {
		t.Fatalf("no issue Error: boom manual in %s", describeIssues(issues))
	}
	ev := onlyEvent(t, a, boom)
	frames := ev.ExceptionList[0].Frames
	crash, top := frames[len(frames)-1], frames[0]
	if !crash.Resolved || crash.ResolvedName != "level3" || !strings.HasSuffix(crash.Source, "orders.js") || crash.Line != 34 {
		t.Errorf("crash site after upload: %s, want level3 in src/orders.js:34", describeFrame(crash))
	}
	if !top.Resolved || top.ResolvedName != "runManual" || !strings.HasSuffix(top.Source, "app.js") {
		t.Errorf("top frame after upload: %s, want runManual in src/app.js", describeFrame(top))
	}
	run("open the issue", chromedp.Navigate(s.URL+"/issues/"+boom.ID.String()))
	waitText("the issue page shows the original crash site", "level3")
	waitText("the issue page shows the original caller", "runManual")
}
