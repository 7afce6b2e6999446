package e2e

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPersonalAPIKeys: a key created on the project page is shown once and
// works as a Bearer key; once revoked it is refused with 401.
func TestPersonalAPIKeys(t *testing.T) {
	s := startServer(t, serverOptions{})
	b := newBrowser(t, s)
	b.login(t)
	settings := b.get(t, "/settings/project")
	create, ok := findForm(t, settings.Body, func(f form) bool { return f.has("label") })
	if !ok {
		t.Fatalf("no form with a label field on /settings/project")
	}
	// An empty label is refused and creates nothing.
	empty := cloneValues(create.Fields)
	empty.Set("label", "  ")
	if got := b.postForm(t, create.Action, empty); got.Status != http.StatusUnprocessableEntity || !strings.Contains(pageText(t, got.Body), "Give the key a label") {
		t.Fatalf("empty label: status %d, want 422 with a reason", got.Status)
	}
	fields := cloneValues(create.Fields)
	fields.Set("label", "CI deploys")
	created := b.postForm(t, create.Action, fields)
	if created.Status != http.StatusCreated {
		t.Fatalf("create key: status %d, want 201; %s", created.Status, truncate(pageText(t, created.Body), 1000))
	}
	key := regexp.MustCompile(`id="new-api-key"[^>]*>(phx_[A-Za-z0-9_-]+)<`).FindStringSubmatch(created.Body)
	if key == nil {
		t.Fatalf("the new key is not shown: %s", truncate(pageText(t, created.Body), 1000))
	}
	call := func(k string) int {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, symbolSetsAPI(s)+"/", nil)
		req.Header.Set("Authorization", "Bearer "+k)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := call(key[1]); status != http.StatusOK {
		t.Fatalf("new key as Bearer: status %d, want 200", status)
	}
	// The list shows the key masked, used, and never the key itself again.
	listed := b.get(t, "/settings/project")
	text := pageText(t, listed.Body)
	if strings.Contains(listed.Body, key[1]) || !strings.Contains(text, "CI deploys") || !strings.Contains(text, key[1][:4]+"…"+key[1][len(key[1])-4:]) {
		t.Fatalf("project page after creating: the key must be listed masked, not shown: %s", truncate(text, 1500))
	}
	if mask := key[1][:4] + "…" + key[1][len(key[1])-4:]; !strings.Contains(strings.ReplaceAll(text, " ", ""), "CIdeploys"+mask+"justnowjustnow") {
		t.Errorf("the key's last use is not shown: %s", truncate(text, 1500))
	}
	revoke, ok := findForm(t, listed.Body, func(f form) bool { return strings.Contains(f.Action, "/revoke") })
	if !ok {
		t.Fatalf("no revoke form")
	}
	if got := b.postForm(t, revoke.Action, revoke.Fields); got.Status != http.StatusSeeOther {
		t.Fatalf("revoke: status %d, want 303", got.Status)
	}
	if status := call(key[1]); status != http.StatusUnauthorized {
		t.Fatalf("revoked key as Bearer: status %d, want 401", status)
	}
	// Revoking again, or another id, is a clear 404.
	if got := b.postForm(t, revoke.Action, revoke.Fields); got.Status != http.StatusNotFound {
		t.Errorf("revoke twice: status %d, want 404", got.Status)
	}
	if status := call(apiKey); status != http.StatusOK {
		t.Errorf("the STACKLENS_API_KEY key stopped working: %d", status)
	}
}
