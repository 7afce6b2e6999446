package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/internal/testserver"
)

const signInButton = `href="/login">Sign in`

// A signed-in person's error pages keep their navigation: never a "Sign
// in" button on a 404 or a 400.
func TestErrorPagesKeepTheSession(t *testing.T) {
	s := testserver.New(t)
	s.SignIn()
	for name, res := range map[string]testserver.Response{
		"unknown issue":      s.Get("/issues/999999"),
		"unknown page":       s.Get("/settings/no-such-page"),
		"unknown project":    s.Get("/issues?project=424242"),
		"invalid rate limit": s.PostForm("/settings/project", url.Values{"rate_limit": {"fast"}}),
		"unknown symbol set": s.Get("/settings/symbol-sets/77"),
		"malformed issue id": s.Get("/issues/abc"),
		"wrong method":       s.PostForm("/issues", nil),
	} {
		if res.Status < 400 || res.Status >= 500 {
			t.Errorf("%s: status %d, want a 4xx page", name, res.Status)
			continue
		}
		if strings.Contains(res.Body, signInButton) {
			t.Errorf("%s (%d): a signed-in person is offered to sign in", name, res.Status)
		}
		if !strings.Contains(res.Body, testserver.AdminEmail) {
			t.Errorf("%s (%d): the page lacks the person's navigation", name, res.Status)
		}
	}
}

// Without a session the error page (here: an invitation link that is not one) offers to sign in.
func TestErrorPageWithoutSessionOffersSignIn(t *testing.T) {
	s := testserver.New(t)
	s.SignIn()
	res := s.Browser().Get("/invite/not-a-real-invitation-token")
	if res.Status < 400 || res.Status >= 500 {
		t.Fatalf("status %d, want a 4xx page", res.Status)
	}
	if !strings.Contains(res.Body, signInButton) {
		t.Errorf("a signed-out 404 page has no sign-in button")
	}
}

type apiErrorBody struct {
	Type, Code, Detail string
}

func decodeAPIError(t *testing.T, what string, res testserver.Response) apiErrorBody {
	t.Helper()
	var e apiErrorBody
	if err := json.Unmarshal([]byte(res.Body), &e); err != nil {
		t.Fatalf("%s: %d %q is not JSON: %v", what, res.Status, res.Body, err)
	}
	if e.Detail == "" {
		t.Errorf("%s: no detail in %s", what, res.Body)
	}
	return e
}

// API, capture and upload-link paths answer one JSON shape, PostHog's.
func TestAPIErrorsArePostHogShaped(t *testing.T) {
	s := testserver.New(t)
	key := s.APIKey()
	bearer := func(method, path, body string) testserver.Response {
		req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		return s.Do(req)
	}
	capture, _ := http.NewRequest(http.MethodPost, s.URL+"/e/", strings.NewReader(`{"api_key":"phc_nobody","event":"$exception","properties":{}}`))
	noKey, _ := http.NewRequest(http.MethodGet, s.URL+"/api/projects/1/error_tracking/issues", nil)
	for _, c := range []struct {
		name      string
		res       testserver.Response
		status    int
		typ, code string
	}{
		{"unknown project", bearer(http.MethodGet, "/api/projects/999/error_tracking/issues", ""), 404, "invalid_request", "not_found"},
		{"no key", s.Do(noKey), 401, "authentication_error", "authentication_required"},
		{"unknown API path", bearer(http.MethodGet, "/api/projects/1/nothing-here", ""), 404, "invalid_request", "not_found"},
		{"bad status filter", bearer(http.MethodGet, "/api/projects/1/error_tracking/symbol_sets/?status=odd", ""), 400, "validation_error", "invalid_input"},
		{"unknown symbol set", bearer(http.MethodGet, "/api/projects/1/error_tracking/symbol_sets/5/", ""), 404, "invalid_request", "not_found"},
		{"start without chunks", bearer(http.MethodPost, "/api/projects/1/error_tracking/symbol_sets/bulk_start_upload", `{"symbol_sets":[]}`), 400, "validation_error", "invalid_input"},
		{"forged upload link", s.Do(multipartPost(t, s.URL+"/uploads/symbol-sets", map[string]string{"token": "upload.1.1.1.forged"})), 403, "authentication_error", "invalid_link"},
		{"capture with unknown token", s.Do(capture), 401, "authentication_error", "invalid_api_key"},
	} {
		if c.res.Status != c.status {
			t.Errorf("%s: status %d (%s), want %d", c.name, c.res.Status, c.res.Body, c.status)
			continue
		}
		if ct := c.res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q, want JSON", c.name, ct)
		}
		e := decodeAPIError(t, c.name, c.res)
		if e.Type != c.typ || e.Code != c.code {
			t.Errorf("%s: type %q code %q, want %q %q", c.name, e.Type, e.Code, c.typ, c.code)
		}
	}
}

func multipartPost(t *testing.T, target string, fields map[string]string) *http.Request {
	t.Helper()
	var b strings.Builder
	const boundary = "testboundary"
	for k, v := range fields {
		b.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v + "\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	return req
}

func regexpFind(pattern, s string) string {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}
