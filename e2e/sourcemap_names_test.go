package e2e

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/symbols"
)

// sameNameJS is a minified file of two functions from two sources both
// named "a.js" (sameNameMap): line 1 is first(), line 2 second().
const sameNameJS = "function f(){boom()}\nfunction g(){boom()}\n"

// sameNameMap maps `function`, the name and boom() of each line into its
// own source; both sources are called a.js.
const sameNameMap = `{"version":3,"sources":["a.js","a.js"],"names":[],` +
	`"sourcesContent":["function first() {\n  boom();\n}\n","function second() {\n  boom();\n}\n"],` +
	`"mappings":"AAAA,SAAS,IACP;ACDF,SAAS,IACP"}`

// A map whose two sources share a name, fetched with the ")]}'" line,
// uploaded with a BOM through the API and with both through the browser
// form: every time the frame in the second source is named `second` and
// its issue page shows the second file.
func TestSameNamedSourcesAndPrefixedMaps(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/dup.js":
			fmt.Fprint(w, sameNameJS+"//# sourceMappingURL=dup.js.map\n")
		case "/dup.js.map":
			fmt.Fprint(w, ")]}'\n"+sameNameMap)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	// The frame is boom() on line 2 (1-based column 14).
	event := func(value string, frame map[string]any) any {
		frame["platform"], frame["function"], frame["lineno"], frame["colno"], frame["in_app"] = "web:javascript", "g", 2, 14, true
		return map[string]any{"event": "$exception", "uuid": newUUID(), "distinct_id": "user-1", "properties": map[string]any{
			"$exception_list": []any{map[string]any{"type": "Error", "value": value, "mechanism": map[string]any{"type": "generic", "handled": true},
				"stacktrace": map[string]any{"type": "raw", "frames": []any{frame}}}}}}
	}
	const apiChunk, formChunk = "0197e2e0-0000-7000-8000-00000000a1a1", "0197e2e0-0000-7000-8000-00000000f0f0"
	postEvents(t, s, []any{
		event("fetched", map[string]any{"filename": srv.URL + "/dup.js"}),
		event("api upload", map[string]any{"filename": "http://127.0.0.1:9/api.js", "chunk_id": apiChunk}),
		event("form upload", map[string]any{"filename": "http://127.0.0.1:9/form.js", "chunk_id": formChunk}),
	})
	waitForIssues(t, a, 3)

	// The API upload (posthog-cli's oldest route) of a map with a BOM.
	blob := symbols.EncodeUploadBlob(2, true, []byte(sameNameJS), []byte("\xef\xbb\xbf"+sameNameMap))
	legacyCreate(t, symbolSetsAPI(s)+"/?chunk_id="+apiChunk+"&multipart=true", blob)

	// The browser form, on the symbol set page, with a BOM and ")]}'".
	formSet := waitForSymbolSet(t, s, formChunk)
	b := newBrowser(t, s)
	b.login(t)
	setPage := b.get(t, "/settings/symbol-sets/"+formSet.ID)
	upload, ok := findForm(t, setPage.Body, func(f form) bool { return strings.Contains(strings.Join(f.Files, " "), "source_map") })
	if !ok {
		t.Fatalf("no upload form on the symbol set page:\n%s", truncate(pageText(t, setPage.Body), 2000))
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for name, values := range upload.Fields {
		for _, v := range values {
			_ = w.WriteField(name, v)
		}
	}
	part, _ := w.CreateFormFile("source_map", "dup.js.map")
	fmt.Fprint(part, "\xef\xbb\xbf)]}'\n"+sameNameMap)
	part, _ = w.CreateFormFile("minified", "dup.js")
	fmt.Fprint(part, sameNameJS)
	w.Close()
	req, err := http.NewRequest(http.MethodPost, s.URL+upload.Action, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	if answer := b.do(t, req); answer.Status != http.StatusSeeOther {
		t.Fatalf("browser upload of a map with a BOM and )]}': %d\n%s", answer.Status, truncate(pageText(t, answer.Body), 2000))
	}

	// Every event's frame resolves into the second source.
	var frames map[string]locatedEvent
	waitFor(t, "the three frames resolved", func(ctx context.Context) (bool, string, error) {
		events, err := allEvents(ctx, a)
		if err != nil {
			return false, "", err
		}
		frames = events
		var state []string
		done := len(events) == 3
		for _, ev := range events {
			f := ev.Event.ExceptionList[0].Frames[0]
			state = append(state, ev.Event.ExceptionList[0].Value+": "+describeFrame(f))
			done = done && f.Resolved
		}
		return done, strings.Join(state, "; "), nil
	})
	for _, ev := range frames {
		what := ev.Event.ExceptionList[0].Value
		f := ev.Event.ExceptionList[0].Frames[0]
		if f.ResolvedName != "second" || f.Source != "a.js" || f.Line != 2 {
			t.Errorf("%s: %s, want second at a.js:2", what, describeFrame(f))
		}
		// The issue page names the function and shows the second file.
		deadline := time.Now().Add(10 * time.Second)
		for {
			text := pageText(t, b.get(t, "/issues/"+ev.IssueID).Body)
			if strings.Contains(text, "function second() {") && !strings.Contains(text, "function first()") {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: the issue page does not show the second file:\n%s", what, truncate(text, 3000))
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
