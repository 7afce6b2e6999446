package static

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec
}

func TestURLIsContentHashed(t *testing.T) {
	for _, name := range []string{"app.css", "app.js", "favicon.svg"} {
		url := URL(name)
		stem, ext, _ := strings.Cut(name, ".")
		if !regexp.MustCompile(`^/static/` + stem + `\.[0-9a-f]{8}\.` + ext + `$`).MatchString(url) {
			t.Errorf("URL(%q) = %q, want /static/%s.<hash>.%s", name, url, stem, ext)
		}
		if URL(name) != url {
			t.Errorf("URL(%q) is not stable", name)
		}
	}
	if URL("app.css") == URL("app.js") {
		t.Error("different files share a URL")
	}
	if got := URL("nope.css"); got != "/static/nope.css" {
		t.Errorf("unknown name: %q", got)
	}
}

func TestHandlerServesHashedFilesImmutable(t *testing.T) {
	rec := get(t, URL("app.css"))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if got := rec.Header().Get("Cache-Control"); !strings.Contains(got, "immutable") || !strings.Contains(got, "max-age=31536000") {
		t.Errorf("Cache-Control = %q", got)
	}
	if got := rec.Header().Get("Content-Type"); got != "text/css; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if !strings.Contains(rec.Body.String(), ".chroma .k {") {
		t.Error("app.css lacks the token colours")
	}
	if ct := get(t, URL("favicon.svg")).Header().Get("Content-Type"); ct != "image/svg+xml" {
		t.Errorf("favicon Content-Type = %q", ct)
	}
	if ct := get(t, URL("app.js")).Header().Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("app.js Content-Type = %q", ct)
	}
}

func TestHandlerServesPlainNamesRevalidated(t *testing.T) {
	rec := get(t, "/static/app.js")
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("status %d, Cache-Control %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if rec := get(t, "/static/app.js", "If-None-Match", etag); rec.Code != http.StatusNotModified {
		t.Errorf("conditional GET: status %d, want 304", rec.Code)
	}
	// A prefix already stripped by a router works too.
	if rec := get(t, "/app.js"); rec.Code != http.StatusOK {
		t.Errorf("stripped path: status %d", rec.Code)
	}
}

func TestHandlerLeavesOtherStaticPathsAlone(t *testing.T) {
	// posthog-js asks the API host for its lazy-loaded scripts under /static/.
	for _, p := range []string{"/static/1.449.2/exception-autocapture.js", "/static/app.00000000.css", "/static/", "/static/../embed.go", "/static/embed.go"} {
		if Has(p) {
			t.Errorf("Has(%q) = true", p)
		}
		if rec := get(t, p); rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, rec.Code)
		}
	}
	for _, p := range []string{URL("app.css"), "/static/app.css", "favicon.svg"} {
		if !Has(p) {
			t.Errorf("Has(%q) = false", p)
		}
	}
}

func TestHandlerRejectsWrites(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, URL("app.css"), nil)
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", rec.Code)
	}
}
