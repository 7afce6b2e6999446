package handlers_test

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/internal/testserver"
	"github.com/stacklens/stacklens/symbols"
)

const setsAPI = "/api/projects/1/error_tracking/symbol_sets"

// buildFiles is a minified file and its map for chunk id chunk.
func buildFiles(chunk string) (minified, sourceMap []byte) {
	minified = []byte("function a(){throw new Error(\"x\")}\n//# chunkId=" + chunk + "\n")
	sourceMap = []byte(`{"version":3,"file":"app.js","chunk_id":"` + chunk + `","sources":["src/app.ts"],` +
		`"sourcesContent":["export function crash() { throw new Error('x') }\n"],"names":["crash"],"mappings":"AAAA,SAASA"}`)
	return minified, sourceMap
}

func blobOf(chunk string) ([]byte, string) {
	minified, sourceMap := buildFiles(chunk)
	blob := symbols.EncodeUploadBlob(symbols.BlobVersion2, false, minified, sourceMap)
	sum := sha512.Sum512(blob)
	return blob, hex.EncodeToString(sum[:])
}

type idMap map[string]struct {
	PresignedURL struct {
		URL    string            `json:"url"`
		Fields map[string]string `json:"fields"`
	} `json:"presigned_url"`
	SymbolSetID string `json:"symbol_set_id"`
}

// startUploads calls bulk_start_upload and returns its id_map.
func startUploads(t *testing.T, s *testserver.Server, body string, want int) idMap {
	t.Helper()
	res := s.API(http.MethodPost, setsAPI+"/bulk_start_upload", body)
	if res.Status != want {
		t.Fatalf("bulk_start_upload %s: %d %s, want %d", body, res.Status, res.Body, want)
	}
	var out struct {
		IDMap idMap `json:"id_map"`
	}
	_ = json.Unmarshal([]byte(res.Body), &out)
	return out.IDMap
}

// postPresigned posts a file to a presigned URL as posthog-cli does.
func postPresigned(t *testing.T, s *testserver.Server, target string, fields map[string]string, file []byte) testserver.Response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	part, _ := w.CreateFormFile("file", "blob")
	_, _ = part.Write(file)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, target, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return s.Do(req)
}

