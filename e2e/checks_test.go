package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// checkEventAsSent compares a stored event with the $exception event the SDK
// sent: same exceptions in the same order, same frames in wire order, with the
// raw names, positions and code context the SDK supplied.
func checkEventAsSent(t *testing.T, got apiEvent, want recordedException) {
	t.Helper()
	if got.DistinctID != want.distinctID() {
		t.Errorf("event %s: distinct_id %q, sent %q", want.UUID, got.DistinctID, want.distinctID())
	}
	sent := want.Properties.ExceptionList
	if len(got.ExceptionList) != len(sent) {
		t.Fatalf("event %s: %d exceptions stored, %d sent", want.UUID, len(got.ExceptionList), len(sent))
	}
	for i, ex := range sent {
		g := got.ExceptionList[i]
		where := fmt.Sprintf("event %s exception %d", want.UUID, i)
		if g.Type != ex.Type || g.Value != ex.Value {
			t.Errorf("%s: stored %s: %q, sent %s: %q", where, g.Type, g.Value, ex.Type, ex.Value)
		}
		if h, ok := ex.Mechanism["handled"]; ok && g.Mechanism["handled"] != h {
			t.Errorf("%s: mechanism.handled %v, sent %v", where, g.Mechanism["handled"], h)
		}
		frames := ex.Stacktrace.Frames
		if len(g.Frames) != len(frames) {
			t.Errorf("%s: %d frames stored, %d sent", where, len(g.Frames), len(frames))
			continue
		}
		for j, f := range frames {
			checkFrameAsSent(t, fmt.Sprintf("%s frame %d", where, j), g.Frames[j], f)
		}
	}
}

func checkFrameAsSent(t *testing.T, where string, got apiFrame, sent recordedFrame) {
	t.Helper()
	if got.RawID == "" {
		t.Errorf("%s: empty raw_id", where)
	}
	if got.MangledName != sent.Function {
		t.Errorf("%s: mangled_name %q, sent function %q", where, got.MangledName, sent.Function)
	}
	if got.InApp != sent.InApp {
		t.Errorf("%s: in_app %v, sent %v", where, got.InApp, sent.InApp)
	}
	if sent.Platform != "" && got.Platform != sent.Platform {
		t.Errorf("%s: platform %q, sent %q", where, got.Platform, sent.Platform)
	}
	// An unresolved frame can only show what was sent.
	if !got.Resolved {
		if got.Source != sent.Filename || got.Line != sent.Lineno || got.Column != sent.Colno {
			t.Errorf("%s: unresolved frame at %s:%d:%d, sent %s:%d:%d", where, got.Source, got.Line, got.Column, sent.Filename, sent.Lineno, sent.Colno)
		}
	}
	if sent.ContextLine != nil {
		if got.ContextLine != *sent.ContextLine {
			t.Errorf("%s: context_line %q, sent %q", where, got.ContextLine, *sent.ContextLine)
		}
		if !equalLines(got.PreContext, sent.PreContext) {
			t.Errorf("%s: pre_context %q, sent %q", where, got.PreContext, sent.PreContext)
		}
		if !equalLines(got.PostContext, sent.PostContext) {
			t.Errorf("%s: post_context %q, sent %q", where, got.PostContext, sent.PostContext)
		}
	}
}

func equalLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// pageExpectation is what an issue page must show as text: every string in
// Texts, and for each ordering, First before Second (crash site first).
type pageExpectation struct {
	Texts  []string
	Before []ordering
}

// ordering says First is shown before Second, both searched from the first
// place After (an exception's value, say) is shown; After "" is the page start.
type ordering struct {
	After, First, Second string
}

// expectationFromSent derives the page expectation from the exceptions an SDK
// sent: types, values, every context line of every frame that carries them,
// and the crash site's line before the oldest in-app frame's line.
func expectationFromSent(ev recordedException) pageExpectation {
	var want pageExpectation
	for _, ex := range ev.Properties.ExceptionList {
		want.Texts = append(want.Texts, ex.Type, ex.Value)
		var withContext []recordedFrame
		for _, f := range ex.Stacktrace.Frames {
			if f.ContextLine == nil {
				continue
			}
			withContext = append(withContext, f)
			for _, line := range append(append(append([]string{}, f.PreContext...), *f.ContextLine), f.PostContext...) {
				if strings.TrimSpace(line) != "" {
					want.Texts = append(want.Texts, line)
				}
			}
		}
		if len(withContext) < 2 {
			continue
		}
		crash, oldest := withContext[len(withContext)-1], withContext[0]
		// Only a line the crash site's own context does not contain proves order.
		if !windowContains(crash, *oldest.ContextLine) && strings.TrimSpace(*oldest.ContextLine) != "" {
			want.Before = append(want.Before, ordering{After: ex.Value, First: *crash.ContextLine, Second: *oldest.ContextLine})
		}
	}
	return want
}

func windowContains(f recordedFrame, line string) bool {
	needle := foldSpace(line)
	for _, l := range append(append(append([]string{}, f.PreContext...), *f.ContextLine), f.PostContext...) {
		if strings.Contains(foldSpace(l), needle) {
			return true
		}
	}
	return false
}

// checkIssuePage opens /issues/{id} in a logged-in browser and checks its text.
func checkIssuePage(t *testing.T, b *browser, issueID string, want pageExpectation) {
	t.Helper()
	p := b.get(t, "/issues/"+issueID)
	if p.Status != http.StatusOK {
		t.Fatalf("GET /issues/%s: status %d, want 200", issueID, p.Status)
	}
	text := pageText(t, p.Body)
	var missing []string
	for _, s := range want.Texts {
		if !strings.Contains(text, foldSpace(s)) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		t.Errorf("GET /issues/%s: page text lacks %q\npage text: %s", issueID, missing, truncate(text, 6000))
	}
	for _, o := range want.Before {
		start := strings.Index(text, foldSpace(o.After))
		if start < 0 {
			continue // reported above as missing
		}
		rest := text[start:]
		first, second := strings.Index(rest, foldSpace(o.First)), strings.Index(rest, foldSpace(o.Second))
		if first < 0 || second < 0 {
			t.Errorf("GET /issues/%s: after %q the page lacks %q or %q", issueID, o.After, o.First, o.Second)
			continue
		}
		if first > second {
			t.Errorf("GET /issues/%s: after %q, %q (crash site) is shown after %q (an older frame); want crash site first", issueID, o.After, o.First, o.Second)
		}
	}
}

// checkIssueList checks that /issues, logged in, names every issue.
func checkIssueList(t *testing.T, b *browser, issues []apiIssue) {
	t.Helper()
	p := b.get(t, "/issues")
	if p.Status != http.StatusOK {
		t.Fatalf("GET /issues: status %d, want 200", p.Status)
	}
	text := pageText(t, p.Body)
	for _, is := range issues {
		if !strings.Contains(text, foldSpace(is.Name)) {
			t.Errorf("GET /issues: page text lacks issue name %q\npage text: %s", is.Name, truncate(text, 3000))
		}
	}
}
