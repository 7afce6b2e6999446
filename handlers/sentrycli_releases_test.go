package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/internal/testserver"
)

// TestSentryReleaseEndpoints drives the release endpoints sentry-cli calls:
// a version no project has is a 404 on each of them, a bad body a 400 before
// that, and a created release answers by its (percent-encoded) version.
func TestSentryReleaseEndpoints(t *testing.T) {
	s := testserver.New(t)
	const base = "/api/0/organizations/acme/releases/"
	for _, c := range []struct{ method, path, body string }{
		{http.MethodGet, base + "nope@1/", ""},
		{http.MethodPut, base + "nope@1/", `{"dateReleased":"2026-01-01T00:00:00Z"}`},
		{http.MethodDelete, base + "nope@1/", ""},
		{http.MethodGet, base + "nope@1/deploys/", ""},
		{http.MethodPost, base + "nope@1/deploys/", `{"environment":"production"}`},
	} {
		res := s.API(c.method, c.path, c.body)
		if res.Status != http.StatusNotFound || !strings.Contains(res.Body, "release_not_found") || !strings.Contains(res.Body, `There is no release \"nope@1\"`) {
			t.Errorf("%s %s: %d %s; want 404 release_not_found naming the version", c.method, c.path, res.Status, res.Body)
		}
	}
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPut, base + "nope@1/", `{"status":"gone"}`},
		{http.MethodPost, base + "nope@1/deploys/", `{}`},
		{http.MethodPost, base, `{"version":"latest","projects":["1"]}`},
		{http.MethodPost, base, `{"version":"  ","projects":["1"]}`},
		{http.MethodPost, base, `{"version":"web@1.0.0","projects":["1"],"status":"gone"}`},
		{http.MethodPost, base, `{"version":"web@1.0.0"}`},
	} {
		if res := s.API(c.method, c.path, c.body); res.Status != http.StatusBadRequest {
			t.Errorf("%s %s %s: %d %s; want 400", c.method, c.path, c.body, res.Status, res.Body)
		}
	}

	if res := s.API(http.MethodPost, base, `{"version":"web@1.0.0+b/7","projects":["1"]}`); res.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	if res := s.API(http.MethodPost, base, `{"version":"web@1.0.0+b/7","projects":["1"]}`); res.Status != http.StatusAlreadyReported {
		t.Errorf("create again: %d %s; want 208", res.Status, res.Body)
	}
	escaped := base + "web%401.0.0%2Bb%2F7/"
	if res := s.API(http.MethodPut, escaped, `{"dateReleased":"2026-01-02T03:04:05Z"}`); res.Status != http.StatusOK || !strings.Contains(res.Body, `"dateReleased":"2026-01-02T03:04:05Z"`) {
		t.Errorf("finalize: %d %s", res.Status, res.Body)
	}
	if res := s.API(http.MethodPost, escaped+"deploys/", `{"environment":"staging"}`); res.Status != http.StatusCreated {
		t.Errorf("deploy: %d %s", res.Status, res.Body)
	}
	if res := s.API(http.MethodGet, escaped, ""); res.Status != http.StatusOK || !strings.Contains(res.Body, `"deployCount":1`) || !strings.Contains(res.Body, `"shortVersion":"1.0.0+b/7"`) {
		t.Errorf("info: %d %s", res.Status, res.Body)
	}
	if res := s.API(http.MethodDelete, escaped, ""); res.Status != http.StatusNoContent {
		t.Errorf("delete: %d %s", res.Status, res.Body)
	}
	if res := s.API(http.MethodGet, escaped, ""); res.Status != http.StatusNotFound {
		t.Errorf("info after delete: %d %s; want 404", res.Status, res.Body)
	}
}
