package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Bounds the pages must stay under whatever an event holds. They are sizes,
// never times: a 50 KB line or 10,000 exceptions once made a 14 MB page.
const (
	issuePageBound   = 200 << 10 // an issue page as it opens
	showAllPageBound = 2 << 20   // the same page with ?all=1
	issueListBound   = 100 << 10 // /issues with one row
)

// TestPagesBoundLongEvents sends, through /batch/ as an SDK would, an event
// with a 50 KB message line, one with 10,000 exceptions and one whose
// message is 1.9 MB, and checks that the pages stay small, say how much
// they left out, link to the rest, and that the raw download is complete.
func TestPagesBoundLongEvents(t *testing.T) {
	// Events of up to 2 MiB, twice the default per-event cap, as a server
	// configured for large events takes them.
	s := startServer(t, serverOptions{Env: []string{"STACKLENS_MAX_EVENT_BYTES=" + strconv.Itoa(2<<20)}})
	a := newAPI(s)
	b := newBrowser(t, s)
	b.login(t)

	const tail = "END-OF-THE-LONG-LINE"
	longLine := "Long line " + strings.Repeat("abcdefghij", 5000) + tail
	long := newException("LongLineError", longLine)
	long.Properties["note"] = "property " + strings.Repeat("0123456789", 5000) + tail
	frames := long.Properties["$exception_list"].([]any)[0].(map[string]any)["stacktrace"].(map[string]any)["frames"].([]any)
	frames[0].(map[string]any)["context_line"] = "  const s = '" + strings.Repeat("x", 50000) + tail + "';"

	many := manyExceptions(10000, 1000)
	// 1.9 MB, under the 2 MiB this server takes per event: the frame
	// must not repeat the message in its context line.
	huge := newException("HugeMessageError", "Huge message "+strings.Repeat("0123456789abcdef", 1900000/16)+tail)
	hugeFrame := huge.Properties["$exception_list"].([]any)[0].(map[string]any)["stacktrace"].(map[string]any)["frames"].([]any)[0].(map[string]any)
	hugeFrame["context_line"] = "  fail();"

	postException(t, s, s.Token, long)
	postException(t, s, s.Token, many)
	postException(t, s, s.Token, huge)
	issues := waitForIssues(t, a, 3)
	idOf := func(name string) string {
		for _, is := range issues {
			if is.Name == name {
				return is.ID.String()
			}
		}
		t.Fatalf("no issue named %s in %s", name, describeIssues(issues))
		return ""
	}

	t.Run("50 KB line", func(t *testing.T) {
		p := b.get(t, "/issues/"+idOf("LongLineError"))
		checkBoundedPage(t, "issue page", p, issuePageBound)
		if strings.Contains(p.Body, tail) {
			t.Errorf("the issue page carries the end of a 50 KB line; it should be cut")
		}
		if !strings.Contains(pageText(t, p.Body), "more characters") {
			t.Errorf("the issue page does not say how much of the long values it left out")
		}
		checkRawDownload(t, b, p.Body, long.UUID, func(ev map[string]any) error {
			props := ev["properties"].(map[string]any)
			if props["note"] != long.Properties["note"] {
				return fmt.Errorf("property note is not the full value sent")
			}
			if !strings.Contains(fmt.Sprint(props["$exception_list"]), longLine) {
				return fmt.Errorf("the exception value is not the full line sent")
			}
			return nil
		})
	})

	t.Run("10,000 exceptions", func(t *testing.T) {
		path := "/issues/" + idOf("ManyExceptions")
		p := b.get(t, path)
		checkBoundedPage(t, "issue page", p, issuePageBound)
		text := pageText(t, p.Body)
		for _, want := range []string{"9,990 exceptions hidden", "950 frames hidden"} {
			if !strings.Contains(text, want) {
				t.Errorf("the issue page does not say %q", want)
			}
		}
		if !strings.Contains(p.Body, `href="`+path+`?all=1`) {
			t.Fatalf("the issue page has no show-all link to %s?all=1", path)
		}
		all := b.get(t, path+"?all=1")
		checkBoundedPage(t, "show all", all, showAllPageBound)
		allText := pageText(t, all.Body)
		if strings.Contains(allText, "frames hidden") {
			t.Errorf("show all still hides frames of a 1,000-frame exception")
		}
		if !strings.Contains(allText, "exceptions hidden") || !strings.Contains(allText, "raw JSON") {
			t.Errorf("show all of 10,000 exceptions neither stops at a ceiling nor points to the raw JSON")
		}
		if strings.Count(all.Body, `class="exception`) <= strings.Count(p.Body, `class="exception`) {
			t.Errorf("show all renders no more exceptions than the default page")
		}
		checkRawDownload(t, b, p.Body, many.UUID, func(ev map[string]any) error {
			list := ev["properties"].(map[string]any)["$exception_list"].([]any)
			if len(list) != 10000 {
				return fmt.Errorf("%d exceptions, want 10000", len(list))
			}
			return nil
		})
	})

	t.Run("1.9 MB message in the list", func(t *testing.T) {
		list := b.get(t, "/issues?q=HugeMessageError")
		checkBoundedPage(t, "/issues", list, issueListBound)
		if !strings.Contains(list.Body, "HugeMessageError") {
			t.Fatalf("/issues?q=HugeMessageError does not list the issue")
		}
		p := b.get(t, "/issues/"+idOf("HugeMessageError"))
		checkBoundedPage(t, "issue page", p, issuePageBound)
		full, err := a.issue(t.Context(), idOf("HugeMessageError"))
		if err != nil {
			t.Fatalf("API issue: %v", err)
		}
		if !strings.HasSuffix(full.Description, tail) || len(full.Description) < 1900000 {
			t.Errorf("the API cut the description to %d bytes; it must return it whole", len(full.Description))
		}
	})
}

