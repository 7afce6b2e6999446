package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/symbols"
)

// withFrames replaces the frames of ev's first exception (oldest call first).
func withFrames(ev captureEvent, frames ...map[string]any) captureEvent {
	list := make([]any, len(frames))
	for i, f := range frames {
		list[i] = f
	}
	ev.Properties["$exception_list"].([]any)[0].(map[string]any)["stacktrace"].(map[string]any)["frames"] = list
	return ev
}

func webFrame(file, fn string, line, col int) map[string]any {
	return map[string]any{"platform": "web:javascript", "filename": file, "function": fn, "lineno": line, "colno": col, "in_app": true}
}

// textFixtures serves /missing-map.min.js, whose map answers 404, and
// /cart.min.js, whose map names its source "../src/cart.js".
func textFixtures(t *testing.T) *httptest.Server {
	t.Helper()
	source := "function addToCart(item) {\n  throw new Error('cart full');\n}\naddToCart(1);\n"
	mapJSON, _ := json.Marshal(map[string]any{
		"version": 3, "sources": []string{"../src/cart.js"}, "sourcesContent": []string{source},
		"names": []string{"addToCart"}, "mappings": "AAAA,SAASA",
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/missing-map.min.js", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "function a(){throw new Error('x')}function b(){a()}function c(){b()}c();\n//# sourceMappingURL=missing-map.min.js.map\n")
	})
	mux.HandleFunc("/cart.min.js", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "function a(){throw new Error('cart full')}a();\n//# sourceMappingURL=cart.min.js.map\n")
	})
	mux.HandleFunc("/cart.min.js.map", func(w http.ResponseWriter, r *http.Request) { w.Write(mapJSON) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestFailureTextsReadAsSentencesOnce sends an event with three frames of a
// file whose source map answers 404: the issue page says why once, with the
// three frames, and calls it a missing file, not a refusal; the symbol-set
// page's steps do not say the status twice; no page shows a bare code like
// "Not resolved (http status)".
func TestFailureTextsReadAsSentencesOnce(t *testing.T) {
	files := textFixtures(t)
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	b := newBrowser(t, s)
	b.login(t)
	file := files.URL + "/missing-map.min.js"
	ev := withFrames(newException("MapMissingError", "three frames, one missing map"),
		webFrame(file, "c", 1, 56), webFrame(file, "b", 1, 46), webFrame(file, "a", 1, 14))
	postException(t, s, s.Token, ev)
	issue := waitForIssues(t, a, 1)[0]
	set := waitForSymbolSet(t, s, file)
	waitFor(t, "the frames to be marked unresolved", func(ctx context.Context) (bool, string, error) {
		evs, err := a.events(ctx, issue.ID.String(), 1)
		if err != nil || len(evs) == 0 || len(evs[0].ExceptionList) == 0 {
			return false, "no event yet", err
		}
		fs := evs[0].ExceptionList[0].Frames
		if len(fs) != 3 {
			return false, fmt.Sprintf("%+v", fs), nil
		}
		// fetch_pending is not the failure yet: the map's fetch has not ended.
		for _, f := range fs {
			if f.ResolveFailure == "" || f.ResolveFailure == "fetch_pending" {
				return false, fmt.Sprintf("%+v", fs), nil
			}
		}
		return true, "", nil
	})

	p := b.get(t, "/issues/"+issue.ID.String())
	text := pageText(t, p.Body)
	mapURL := file + ".map"
	if n := strings.Count(text, "GET "+mapURL+" answered 404 Not Found"); n != 1 {
		t.Errorf("issue page says the map's 404 %d times, want once above the frames:\n%s", n, truncate(text, 3000))
	}
	if !strings.Contains(text, "Not resolved for these 3 frames") || !strings.Contains(text, "b at "+file+":1:46") {
		t.Errorf("issue page does not list the 3 frames the failure covers:\n%s", truncate(text, 3000))
	}
	if !strings.Contains(text, "not on the server") || strings.Contains(text, "refused") {
		t.Errorf("issue page: a 404 must read as a missing file, not a refusal:\n%s", truncate(text, 3000))
	}
	if strings.Contains(text, "Not resolved (") {
		t.Errorf("issue page shows a bare failure code:\n%s", truncate(text, 3000))
	}

	detail := pageText(t, b.get(t, "/settings/symbol-sets/"+set.ID).Body)
	if strings.Contains(detail, "404 Not Found answered 404 Not Found") || !strings.Contains(detail, "404 Not Found") {
		t.Errorf("symbol-set page: the steps should say 404 Not Found once per step:\n%s", truncate(detail, 3000))
	}
	if strings.Contains(detail, "refused") || !strings.Contains(detail, "not on the server") {
		t.Errorf("symbol-set page: a 404 must read as a missing file:\n%s", truncate(detail, 3000))
	}
	if strings.Contains(detail, "Not resolved (") {
		t.Errorf("symbol-set page shows a bare failure code:\n%s", truncate(detail, 3000))
	}
}

// TestFramesShownAlikeEverywhere: a Node frame (nothing minified) gets no
// "Minified frame" toggle; top values say once which properties were not sent; a frame resolved to "../src/cart.js" reads
// "src/cart.js" on both the issue page and the symbol-set page.
func TestFramesShownAlikeEverywhere(t *testing.T) {
	files := textFixtures(t)
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	b := newBrowser(t, s)
	b.login(t)
	postException(t, s, s.Token, newException("NodeOnlyError", "plain node frame"))
	file := files.URL + "/cart.min.js"
	postException(t, s, s.Token, withFrames(newException("CartError", "cart full"), webFrame(file, "a", 1, 14)))
	byName := waitForTotal(t, a, 2)
	set := waitForSymbolSet(t, s, file)
	cart := fmt.Sprint(byName["CartError"].ID)
	waitFor(t, "the cart frame to resolve", func(ctx context.Context) (bool, string, error) {
		evs, err := a.events(ctx, cart, 1)
		if err != nil || len(evs) == 0 || len(evs[0].ExceptionList) == 0 || len(evs[0].ExceptionList[0].Frames) == 0 {
			return false, "no event yet", err
		}
		f := evs[0].ExceptionList[0].Frames[0]
		return f.Resolved, fmt.Sprintf("%+v", f), nil
	})

	node := b.get(t, fmt.Sprintf("/issues/%d", byName["NodeOnlyError"].ID)).Body
	if strings.Contains(node, "Minified frame") {
		t.Errorf("a Node frame that nothing resolved offers a \"Minified frame\" toggle:\n%s", truncate(pageText(t, node), 2000))
	}
	if text := pageText(t, node); strings.Count(text, "Not sent with these events") != 1 ||
		!strings.Contains(text, "Not sent with these events: URL, Browser, OS, Release.") {
		t.Errorf("top values should say once which properties no event sent:\n%s", truncate(text, 3000))
	}
	issue := b.get(t, "/issues/"+cart).Body
	if !strings.Contains(issue, "Minified frame") {
		t.Errorf("a frame resolved through a source map lacks its \"Minified frame\" toggle:\n%s", truncate(pageText(t, issue), 2000))
	}
	detail := pageText(t, b.get(t, "/settings/symbol-sets/"+set.ID).Body)
	for name, text := range map[string]string{"issue page": pageText(t, issue), "symbol-set page": detail} {
		if !strings.Contains(text, "src/cart.js") || strings.Contains(text, "../src/cart.js") {
			t.Errorf("%s shows the source as other than src/cart.js:\n%s", name, truncate(text, 3000))
		}
	}
}

// TestChunkIDSymbolSetsNameTheirFileAndRelease: a symbol set keyed by a
// chunk id is listed with the file its frames came from and the release it
// was uploaded for, not by its uuid alone.
func TestChunkIDSymbolSetsNameTheirFileAndRelease(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	b := newBrowser(t, s)
	b.login(t)
	const chunk = "0197e2e0-cafe-7000-8000-0000000000aa"
	var file string
	postEvents(t, s, manualCaptureEvents(t, s.Token, "http://127.0.0.1:9", func(f map[string]any) {
		f["chunk_id"] = chunk
		if name, _ := f["filename"].(string); name != "" {
			file = name
		}
	}))
	waitForIssues(t, a, 2)
	set := waitForSymbolSet(t, s, chunk)
	blob := symbols.EncodeUploadBlob(1, false, fixtureBundle(t, "posthog-browser", "app.js"), fixtureBundle(t, "posthog-browser", "app.js.map"))
	status, answer := rawCall(t, http.MethodPost, symbolSetsAPI(s)+"/bulk_start_upload", map[string]any{"symbol_sets": []any{
		map[string]any{"chunk_id": chunk, "release_id": "shop@2026.12.1", "content_hash": sha512Hex(blob)}}})
	expectStatus(t, "bulk_start_upload", status, answer, http.StatusCreated)
	var started cliStart
	decodeInto(t, "bulk_start_upload", answer, &started)
	entry := started.IDMap[chunk]
	if status, answer := presignedPost(t, entry.PresignedURL.URL, entry.PresignedURL.Fields, blob); status/100 != 2 {
		t.Fatalf("presigned POST: %d %s", status, answer)
	}
	status, answer = rawCall(t, http.MethodPost, symbolSetsAPI(s)+"/bulk_finish_upload", map[string]any{"content_hashes": map[string]string{entry.SymbolSetID: sha512Hex(blob)}})
	expectStatus(t, "bulk_finish_upload", status, answer, http.StatusCreated)

	list := b.get(t, "/settings/symbol-sets")
	var row string
	for _, r := range strings.Split(list.Body, `<tr class="issue-row symbol-set-row">`)[1:] {
		if strings.Contains(r, "/settings/symbol-sets/"+set.ID+`"`) {
			row, _, _ = strings.Cut(r, "</tr>")
		}
	}
	text := pageText(t, row)
	if file == "" || !strings.Contains(text, "chunk id · "+file) || !strings.Contains(text, "release shop@2026.12.1") {
		t.Errorf("the chunk-id row does not name its file %q and release shop@2026.12.1: %q", file, text)
	}
}