func symbolSetRefs(t *testing.T, s *testserver.Server) map[string]bool {
	t.Helper()
	var list struct {
		Results []struct {
			Ref     string  `json:"ref"`
			Release *string `json:"release"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(s.API(http.MethodGet, setsAPI+"/?status=all", "").Body), &list); err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{}
	for _, r := range list.Results {
		refs[r.Ref] = true
		if r.Release != nil {
			refs[r.Ref+"@"+*r.Release] = true
		}
	}
	return refs
}

// posthog-cli's upload over HTTP (handlers/symbolsets_api_upload.go): the
// three steps, a wrong hash, and a conflict half-way through a start that
// changes nothing (symbols/upload_test.go checks the same on the file).
func TestPosthogCLIUploadOverHTTP(t *testing.T) {
	s := testserver.New(t)
	blobA, hashA := blobOf("chunk-a")
	started := startUploads(t, s, `{"symbol_sets":[{"chunk_id":"chunk-a","content_hash":"`+hashA+`"}]}`, http.StatusCreated)
	a := started["chunk-a"]
	if !strings.HasSuffix(a.PresignedURL.URL, "/uploads/symbol-sets") || a.PresignedURL.Fields["token"] == "" {
		t.Fatalf("presigned POST %+v", a.PresignedURL)
	}
	if res := postPresigned(t, s, a.PresignedURL.URL, a.PresignedURL.Fields, blobA); res.Status != http.StatusNoContent {
		t.Fatalf("upload: %d %s", res.Status, res.Body)
	}
	if res := s.API(http.MethodPost, setsAPI+"/bulk_finish_upload", `{"content_hashes":{"`+a.SymbolSetID+`":"`+strings.Repeat("0", 128)+`"}}`); res.Status != http.StatusBadRequest || !strings.Contains(res.Body, "content_hash_mismatch") {
		t.Errorf("finish with the wrong hash: %d %s", res.Status, res.Body)
	}
	if res := s.API(http.MethodPost, setsAPI+"/bulk_finish_upload", `{"content_hashes":{"`+a.SymbolSetID+`":"`+hashA+`"}}`); res.Status != http.StatusCreated {
		t.Fatalf("finish: %d %s", res.Status, res.Body)
	}
	if res := s.API(http.MethodGet, setsAPI+"/"+a.SymbolSetID+"/", ""); !strings.Contains(res.Body, `"has_uploaded_file":true`) {
		t.Errorf("after finishing: %s", res.Body)
	}

	// chunk-a unchanged (it would only get the release), chunk-b and
	// chunk-a2 new, then a repeated chunk (400) or a conflicting one (409).
	_, otherHash := blobOf("other")
	body := `{"symbol_sets":[{"chunk_id":"chunk-a","release_id":"v2","content_hash":"` + hashA + `"},` +
		`{"chunk_id":"chunk-b","release_id":"v2"},{"chunk_id":"chunk-a2"},` +
		`{"chunk_id":"chunk-a","release_id":"v2","content_hash":"` + otherHash + `"}]}`
	if res := s.API(http.MethodPost, setsAPI+"/bulk_start_upload", body); res.Status != http.StatusBadRequest || !strings.Contains(res.Body, "Duplicate chunk IDs") {
		t.Errorf("duplicate chunk ids: %d %s", res.Status, res.Body)
	}
	// Store chunk-c, so that other content for it conflicts.
	blobC, hashC := blobOf("chunk-c")
	c := startUploads(t, s, `{"symbol_sets":[{"chunk_id":"chunk-c","content_hash":"`+hashC+`"}]}`, http.StatusCreated)["chunk-c"]
	postPresigned(t, s, c.PresignedURL.URL, c.PresignedURL.Fields, blobC)
	if res := s.API(http.MethodPost, setsAPI+"/bulk_finish_upload", `{"content_hashes":{"`+c.SymbolSetID+`":"`+hashC+`"}}`); res.Status != http.StatusCreated {
		t.Fatalf("finish chunk-c: %d %s", res.Status, res.Body)
	}
	before := symbolSetRefs(t, s)
	conflicting := strings.Replace(body, `{"chunk_id":"chunk-a","release_id":"v2","content_hash":"`+otherHash+`"}`,
		`{"chunk_id":"chunk-c","content_hash":"`+otherHash+`"}`, 1)
	res := s.API(http.MethodPost, setsAPI+"/bulk_start_upload", conflicting)
	if res.Status != http.StatusConflict || !strings.Contains(res.Body, `"code":"content_hash_mismatch"`) {
		t.Fatalf("conflict half-way: %d %s, want 409 content_hash_mismatch", res.Status, res.Body)
	}
	if after := symbolSetRefs(t, s); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a refused start changed the symbol sets:\nbefore %v\nafter  %v", before, after)
	}
	if res := s.API(http.MethodPost, setsAPI+"/bulk_start_upload", strings.Replace(conflicting, `"symbol_sets"`, `"skip_on_conflict":true,"symbol_sets"`, 1)); res.Status != http.StatusCreated {
		t.Errorf("skip_on_conflict: %d %s", res.Status, res.Body)
	}
	after := symbolSetRefs(t, s)
	for _, want := range []string{"chunk-a@v2", "chunk-b@v2", "chunk-a2"} {
		if !after[want] {
			t.Errorf("after skip_on_conflict, %s is missing from %v", want, after)
		}
	}
}

// The legacy one-request upload and the download link (handlers/symbolsets_api*.go).
func TestSymbolSetAPILegacyCreateAndDownload(t *testing.T) {
	s := testserver.New(t)
	blob, _ := blobOf("legacy")
	req, _ := http.NewRequest(http.MethodPost, s.URL+setsAPI+"/?chunk_id=legacy&release_id=1.0", bytes.NewReader(blob))
	req.Header.Set("Authorization", "Bearer "+s.APIKey())
	if res := s.Do(req); res.Status != http.StatusCreated {
		t.Fatalf("legacy create: %d %s", res.Status, res.Body)
	}
	req, _ = http.NewRequest(http.MethodPost, s.URL+setsAPI+"/?chunk_id=broken", strings.NewReader("not a blob"))
	req.Header.Set("Authorization", "Bearer "+s.APIKey())
	if res := s.Do(req); res.Status != http.StatusBadRequest || !strings.Contains(res.Body, `"code":"invalid_file"`) {
		t.Errorf("legacy create of garbage: %d %s", res.Status, res.Body)
	}
	var list struct {
		Results []struct {
			ID string `json:"id"`
		} `json:"results"`
	}
	_ = json.Unmarshal([]byte(s.API(http.MethodGet, setsAPI+"?ref=legacy", "").Body), &list)
	if len(list.Results) != 1 {
		t.Fatalf("ref=legacy lists %d sets", len(list.Results))
	}
	var link struct{ URL string }
	_ = json.Unmarshal([]byte(s.API(http.MethodGet, setsAPI+"/"+list.Results[0].ID+"/download/", "").Body), &link)
	got, err := http.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(got.Body)
	minified, sourceMap, err := symbols.DecodeUploadBlob(b.Bytes(), 0)
	wantMin, wantMap := buildFiles("legacy")
	if got.StatusCode != http.StatusOK || err != nil || !bytes.Equal(minified, wantMin) || !bytes.Equal(sourceMap, wantMap) {
		t.Errorf("download: %d, %v; the blob does not hold the uploaded files", got.StatusCode, err)
	}
	if res := s.Get("/downloads/symbol-sets/download.1.1.1.forged"); res.Status != http.StatusForbidden || !strings.Contains(res.Body, "invalid_link") {
		t.Errorf("forged download link: %d %s", res.Status, res.Body)
	}
	if res := s.API(http.MethodDelete, setsAPI+"/"+list.Results[0].ID+"/", ""); res.Status != http.StatusNoContent {
		t.Errorf("delete: %d", res.Status)
	}
	if res := s.API(http.MethodGet, setsAPI+"/"+list.Results[0].ID+"/", ""); res.Status != http.StatusNotFound {
		t.Errorf("get after delete: %d", res.Status)
	}
}

// awaitChunk records a chunk id waiting for its map (as a frame naming it
// would) and returns its symbol set id.
func awaitChunk(t *testing.T, s *testserver.Server, chunk string) string {
	t.Helper()
	return startUploads(t, s, `{"symbol_sets":[{"chunk_id":"`+chunk+`"}]}`, http.StatusCreated)[chunk].SymbolSetID
}

// The symbol-set pages and the browser's upload form (handlers/symbolsets*.go).
func TestSymbolSetPagesAndUploadForm(t *testing.T) {
	s := testserver.New(t)
	s.SignIn()
	id := awaitChunk(t, s, "page-chunk")
	page := "/settings/symbol-sets/" + id
	if res := s.Get("/settings/symbol-sets?status=missing"); res.Status != http.StatusOK || !res.Has("page-chunk") {
		t.Errorf("list: %d, want the waiting chunk", res.Status)
	}
	if res := s.Get("/settings/symbol-sets?status=odd"); res.Status != http.StatusBadRequest || !res.Has(`Unknown status filter "odd"`) {
		t.Errorf("bad filter: %d", res.Status)
	}
	if res := s.Get(page); res.Status != http.StatusOK || !res.Has("page-chunk") {
		t.Errorf("detail: %d", res.Status)
	}
	minified, sourceMap := buildFiles("page-chunk")
	for _, c := range []struct {
		name  string
		files []testserver.File
		says  string
	}{
		{"no file", nil, "Choose a source map file to upload."},
		{"not a map", []testserver.File{{Field: "source_map", Name: "app.js.map", Data: []byte("{nope")}}, "This file is not a usable source map"},
		{"swapped", []testserver.File{{Field: "source_map", Name: "app.js", Data: minified}, {Field: "minified", Name: "app.js.map", Data: sourceMap}}, "swapped"},
	} {
		res := s.PostMultipart(page+"/upload", nil, c.files...)
		if res.Status != http.StatusUnprocessableEntity || !res.Has(c.says) {
			t.Errorf("upload %s: %d, want 422 saying %q", c.name, res.Status, c.says)
		}
	}
	if res := s.Get(page + "/download?file=map"); res.Status != http.StatusNotFound {
		t.Errorf("download before an upload: %d, want 404", res.Status)
	}
	res := s.PostMultipart(page+"/upload", nil, testserver.File{Field: "source_map", Name: "app.js.map", Data: sourceMap}, testserver.File{Field: "minified", Name: "app.js", Data: minified})
	if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location(), page+"?") || !strings.Contains(res.Location(), "done=uploaded") {
		t.Fatalf("upload: %d → %q", res.Status, res.Location())
	}
	if res := s.Get(page + "/download?file=map"); res.Status != http.StatusOK || res.Body != string(sourceMap) || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("download map: %d %q", res.Status, res.Header.Get("Content-Disposition"))
	}
	if res := s.Get(page + "/download?file=both"); res.Status != http.StatusBadRequest {
		t.Errorf("download file=both: %d, want 400", res.Status)
	}
	if res := s.PostForm(page+"/retry", nil); res.Status != http.StatusBadRequest || !res.Has("not a URL") {
		t.Errorf("retry a chunk-id set: %d, want 400", res.Status)
	}
	if res := s.PostForm(page+"/delete", nil); res.Status != http.StatusSeeOther || !strings.Contains(res.Location(), "done=deleted") {
		t.Errorf("delete: %d → %q", res.Status, res.Location())
	}
	if res := s.PostForm(page+"/delete", nil); res.Status != http.StatusNotFound {
		t.Errorf("delete again: %d, want 404", res.Status)
	}
	if res := s.PostMultipart("/settings/symbol-sets/"+id+"/upload", url.Values{}); res.Status != http.StatusNotFound {
		t.Errorf("upload to a deleted set: %d, want 404", res.Status)
	}
}

// The bulk upload (handlers/symbolsets_bulk.go): pair first, store on confirmation, once.
func TestBulkUploadForm(t *testing.T) {
	s := testserver.New(t)
	s.SignIn()
	awaitChunk(t, s, "bulk-1")
	awaitChunk(t, s, "bulk-2")
	if res := s.PostMultipart("/settings/symbol-sets/upload", nil); res.Status != http.StatusUnprocessableEntity || !res.Has("Choose the .js and .map files of your build.") {
		t.Errorf("no files: %d", res.Status)
	}
	min1, map1 := buildFiles("bulk-1")
	min2, map2 := buildFiles("bulk-2")
	preview := s.PostMultipart("/settings/symbol-sets/upload", nil,
		testserver.File{Field: "files", Name: "dist/one.js", Data: min1}, testserver.File{Field: "files", Name: "dist/one.js.map", Data: map1},
		testserver.File{Field: "files", Name: "dist/two.js", Data: min2}, testserver.File{Field: "files", Name: "dist/two.js.map", Data: map2},
		testserver.File{Field: "files", Name: "README.md", Data: []byte("hello")})
	batch := regexpFind(`name="batch" value="([^"]+)"`, preview.Body)
	if preview.Status != http.StatusOK || batch == "" || !preview.Has("<code>one.js.map</code>") || !preview.Has("README.md") {
		t.Fatalf("preview: %d, batch %q", preview.Status, batch)
	}
	if got := symbolSetRefs(t, s); len(got) != 2 {
		t.Errorf("the preview stored something: %v", got)
	}
	res := s.PostForm("/settings/symbol-sets/upload/confirm", url.Values{"batch": {batch}})
	if res.Status != http.StatusSeeOther || !strings.Contains(res.Location(), "stored=2") {
		t.Fatalf("confirm: %d → %q, want both stored", res.Status, res.Location())
	}
	if res := s.API(http.MethodGet, setsAPI+"/?status=valid", ""); !strings.Contains(res.Body, `"count":2`) {
		t.Errorf("after confirming: %s", res.Body)
	}
	if res := s.PostForm("/settings/symbol-sets/upload/confirm", url.Values{"batch": {batch}}); res.Status != http.StatusGone || !res.Has("These files are no longer here") {
		t.Errorf("confirm twice: %d, want 410", res.Status)
	}
	if res := s.PostForm("/settings/symbol-sets/upload/confirm", url.Values{"batch": {"../../etc"}}); res.Status != http.StatusGone {
		t.Errorf("confirm a made-up batch: %d, want 410", res.Status)
	}
}