// manyExceptions is one event with n exceptions, the first with frames frames.
func manyExceptions(n, frames int) captureEvent {
	ev := newException("ManyExceptions", "top of a long chain")
	list := ev.Properties["$exception_list"].([]any)
	top := list[0].(map[string]any)
	fs := make([]any, frames)
	for i := range fs {
		fs[i] = map[string]any{"filename": fmt.Sprintf("app/f%d.js", i), "function": fmt.Sprintf("f%d", i), "lineno": i + 1, "in_app": true}
	}
	top["stacktrace"] = map[string]any{"type": "raw", "frames": fs}
	for i := 1; i < n; i++ {
		list = append(list, map[string]any{"type": fmt.Sprintf("Cause%d", i), "value": "cause"})
	}
	ev.Properties["$exception_list"] = list
	return ev
}

func checkBoundedPage(t *testing.T, what string, p page, bound int) {
	t.Helper()
	if p.Status != http.StatusOK {
		t.Fatalf("%s: status %d, want 200; body %s", what, p.Status, truncate(p.Body, 500))
	}
	t.Logf("%s: %d bytes", what, len(p.Body))
	if len(p.Body) > bound {
		t.Errorf("%s is %d bytes, want at most %d", what, len(p.Body), bound)
	}
}

// checkRawDownload follows the page's raw-JSON link for the event and checks
// the download: an attachment, JSON, the event as sent (check), and only
// for a signed-in person.
func checkRawDownload(t *testing.T, b *browser, body, uuid string, check func(map[string]any) error) {
	t.Helper()
	href := ""
	for _, l := range links(t, body) {
		if strings.HasSuffix(l, "/events/"+uuid+"/raw") {
			href = l
		}
	}
	if href == "" {
		t.Fatalf("the issue page has no link to the raw JSON of event %s", uuid)
	}
	resp, err := b.http.Get(b.base + href)
	if err != nil {
		t.Fatalf("GET %s: %v", href, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200", href, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("GET %s: Content-Type %q, want application/json", href, ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("GET %s: Content-Disposition %q, want an attachment", href, cd)
	}
	var ev map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil {
		t.Fatalf("GET %s: not JSON: %v", href, err)
	}
	if ev["uuid"] != uuid {
		t.Errorf("GET %s: uuid %v, want %s", href, ev["uuid"], uuid)
	}
	if err := check(ev); err != nil {
		t.Errorf("GET %s: %v", href, err)
	}
	anon := newBrowser(t, &server{URL: b.base})
	if p := anon.get(t, href); p.Status == http.StatusOK {
		t.Errorf("GET %s without a session: status 200, want a redirect to sign in", href)
	}
}

// links are the href values of the page's <a> elements.
func links(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for _, part := range strings.Split(body, `href="`)[1:] {
		if end := strings.IndexByte(part, '"'); end >= 0 {
			out = append(out, strings.ReplaceAll(part[:end], "&amp;", "&"))
		}
	}
	return out
}

// TestControlCharactersShownEscaped sends an event whose file name, function,
// message and properties hold bidi overrides, ANSI escapes and zero-width
// characters, and checks that no page carries them raw and every page shows
// them as visible escapes.
func TestControlCharactersShownEscaped(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	b := newBrowser(t, s)
	b.login(t)

	ev := newException("SpoofError", "invoice \u202Efdp.exe\u202C is \x1b[31mred\x1b[0m")
	ex := ev.Properties["$exception_list"].([]any)[0].(map[string]any)
	frame := ex["stacktrace"].(map[string]any)["frames"].([]any)[0].(map[string]any)
	frame["filename"] = "app/\u202Esj.nimda\u2066\u200B.js"
	frame["function"] = "\x1b[2Jwipe"
	frame["context_line"] = "  run('\u2067\x1b[1m');"
	ev.Properties["$current_url"] = "https://shop.test/\u202Eorder"
	ev.Properties["tag"] = "x\u061Cy\u200Fz\x07"
	// A minified frame on a host that refuses connections: its symbol set
	// (ref, URL tried, failure) names the spoofed file on the settings pages.
	minified := map[string]any{"platform": "web:javascript", "filename": "http://" + freeLoopbackAddr(t) + "/static/\u202Esj.nim.js",
		"function": "e", "lineno": 1, "colno": 42}
	stack := ex["stacktrace"].(map[string]any)
	stack["frames"] = append([]any{minified}, stack["frames"].([]any)...)
	postException(t, s, s.Token, ev)
	issues := waitForIssues(t, a, 1)
	var set apiSymbolSet
	waitFor(t, "the symbol set of the minified frame", func(ctx context.Context) (bool, string, error) {
		status, body := rawCall(t, http.MethodGet, symbolSetsAPI(s)+"/?status=all", nil)
		var page struct {
			Results []apiSymbolSet `json:"results"`
		}
		if err := json.Unmarshal(body, &page); err != nil || status != http.StatusOK {
			return false, string(body), err
		}
		if len(page.Results) > 0 {
			set = page.Results[0]
		}
		return len(page.Results) > 0, string(body), nil
	})

	raw := []string{"\u202E", "\u202C", "\u2066", "\u2067", "\u200B", "\u200F", "\u061C", "\x1b", "\x07"}
	pages := map[string]string{
		"/issues":                          "",
		"/issues/" + issues[0].ID.String(): "",
		"/settings/symbol-sets":            "",
		"/settings/symbol-sets/" + set.ID:  "",
	}
	for path := range pages {
		p := b.get(t, path)
		if p.Status != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, p.Status)
		}
		for _, r := range raw {
			if i := strings.Index(p.Body, r); i >= 0 {
				t.Errorf("GET %s carries the control character %q raw: …%s…", path, r, p.Body[max(i-80, 0):min(i+80, len(p.Body))])
			}
		}
		pages[path] = p.Body
	}
	issuePage := pages["/issues/"+issues[0].ID.String()]
	for _, want := range []string{"⟨U+202E⟩", "⟨U+2066⟩", "⟨U+200B⟩", "⟨U+061C⟩", `\x1b`, `\x07`} {
		if !strings.Contains(issuePage, want) {
			t.Errorf("the issue page does not show %s visibly", want)
		}
	}
	if !strings.Contains(pages["/issues"], "⟨U+202E⟩") {
		t.Errorf("/issues does not show the bidi override in the message visibly")
	}
	for _, path := range []string{"/settings/symbol-sets", "/settings/symbol-sets/" + set.ID} {
		if !strings.Contains(pages[path], "⟨U+202E⟩") {
			t.Errorf("%s does not show the bidi override in the file's URL visibly", path)
		}
	}
}

