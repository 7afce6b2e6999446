package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/internal/testserver"
)

// Issue pages and their forms (handlers/issues*.go).
func TestIssuePagesAndActions(t *testing.T) {
	s := testserver.New(t)
	s.SignIn()
	first := s.CaptureException("CheckoutError", "card declined")
	second := s.CaptureException("RenderError", "undefined is not a function")

	list := s.Get("/issues")
	if list.Status != http.StatusOK || !list.Has("CheckoutError") || !list.Has("RenderError") {
		t.Fatalf("GET /issues: %d, want both issues listed", list.Status)
	}
	page := s.Get(fmt.Sprintf("/issues/%d", first))
	if page.Status != http.StatusOK || !page.Has("card declined") {
		t.Fatalf("GET /issues/%d: %d, want the issue with its description", first, page.Status)
	}
	if res := s.Get(fmt.Sprintf("/issues/%d?range=1y", first)); res.Status != http.StatusBadRequest || !res.Has(`Unknown chart range "1y": use 24h, 7d or 30d.`) {
		t.Errorf("bad chart range: %d, want 400 naming the problem", res.Status)
	}

	issuePath := fmt.Sprintf("/issues/%d", first)
	for _, c := range []struct {
		path   string
		form   url.Values
		status int
		says   string
	}{
		{issuePath + "/status", url.Values{"status": {"gone"}}, 400, `Unknown status "gone": use active, resolved or suppressed.`},
		{issuePath + "/status", url.Values{"status": {"resolved"}, "resolved_in_release": {strings.Repeat("r", 501)}}, 400, "A release name is limited to 500 characters."},
		{issuePath + "/edit", url.Values{"name": {"  "}}, 400, "The name cannot be empty."},
		{issuePath + "/assignee", url.Values{"assignee": {"someone"}}, 400, "The assignee must be a user id, or empty for nobody."},
		{"/issues/999999/status", url.Values{"status": {"resolved"}}, 404, ""},
		{"/issues/bulk", url.Values{"action": {"resolve"}}, 400, "Tick at least one issue first."},
		{"/issues/bulk", url.Values{"action": {"explode"}, "ids": {strconv.FormatInt(first, 10)}}, 400, `Unknown action "explode"`},
		{"/issues/merge", url.Values{"ids": {strconv.FormatInt(first, 10)}, "into": {strconv.FormatInt(first, 10)}}, 400, "Tick at least two issues to merge."},
	} {
		res := s.PostForm(c.path, c.form)
		if res.Status != c.status || !res.Has(c.says) {
			t.Errorf("POST %s %v: %d, want %d saying %q", c.path, c.form, res.Status, c.status, c.says)
		}
	}

	if res := s.PostForm(issuePath+"/status", url.Values{"status": {"resolved"}}); res.Status != http.StatusSeeOther || res.Location() != issuePath {
		t.Fatalf("resolve: %d → %q, want 303 → %s", res.Status, res.Location(), issuePath)
	}
	if res := s.PostForm(issuePath+"/edit", url.Values{"name": {"Checkout fails"}, "description": {"on Visa"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d", res.Status)
	}
	var is struct{ Name, Description, Status string }
	if err := json.Unmarshal([]byte(s.API(http.MethodGet, "/api/projects/1/error_tracking/issues/"+strconv.FormatInt(first, 10), "").Body), &is); err != nil {
		t.Fatal(err)
	}
	if is.Name != "Checkout fails" || is.Description != "on Visa" || is.Status != "resolved" {
		t.Errorf("after the forms the issue is %+v", is)
	}

	res := s.PostForm("/issues/bulk", url.Values{"action": {"suppress"}, "ids": {strconv.FormatInt(first, 10), strconv.FormatInt(second, 10)}, "return": {"/issues?status=all"}})
	if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/issues?") || !strings.Contains(res.Location(), "count=2") {
		t.Errorf("bulk suppress: %d → %q, want 303 back to the list with count=2", res.Status, res.Location())
	}
	res = s.PostForm("/issues/merge", url.Values{"ids": {strconv.FormatInt(first, 10), strconv.FormatInt(second, 10)}, "into": {strconv.FormatInt(second, 10)}})
	if res.Status != http.StatusSeeOther || res.Location() != fmt.Sprintf("/issues/%d", second) {
		t.Errorf("merge: %d → %q, want 303 → /issues/%d", res.Status, res.Location(), second)
	}
	if res := s.Get(issuePath); res.Status != http.StatusPermanentRedirect || res.Location() != fmt.Sprintf("/issues/%d", second) {
		t.Errorf("merged issue's page: %d → %q, want 308 to the issue it went into", res.Status, res.Location())
	}
}

// The issue API (handlers/api.go): PostHog's shapes and validation.
func TestIssueAPI(t *testing.T) {
	s := testserver.New(t)
	id := s.CaptureException("TypeError", "x is undefined")
	path := "/api/projects/1/error_tracking/issues/" + strconv.FormatInt(id, 10)
	for _, c := range []struct {
		body   string
		status int
		says   string
	}{
		{`[1]`, 400, "The body must be a JSON object"},
		{`{"status":"deleted"}`, 400, "status must be active, resolved or suppressed."},
		{`{"status":"active","resolved_in_release":"1.0"}`, 400, "resolved_in_release goes with"},
	} {
		res := s.API(http.MethodPatch, path, c.body)
		if res.Status != c.status || !strings.Contains(res.Body, c.says) {
			t.Errorf("PATCH %s: %d %s, want %d saying %q", c.body, res.Status, res.Body, c.status, c.says)
		}
	}
	if res := s.API(http.MethodPatch, path, `{"status":"resolved"}`); res.Status != http.StatusOK || !strings.Contains(res.Body, `"status":"resolved"`) {
		t.Errorf("PATCH resolved: %d %s", res.Status, res.Body)
	}
	events := s.API(http.MethodGet, path+"/events?limit=5", "")
	if events.Status != http.StatusOK || !strings.Contains(events.Body, "x is undefined") {
		t.Errorf("events: %d %s", events.Status, events.Body)
	}
	if res := s.API(http.MethodGet, "/api/projects/1/error_tracking/issues/424242", ""); res.Status != http.StatusNotFound {
		t.Errorf("unknown issue: %d, want 404", res.Status)
	}
}
