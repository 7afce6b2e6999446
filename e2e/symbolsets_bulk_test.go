package e2e

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// TestBulkUploadPairsBeforeStoring: the bulk page takes a build's files,
// shows which missing symbol set each map pairs with and why, stores
// nothing until the person confirms, then stores and resolves.
func TestBulkUploadPairsBeforeStoring(t *testing.T) {
	bundle := serveBundleWithoutMap(t)
	s := startServer(t, serverOptions{})
	postEvents(t, s, manualCaptureEvents(t, s.Token, bundle.URL, nil))
	a := newAPI(s)
	waitForIssues(t, a, 2)
	set := waitForSymbolSet(t, s, bundle.URL+"/app.js")

	b := newBrowser(t, s)
	b.login(t)
	page := b.get(t, "/settings/symbol-sets/upload")
	upload, ok := findForm(t, page.Body, func(f form) bool { return len(f.Files) == 1 && f.Files[0] == "files" })
	if !ok {
		t.Fatalf("no bulk upload form with a files input")
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for name, values := range upload.Fields {
		for _, v := range values {
			w.WriteField(name, v)
		}
	}
	files := map[string][]byte{
		"app.js":     fixtureBundle(t, "posthog-browser", "app.js"),
		"app.js.map": fixtureBundle(t, "posthog-browser", "app.js.map"),
		"notes.txt":  []byte("not a bundle"),
	}
	for name, data := range files {
		part, _ := w.CreateFormFile("files", name)
		part.Write(data)
	}
	w.Close()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL+upload.Action, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	preview := b.do(t, req)
	text := pageText(t, preview.Body)
	if preview.Status != http.StatusOK || !strings.Contains(text, "sourceMappingURL comment of app.js") || !strings.Contains(text, "notes.txt") {
		t.Fatalf("preview: status %d, want 200 pairing app.js.map by the sourceMappingURL comment and listing notes.txt as unpaired: %s",
			preview.Status, truncate(text, 2000))
	}
	if getSymbolSet(t, s, set.ID).HasUploadedFile {
		t.Fatalf("the preview stored the map before confirmation")
	}
	confirm, ok := findForm(t, preview.Body, func(f form) bool { return f.has("batch") })
	if !ok {
		t.Fatalf("no confirm form")
	}
	done := b.postForm(t, confirm.Action, confirm.Fields)
	if done.Status != http.StatusSeeOther {
		t.Fatalf("confirm: status %d, want 303: %s", done.Status, truncate(pageText(t, done.Body), 1000))
	}
	list := pageText(t, b.get(t, done.Location).Body)
	if !strings.Contains(list, "Stored 1 source map. 10 frames in 2 issues now resolved.") {
		t.Errorf("after confirming, the list should say what changed: %s", truncate(list, 1500))
	}
	if !getSymbolSet(t, s, set.ID).HasUploadedFile {
		t.Fatalf("confirmed pair was not stored")
	}
	// The batch is gone once used.
	if again := b.postForm(t, confirm.Action, confirm.Fields); again.Status != http.StatusGone {
		t.Errorf("confirming a used batch: status %d, want 410", again.Status)
	}
}
