package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// factsSection is one section of an issue page (a card or the breadcrumb
// timeline): its visible text and its HTML.
type factsSection struct {
	Text string
	Node *html.Node
}

// issueSections finds the sections of an issue page by the id of their
// heading (aria-labelledby), and the context cards by the context's name.
func issueSections(t *testing.T, doc string) (byHeading, contexts map[string]factsSection) {
	t.Helper()
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	byHeading, contexts = map[string]factsSection{}, map[string]factsSection{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "section" {
			s := factsSection{Text: spacedText(n), Node: n}
			if id := attr(n, "aria-labelledby"); id != "" {
				byHeading[id] = s
			}
			if name := attr(n, "data-context"); name != "" {
				contexts[name] = s
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return byHeading, contexts
}

// rows are the <tr> of a section's table body, as visible text, with
// whether the row is the crash.
func bodyRows(n *html.Node) (texts []string, crash []bool) {
	var walk func(n *html.Node, inBody bool)
	walk = func(n *html.Node, inBody bool) {
		if n.Type == html.ElementNode && n.Data == "tbody" {
			inBody = true
		}
		if inBody && n.Type == html.ElementNode && n.Data == "tr" {
			texts = append(texts, spacedText(n))
			crash = append(crash, strings.Contains(" "+attr(n, "class")+" ", " crumb-crash "))
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inBody)
		}
	}
	walk(n, false)
	return texts, crash
}

// spacedText is the text of n with a space where elements meet, so that
// "<dt>ID</dt><dd>7</dd>" reads "ID 7".
func spacedText(n *html.Node) string {
	var sb strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			sb.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if n.Type == html.ElementNode {
			sb.WriteString(" ")
		}
	}
	walk(n)
	return strings.TrimSpace(foldSpace(sb.String()))
}

func wantIn(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s does not show %q:\n%s", what, w, truncate(text, 1500))
		}
	}
}

// packageVersion is the version of an installed e2e npm package.
func packageVersion(t *testing.T, name string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(file), "node_modules", name, "package.json"))
	if err != nil {
		t.Fatalf("read %s's package.json: %v", name, err)
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil || pkg.Version == "" {
		t.Fatalf("no version in %s's package.json: %v", name, err)
	}
	return pkg.Version
}

// checkSentryIssuePage: the page of an issue the real @sentry/node reported
// shows the breadcrumbs before the error (the error last), the environment,
// release, level and SDK, the tags, the user and the contexts the SDK sent.
func checkSentryIssuePage(t *testing.T, b *browser, is apiIssue) {
	p := b.get(t, "/issues/"+is.ID.String())
	if p.Status != 200 {
		t.Fatalf("issue page: status %d", p.Status)
	}
	sections, contexts := issueSections(t, p.Body)

	crumbs, ok := sections["breadcrumbs-title"]
	if !ok {
		t.Fatalf("the issue page has no breadcrumbs section:\n%s", truncate(pageText(t, p.Body), 2000))
	}
	rows, crash := bodyRows(crumbs.Node)
	find := func(parts ...string) int {
		for i, r := range rows {
			all := true
			for _, part := range parts {
				all = all && strings.Contains(r, part)
			}
			if all {
				return i
			}
		}
		t.Errorf("no breadcrumb row with %q in %q", parts, rows)
		return -1
	}
	nav := find("navigation", "info", "GET /cart")
	http := find("http", "warning", "https://payments.test/charge", "502", "POST")
	console := find("console", "warning", "payment retry 1 of 3")
	if !(nav < http && http < console) {
		t.Errorf("breadcrumbs out of order (navigation %d, http %d, console %d): %q", nav, http, console, rows)
	}
	if last := len(rows) - 1; last < 0 || !crash[last] || !strings.Contains(rows[last], "Error: checkout failed in production") ||
		!strings.Contains(rows[last], "exception") {
		t.Errorf("the last breadcrumb row is not the error itself: %q (crash %v)", rows, crash)
	}
	for i := 0; i < len(rows)-1; i++ {
		if crash[i] {
			t.Errorf("breadcrumb row %d is marked as the crash: %q", i, rows[i])
		}
	}
	if !strings.Contains(rows[nav], ":") {
		t.Errorf("the navigation breadcrumb has no time: %q", rows[nav])
	}

	wantIn(t, "the highlights", sections["highlights-title"].Text,
		"Environment production", "Release e2e@1.2.3", "Level error", "SDK sentry.javascript.node "+packageVersion(t, "@sentry/node"))
	wantIn(t, "the highlights' environment link", p.Body, `href="/issues?environment=production&amp;project=1"`)
	wantIn(t, "the tags", sections["tags-title"].Text, "region eu", "flow checkout")
	wantIn(t, "the tag links", p.Body, `href="/issues?project=1&amp;tag=region%3Aeu"`)
	wantIn(t, "the user", sections["user-title"].Text,
		"ID facts-user-7", "Email facts@example.test", "Username facts_user", "IP address 203.0.113.9")
	wantIn(t, "the runtime context", contexts["runtime"].Text, "Runtime", "name node", "version v")
	wantIn(t, "the OS context", contexts["os"].Text, "Operating system", "name ", "kernel_version")
	wantIn(t, "the device context", contexts["device"].Text, "Device", "arch")
}

// checkPostHogIssuePage: a posthog-node event's visitor facts ($browser,
// $os, $device_type, $lib, distinct_id, $environment) show in the same
// sections as a Sentry event's; its plain property stays under Properties.
func checkPostHogIssuePage(t *testing.T, b *browser, is apiIssue) {
	p := b.get(t, "/issues/"+is.ID.String())
	sections, contexts := issueSections(t, p.Body)
	wantIn(t, "the posthog-node event's highlights", sections["highlights-title"].Text,
		"Environment production", "SDK posthog-node "+packageVersion(t, "posthog-node"), "URL https://shop.test/cart", "Level error")
	wantIn(t, "the posthog-node event's user", sections["user-title"].Text, "ID ph-facts-user")
	wantIn(t, "the posthog-node event's browser", contexts["browser"].Text, "Browser", "name Chrome", "version 120.0")
	wantIn(t, "the posthog-node event's OS", contexts["os"].Text, "Operating system", "name Mac OS X", "version 14.1")
	wantIn(t, "the posthog-node event's device", contexts["device"].Text, "Device", "type Desktop")
	wantIn(t, "the posthog-node event's properties", sections["props-title"].Text, "plan pro")
	if _, ok := sections["breadcrumbs-title"]; ok {
		t.Errorf("the posthog-node event, which has no breadcrumbs, shows a breadcrumbs section")
	}
	if _, ok := sections["tags-title"]; ok {
		t.Errorf("the posthog-node event, which has no tags, shows a tags section")
	}
}