// TestRawDownloadOfAMergedIssueLeadsToTheKeptIssue: the raw JSON address
// under a merged issue answers 308 to the same download under the issue it
// went into, like the issue's pages do.
func TestRawDownloadOfAMergedIssueLeadsToTheKeptIssue(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	b := newBrowser(t, s)
	b.login(t)
	kept, gone := newException("KeptError", "stays"), newException("GoneError", "merged away")
	postException(t, s, s.Token, kept, gone)
	id := map[string]string{}
	for _, is := range waitForIssues(t, a, 2) {
		id[is.Name] = is.ID.String()
	}
	fields := bulkForm(t, b, "/issues")
	fields.Set("into", id["KeptError"])
	fields["ids"] = []string{id["KeptError"], id["GoneError"]}
	if got := b.postForm(t, "/issues/merge", fields); got.Status != http.StatusSeeOther {
		t.Fatalf("merge: status %d: %s", got.Status, truncate(pageText(t, got.Body), 300))
	}
	from := "/issues/" + id["GoneError"] + "/events/" + gone.UUID + "/raw"
	want := "/issues/" + id["KeptError"] + "/events/" + gone.UUID + "/raw"
	if got := b.get(t, from); got.Status != http.StatusPermanentRedirect || got.Location != want {
		t.Fatalf("GET %s: %d → %q, want 308 to %s", from, got.Status, got.Location, want)
	}
	if got := b.get(t, want); got.Status != http.StatusOK || !strings.Contains(got.Body, gone.UUID) {
		t.Errorf("GET %s: %d, want the merged event's JSON", want, got.Status)
	}
}
