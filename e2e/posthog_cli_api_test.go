package e2e

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/symbols"
)

// cliStart is bulk_start_upload's answer as posthog-cli decodes it.
type cliStart struct {
	IDMap map[string]struct {
		PresignedURL struct {
			URL    string            `json:"url"`
			Fields map[string]string `json:"fields"`
		} `json:"presigned_url"`
		SymbolSetID string `json:"symbol_set_id"`
	} `json:"id_map"`
}

func sha512Hex(b []byte) string {
	sum := sha512.Sum512(b)
	return hex.EncodeToString(sum[:])
}

// presignedPost uploads data the way posthog-cli does: multipart with every
// field handed out, then the part `file` (with a file name).
func presignedPost(t *testing.T, url string, fields map[string]string, data []byte) (int, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	part, err := w.CreateFormFile("file", "file")
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(answer)
}

func decodeInto(t *testing.T, what string, body []byte, out any) {
	t.Helper()
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("%s: decode %s: %v", what, body, err)
	}
}

func expectStatus(t *testing.T, what string, status int, body []byte, want int) {
	t.Helper()
	if status != want {
		t.Fatalf("%s: status %d, want %d; body %s", what, status, want, truncate(string(body), 800))
	}
}

// TestPosthogCLIUploadAPI drives the symbol-set API the way posthog-cli
// calls it: events whose frames carry a chunk id arrive first and stay
// minified; bulk_start_upload → multipart POST to the presigned URL →
// bulk_finish_upload stores the map and the old frames resolve. Then
// re-runs, conflicts (409, force, skip_on_conflict), a hash mismatch,
// version 1 and 2 (zstd) blobs, the legacy routes, download and delete.
func TestPosthogCLIUploadAPI(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	base := symbolSetsAPI(s)
	const chunk = "0197e2e0-cafe-7000-8000-000000000001"
	postEvents(t, s, manualCaptureEvents(t, s.Token, "http://127.0.0.1:9", func(f map[string]any) { f["chunk_id"] = chunk }))
	waitForIssues(t, a, 2)
	waiting := waitForSymbolSet(t, s, chunk)
	if waiting.HasUploadedFile || waiting.FailureCode == nil || *waiting.FailureCode != "not_uploaded" {
		t.Fatalf("chunk id without upload: %+v, want missing with not_uploaded", waiting)
	}
	before := crashFrames(t, a)
	if len(before) != 2 {
		t.Fatalf("want the 2 replayed events, got %d", len(before))
	}
	for uuid, f := range before {
		if f.Resolved {
			t.Fatalf("event %s resolved before any upload: %s", uuid, describeFrame(f))
		}
	}

	minified := fixtureBundle(t, "posthog-browser", "app.js")
	rightMap := fixtureBundle(t, "posthog-browser", "app.js.map")
	otherMap := fixtureBundle(t, "sentry-browser", "app.js.map")
	v1 := symbols.EncodeUploadBlob(1, false, minified, rightMap)
	v2 := symbols.EncodeUploadBlob(2, true, minified, otherMap)

	start := func(what string, body any, want int) cliStart {
		t.Helper()
		status, answer := rawCall(t, http.MethodPost, base+"/bulk_start_upload", body)
		expectStatus(t, what, status, answer, want)
		var out cliStart
		if want == http.StatusCreated {
			decodeInto(t, what, answer, &out)
		}
		return out
	}
	finish := func(what string, hashes map[string]string, want int) []byte {
		t.Helper()
		status, answer := rawCall(t, http.MethodPost, base+"/bulk_finish_upload", map[string]any{"content_hashes": hashes})
		expectStatus(t, what, status, answer, want)
		return answer
	}
	one := func(hash string, extra map[string]any) map[string]any {
		body := map[string]any{"symbol_sets": []any{map[string]any{"chunk_id": chunk, "release_id": nil, "content_hash": hash}}}
		for k, v := range extra {
			body[k] = v
		}
		return body
	}

	// The upload: start, POST to our own presigned URL, finish.
	started := start("bulk_start_upload", one(sha512Hex(v1), nil), http.StatusCreated)
	entry, ok := started.IDMap[chunk]
	if !ok || entry.SymbolSetID != waiting.ID || !strings.HasPrefix(entry.PresignedURL.URL, s.URL+"/") {
		t.Fatalf("id_map = %+v; want %s → symbol set %s with a URL on %s", started.IDMap, chunk, waiting.ID, s.URL)
	}
	if status, answer := presignedPost(t, entry.PresignedURL.URL, entry.PresignedURL.Fields, v1); status/100 != 2 {
		t.Fatalf("presigned POST: %d %s", status, answer)
	}
	finish("bulk_finish_upload", map[string]string{entry.SymbolSetID: sha512Hex(v1)}, http.StatusCreated)
	stored := getSymbolSet(t, s, waiting.ID)
	if !stored.HasUploadedFile || stored.ContentHash == nil || *stored.ContentHash != sha512Hex(v1) {
		t.Fatalf("after finish: %+v, want stored with the blob's hash", stored)
	}
	// The frames that carry the chunk id, from events that arrived before the upload, resolve now.
	after := crashFrames(t, a)
	if len(after) != 2 {
		t.Fatalf("want the 2 replayed events after the upload, got %d", len(after))
	}
	for uuid, f := range after {
		if !f.Resolved || !strings.HasSuffix(f.Source, "orders.js") {
			t.Errorf("event %s crash site after the upload: %s, want resolved into orders.js", uuid, describeFrame(f))
		}
	}

	// A re-run of the same upload is skipped: nothing to send.
	if again := start("re-run", one(sha512Hex(v1), nil), http.StatusCreated); len(again.IDMap) != 0 {
		t.Errorf("re-running the same upload: id_map %+v, want empty", again.IDMap)
	}
	// Other content for the same chunk id: 409 content_hash_mismatch, nothing created.
	status, answer := rawCall(t, http.MethodPost, base+"/bulk_start_upload", one(sha512Hex(v2), nil))
	expectStatus(t, "conflict", status, answer, http.StatusConflict)
	if !strings.Contains(string(answer), `"code":"content_hash_mismatch"`) {
		t.Errorf("409 body %s, want code content_hash_mismatch (posthog-cli reads it)", answer)
	}
	if skipped := start("skip_on_conflict", one(sha512Hex(v2), map[string]any{"skip_on_conflict": true}), http.StatusCreated); len(skipped.IDMap) != 0 {
		t.Errorf("skip_on_conflict: id_map %+v, want empty", skipped.IDMap)
	}
	// force: a new upload of a version 2 zstd blob, first finished with a wrong hash.
	forced := start("force", one(sha512Hex(v2), map[string]any{"force": true}), http.StatusCreated)
	entry = forced.IDMap[chunk]
	if status, answer := presignedPost(t, entry.PresignedURL.URL, entry.PresignedURL.Fields, v2); status/100 != 2 {
		t.Fatalf("presigned POST of the v2 blob: %d %s", status, answer)
	}
	mismatch := finish("wrong hash", map[string]string{entry.SymbolSetID: sha512Hex(v1)}, http.StatusBadRequest)
	if !strings.Contains(string(mismatch), "Nothing was replaced") {
		t.Errorf("hash mismatch answer %s should say nothing was replaced", mismatch)
	}
	if got := getSymbolSet(t, s, waiting.ID); got.ContentHash == nil || *got.ContentHash != sha512Hex(v1) {
		t.Fatalf("a hash mismatch replaced the stored content: %+v", got)
	}
	if blob := download(t, s, waiting.ID); !bytes.Equal(mapOf(t, blob), rightMap) {
		t.Fatalf("after a refused finish the stored map is not the previous one")
	}
	finish("right hash", map[string]string{entry.SymbolSetID: sha512Hex(v2)}, http.StatusCreated)
	if blob := download(t, s, waiting.ID); !bytes.Equal(mapOf(t, blob), otherMap) {
		t.Fatalf("after force the stored map is not the new one")
	}

	// A presigned POST with a forged token, and a finish before any upload.
	if status, _ := presignedPost(t, entry.PresignedURL.URL, map[string]string{"key": "1", "token": "upload.1.1.9999999999.forged"}, v1); status != http.StatusForbidden {
		t.Errorf("forged upload token: status %d, want 403", status)
	}
	fresh := start("legacy chunk_ids", map[string]any{"chunk_ids": []string{"never-uploaded"}, "release_id": nil}, http.StatusCreated)
	notUploaded := finish("finish without upload", map[string]string{fresh.IDMap["never-uploaded"].SymbolSetID: sha512Hex(v1)}, http.StatusBadRequest)
	if !strings.Contains(string(notUploaded), "file_not_found") {
		t.Errorf("finish before upload: %s, want file_not_found", notUploaded)
	}

	// Legacy routes of older posthog-cli versions, under /api/environments/ too.
	envBase := s.URL + "/api/environments/1/error_tracking/symbol_sets"
	status, answer = rawCall(t, http.MethodPost, envBase+"/start_upload?chunk_id=legacy-one", nil)
	expectStatus(t, "start_upload", status, answer, http.StatusCreated)
	var legacy struct {
		PresignedURL struct {
			URL    string            `json:"url"`
			Fields map[string]string `json:"fields"`
		} `json:"presigned_url"`
		SymbolSetID string `json:"symbol_set_id"`
	}
	decodeInto(t, "start_upload", answer, &legacy)
	if status, answer := presignedPost(t, legacy.PresignedURL.URL, legacy.PresignedURL.Fields, v1); status/100 != 2 {
		t.Fatalf("legacy presigned POST: %d %s", status, answer)
	}
	status, answer = rawCall(t, http.MethodPut, envBase+"/"+legacy.SymbolSetID+"/finish_upload", map[string]string{"content_hash": sha512Hex(v1)})
	expectStatus(t, "finish_upload", status, answer, http.StatusOK)
	legacyCreate(t, envBase+"/?chunk_id=legacy-two&multipart=true", v2)
	legacyTwo := waitForSymbolSet(t, s, "legacy-two")
	if !getSymbolSet(t, s, legacy.SymbolSetID).HasUploadedFile || !legacyTwo.HasUploadedFile {
		t.Fatalf("legacy uploads were not stored")
	}

	// List: filters, order, paging.
	var page struct {
		Count   int            `json:"count"`
		Next    *string        `json:"next"`
		Results []apiSymbolSet `json:"results"`
	}
	status, answer = rawCall(t, http.MethodGet, base+"/?status=valid&order_by=ref&limit=2&offset=0", nil)
	expectStatus(t, "list valid", status, answer, http.StatusOK)
	decodeInto(t, "list", answer, &page)
	if page.Count != 3 || len(page.Results) != 2 || page.Next == nil || page.Results[0].Ref != chunk || page.Results[1].Ref != "legacy-one" {
		t.Errorf("valid sets by ref, 2 per page: %s", answer)
	}
	status, answer = rawCall(t, http.MethodGet, envBase+"/?status=invalid", nil)
	expectStatus(t, "list invalid", status, answer, http.StatusOK)
	decodeInto(t, "list", answer, &page)
	if page.Count != 1 || page.Results[0].Ref != "never-uploaded" {
		t.Errorf("invalid sets: %s", answer)
	}
	if status, answer := rawCall(t, http.MethodGet, base+"/?order_by=size", nil); status != http.StatusBadRequest {
		t.Errorf("unknown order_by: %d %s, want 400", status, answer)
	}

	// Delete one, bulk-delete two; gone afterwards.
	status, answer = rawCall(t, http.MethodDelete, base+"/"+legacyTwo.ID+"/", nil)
	expectStatus(t, "delete", status, answer, http.StatusNoContent)
	status, answer = rawCall(t, http.MethodPost, base+"/bulk_delete", map[string]any{"ids": []string{legacy.SymbolSetID, fresh.IDMap["never-uploaded"].SymbolSetID}})
	expectStatus(t, "bulk_delete", status, answer, http.StatusOK)
	for _, id := range []string{legacyTwo.ID, legacy.SymbolSetID} {
		if status, _ := rawCall(t, http.MethodGet, base+"/"+id+"/", nil); status != http.StatusNotFound {
			t.Errorf("symbol set %s after delete: status %d, want 404", id, status)
		}
	}
}

// legacyCreate is the oldest posthog-cli upload: the blob as a multipart
// part `file` POSTed to the symbol-set collection.
func legacyCreate(t *testing.T, url string, blob []byte) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, _ := w.CreateFormFile("file", "file")
	part.Write(blob)
	w.Close()
	req, err := http.NewRequest(http.MethodPost, url, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	expectStatus(t, "legacy create", resp.StatusCode, answer, http.StatusCreated)
}

// download follows GET {id}/download/ → {"url"} → the blob.
func download(t *testing.T, s *server, id string) []byte {
	t.Helper()
	status, answer := rawCall(t, http.MethodGet, symbolSetsAPI(s)+"/"+id+"/download/", nil)
	expectStatus(t, "download", status, answer, http.StatusOK)
	var link struct {
		URL string `json:"url"`
	}
	decodeInto(t, "download", answer, &link)
	resp, err := http.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	blob, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET the download link: %d %s", resp.StatusCode, blob)
	}
	return blob
}

func mapOf(t *testing.T, blob []byte) []byte {
	t.Helper()
	_, sourceMap, err := symbols.DecodeUploadBlob(blob, 0)
	if err != nil {
		t.Fatalf("downloaded blob: %v", err)
	}
	return sourceMap
}
