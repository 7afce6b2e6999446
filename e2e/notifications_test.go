package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// jsonHook is the body of a webhook in the "json" format.
type jsonHook struct {
	Event   string `json:"event"`
	Test    bool   `json:"test"`
	Project struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"project"`
	Issue struct {
		ID          int64  `json:"id"`
		Name        string `json:"name"`
		Description string `json:"description"`
		Status      string `json:"status"`
		Occurrences int64  `json:"occurrences"`
		FirstSeen   string `json:"first_seen"`
		LastSeen    string `json:"last_seen"`
		URL         string `json:"url"`
	} `json:"issue"`
	LatestEvent struct {
		UUID      string `json:"uuid"`
		Timestamp string `json:"timestamp"`
		URL       string `json:"url"`
	} `json:"latest_event"`
}

// slackHook is a Slack incoming-webhook message.
type slackHook struct {
	Text   string `json:"text"`
	Blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"text"`
		Elements []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"elements"`
	} `json:"blocks"`
}

func decodeHook[T any](t *testing.T, h hook) T {
	t.Helper()
	var out T
	if h.Method != http.MethodPost || !strings.HasPrefix(h.ContentType, "application/json") {
		t.Errorf("webhook request: %s with Content-Type %q, want POST application/json", h.Method, h.ContentType)
	}
	if err := json.Unmarshal(h.Body, &out); err != nil {
		t.Fatalf("webhook body is not the expected JSON: %v\n%s", err, h.Body)
	}
	return out
}

// TestWebhooksOnNewIssueAndRegression adds a JSON and a Slack webhook through
// the settings page, sends an error, resolves its issue through the API and
// sends the error again: each receiver hears of the new issue, then of the
// regression, with links made from STACKLENS_PUBLIC_URL.
func TestWebhooksOnNewIssueAndRegression(t *testing.T) {
	const publicURL = "http://stacklens.example:8000"
	s := startServer(t, serverOptions{Env: []string{"STACKLENS_PUBLIC_URL=" + publicURL}})
	jsonRecv := newWebhookReceiver(t, http.StatusOK, "ok")
	slackRecv := newWebhookReceiver(t, http.StatusOK, "ok")
	b := newBrowser(t, s)
	b.login(t)
	mustAddChannel(t, b, "url", url.Values{"name": {"Receiver JSON"}, "url": {jsonRecv.URL}, "format": {"json"}})
	mustAddChannel(t, b, "url", url.Values{"name": {"Receiver Slack"}, "url": {slackRecv.URL}, "format": {"slack"}})

	first := newException("WebhookError", "the <cart> & its total")
	postException(t, s, s.Token, first)
	created := decodeHook[jsonHook](t, jsonRecv.next(t, "the JSON webhook for the new issue"))
	issues := waitForIssues(t, newAPI(s), 1)
	id := issues[0].ID.String()
	if created.Event != "issue.created" || created.Test || created.Project.ID != 1 || created.Project.Name == "" ||
		fmt.Sprint(created.Issue.ID) != id || created.Issue.Name != "WebhookError" ||
		created.Issue.Description != "the <cart> & its total" || created.Issue.Status != "active" ||
		created.Issue.Occurrences != 1 || created.Issue.FirstSeen == "" || created.Issue.LastSeen == "" ||
		created.Issue.URL != publicURL+"/issues/"+id || created.LatestEvent.UUID != first.UUID ||
		created.LatestEvent.Timestamp == "" || !strings.HasPrefix(created.LatestEvent.URL, publicURL+"/issues/"+id) {
		t.Errorf("JSON webhook for the new issue: %+v", created)
	}
	slack := decodeHook[slackHook](t, slackRecv.next(t, "the Slack webhook for the new issue"))
	checkSlack(t, slack, "New issue", "<"+publicURL+"/issues/"+id+"|WebhookError>", "the &lt;cart&gt; &amp; its total")

	a := newAPI(s)
	if err := a.do(t.Context(), http.MethodPatch, "/issues/"+id, map[string]string{"status": "resolved"}, nil); err != nil {
		t.Fatalf("PATCH issue %s to resolved: %v", id, err)
	}
	again := newException("WebhookError", "the <cart> & its total")
	postException(t, s, s.Token, again)
	regressed := decodeHook[jsonHook](t, jsonRecv.next(t, "the JSON webhook for the regression"))
	if regressed.Event != "issue.regressed" || fmt.Sprint(regressed.Issue.ID) != id || regressed.Issue.Status != "active" ||
		regressed.Issue.Occurrences != 2 || regressed.LatestEvent.UUID != again.UUID {
		t.Errorf("JSON webhook for the regression: %+v", regressed)
	}
	slack = decodeHook[slackHook](t, slackRecv.next(t, "the Slack webhook for the regression"))
	checkSlack(t, slack, "Regression", "<"+publicURL+"/issues/"+id+"|WebhookError>", "")
	if n := jsonRecv.count(); n != 2 {
		t.Errorf("JSON receiver got %d requests, want 2 (one new issue, one regression)", n)
	}

	// The settings page lists both channels' successful deliveries (recorded
	// just after the receivers answered, so wait for them).
	waitFor(t, "the deliveries on the settings page", func(context.Context) (bool, string, error) {
		rows := deliveryRows(t, b.get(t, "/settings/notifications").Body)
		ok := true
		for _, channel := range []string{"Receiver JSON", "Receiver Slack"} {
			ok = ok && hasDeliveryRow(rows, channel, "New issue: WebhookError", "Delivered 200") &&
				hasDeliveryRow(rows, channel, "Regression: WebhookError", "Delivered 200")
		}
		return ok, strings.Join(rows, "\n"), nil
	})
}

// checkSlack checks the Slack message shape: a text fallback and blocks whose
// section names what happened and links the issue (mrkdwn-escaped).
func checkSlack(t *testing.T, m slackHook, what, link, description string) {
	t.Helper()
	if !strings.Contains(m.Text, what) || !strings.Contains(m.Text, "WebhookError") {
		t.Errorf("Slack text %q: want %q and the issue name", m.Text, what)
	}
	if len(m.Blocks) < 2 || m.Blocks[0].Type != "section" || m.Blocks[0].Text == nil || m.Blocks[0].Text.Type != "mrkdwn" ||
		m.Blocks[1].Type != "context" || len(m.Blocks[1].Elements) == 0 {
		t.Fatalf("Slack blocks: %+v; want a mrkdwn section and a context block", m.Blocks)
	}
	section := m.Blocks[0].Text.Text
	if !strings.Contains(section, what) || !strings.Contains(section, link) || !strings.Contains(section, description) {
		t.Errorf("Slack section %q: want %q, %q and %q", section, what, link, description)
	}
	if !strings.Contains(m.Blocks[1].Elements[0].Text, "occurrence") {
		t.Errorf("Slack context %q: want the occurrence count", m.Blocks[1].Elements[0].Text)
	}
}

// TestEmailNotification delivers a new-issue email to an SMTP listener of the
// test: the issue's name in the subject and both bodies, and (without a
// public URL) the issue's path.
func TestEmailNotification(t *testing.T) {
	smtp := newSMTPReceiver(t)
	s := startServer(t, serverOptions{Env: []string{
		"STACKLENS_SMTP_HOST=" + smtp.Host, "STACKLENS_SMTP_PORT=" + smtp.Port,
		"STACKLENS_SMTP_FROM=stacklens <alerts@stacklens.test>",
	}})
	b := newBrowser(t, s)
	b.login(t)
	mustAddChannel(t, b, "email_to", url.Values{"name": {"On-call"}, "email_to": {"oncall@example.test, lead@example.test"}})

	postException(t, s, s.Token, newException("MailedError", "payment provider said no"))
	msg := smtp.next(t, "the notification email")
	id := waitForIssues(t, newAPI(s), 1)[0].ID.String()
	if msg.From != "alerts@stacklens.test" || strings.Join(msg.To, ",") != "oncall@example.test,lead@example.test" {
		t.Errorf("SMTP envelope: from %q to %v", msg.From, msg.To)
	}
	m := parseMail(t, msg.Data)
	if !strings.Contains(m.Subject, "MailedError") || !strings.Contains(m.Subject, "New issue") {
		t.Errorf("subject %q: want the issue name and \"New issue\"", m.Subject)
	}
	for _, part := range []string{"text/plain", "text/html"} {
		body := m.Parts[part]
		if !strings.Contains(body, "MailedError") || !strings.Contains(body, "payment provider said no") || !strings.Contains(body, "/issues/"+id) {
			t.Errorf("%s body: want the issue name, description and /issues/%s:\n%s", part, id, body)
		}
	}
	if strings.Contains(m.Parts["text/plain"], "http") {
		t.Errorf("text body has an absolute link without STACKLENS_PUBLIC_URL:\n%s", m.Parts["text/plain"])
	}
}

// TestFailingWebhookIsShownAndIngestionGoesOn points a webhook at a receiver
// answering 500: the failure (status and answer) shows on the settings page,
// the delivery is retried, and events keep being stored meanwhile.
func TestFailingWebhookIsShownAndIngestionGoesOn(t *testing.T) {
	s := startServer(t, serverOptions{})
	recv := newWebhookReceiver(t, http.StatusInternalServerError, "receiver is down")
	b := newBrowser(t, s)
	b.login(t)
	mustAddChannel(t, b, "url", url.Values{"name": {"Broken receiver"}, "url": {recv.URL}, "format": {"json"}})

	postException(t, s, s.Token, newException("FirstFailingHook", "one"))
	recv.next(t, "the first attempt")
	a := newAPI(s)
	waitForIssues(t, a, 1)
	postException(t, s, s.Token, newException("SecondFailingHook", "two"))
	waitForIssues(t, a, 2)

	waitFor(t, "the failure on the settings page", func(context.Context) (bool, string, error) {
		body := b.get(t, "/settings/notifications").Body
		rows := deliveryRows(t, body)
		ok := strings.Contains(pageText(t, body), "Recent failures") &&
			hasDeliveryRow(rows, "Broken receiver", "New issue: FirstFailingHook", "| 1 |", "Failed 500", "HTTP 500", "receiver is down")
		return ok, strings.Join(rows, "\n"), nil
	})
	waitFor(t, "a retry of the failed delivery", func(context.Context) (bool, string, error) {
		rows := deliveryRows(t, b.get(t, "/settings/notifications").Body)
		return hasDeliveryRow(rows, "New issue: FirstFailingHook", "| 2 |", "Failed 500"), strings.Join(rows, "\n"), nil
	})
	if recv.count() < 2 {
		t.Errorf("the receiver got %d requests, want the first attempt and a retry", recv.count())
	}
}

// TestWebhookToLoopbackRefused turns STACKLENS_FETCH_ALLOW_PRIVATE off: a
// webhook on loopback is refused by the address guard, for the test button
// and for a real notification, and the receiver never hears a thing.
func TestWebhookToLoopbackRefused(t *testing.T) {
	s := startServer(t, serverOptions{Env: []string{"STACKLENS_FETCH_ALLOW_PRIVATE=false"}})
	recv := newWebhookReceiver(t, http.StatusOK, "ok")
	b := newBrowser(t, s)
	b.login(t)
	mustAddChannel(t, b, "url", url.Values{"name": {"Loopback"}, "url": {recv.URL}, "format": {"slack"}})

	list := b.get(t, "/settings/notifications")
	test, ok := findForm(t, list.Body, func(f form) bool { return strings.HasSuffix(f.Action, "/test") })
	if !ok {
		t.Fatalf("/settings/notifications: no Send test form")
	}
	got := b.postForm(t, test.Action, test.Fields)
	if got.Status != http.StatusSeeOther {
		t.Fatalf("POST %s: status %d, want 303", test.Action, got.Status)
	}
	text := pageText(t, b.get(t, got.Location).Body)
	if !strings.Contains(text, "Test to Loopback failed") || !strings.Contains(text, "loopback") ||
		!strings.Contains(text, "STACKLENS_FETCH_ALLOW_PRIVATE") {
		t.Errorf("after Send test: want the refusal explained:\n%s", truncate(text, 2000))
	}

	postException(t, s, s.Token, newException("GuardedHookError", "never leaves"))
	waitFor(t, "the refused delivery on the settings page", func(context.Context) (bool, string, error) {
		rows := deliveryRows(t, b.get(t, "/settings/notifications").Body)
		return hasDeliveryRow(rows, "New issue: GuardedHookError", "| 1 |", "Failed", "loopback address"), strings.Join(rows, "\n"), nil
	})
	if n := recv.count(); n != 0 {
		t.Errorf("the loopback receiver got %d requests, want 0", n)
	}
}

// TestNotificationChannelLifecycle: send test, bad input refused with a
// sentence, edit, disable (a disabled channel hears nothing), delete.
func TestNotificationChannelLifecycle(t *testing.T) {
	s := startServer(t, serverOptions{})
	kept := newWebhookReceiver(t, http.StatusOK, "ok")
	muted := newWebhookReceiver(t, http.StatusOK, "ok")
	b := newBrowser(t, s)
	b.login(t)

	for name, set := range map[string]url.Values{
		"an ftp URL":  {"url": {"ftp://example.test/hook"}},
		"no trigger":  {"url": {kept.URL}, "on_new_issue": nil, "on_regression": nil},
		"bad format":  {"url": {kept.URL}, "format": {"xml"}},
		"a bad email": {"email_to": {"not-an-address"}},
	} {
		key := "url"
		if set.Has("email_to") {
			key = "email_to"
		}
		for k, v := range set {
			if v == nil {
				set.Del(k)
				set[k] = []string{""}
			}
		}
		got := addChannel(t, b, key, set)
		if got.Status != http.StatusBadRequest || !strings.Contains(got.Body, "alert-error") {
			t.Errorf("add a channel with %s: status %d, want 400 with a reason:\n%s", name, got.Status, truncate(pageText(t, got.Body), 1500))
		}
	}
	if text := pageText(t, b.get(t, "/settings/notifications").Body); !strings.Contains(text, "No channels yet") {
		t.Fatalf("refused forms created a channel:\n%s", truncate(text, 2000))
	}

	mustAddChannel(t, b, "url", url.Values{"name": {"Kept"}, "url": {kept.URL}, "format": {"json"}})
	mustAddChannel(t, b, "url", url.Values{"name": {"Muted"}, "url": {muted.URL}, "format": {"json"}})

	// Send test on the first channel: a sample marked as a test arrives and the page says so.
	list := b.get(t, "/settings/notifications")
	test, ok := findForm(t, list.Body, func(f form) bool { return strings.HasSuffix(f.Action, "/test") })
	if !ok {
		t.Fatalf("no Send test form")
	}
	got := b.postForm(t, test.Action, test.Fields)
	sample := decodeHook[jsonHook](t, kept.next(t, "the test notification"))
	if !sample.Test || sample.Event != "issue.created" || sample.Issue.Name == "" {
		t.Errorf("test notification: %+v, want a sample issue.created marked test", sample)
	}
	if text := pageText(t, b.get(t, got.Location).Body); !strings.Contains(text, "Test sent to Kept: delivered (200).") {
		t.Errorf("after Send test: want the delivery confirmed:\n%s", truncate(text, 2000))
	}

	// Disable "Muted" with its toggle.
	toggle, ok := findForm(t, list.Body, func(f form) bool {
		return strings.HasSuffix(f.Action, "/enabled") && f.Fields.Get("enabled") == "false" && !strings.HasPrefix(f.Action, test.Action[:len(test.Action)-len("/test")]+"/")
	})
	if !ok {
		t.Fatalf("no Disable form for the second channel")
	}
	if got := b.postForm(t, toggle.Action, toggle.Fields); got.Status != http.StatusSeeOther {
		t.Fatalf("POST %s: status %d, want 303", toggle.Action, got.Status)
	}
	if text := pageText(t, b.get(t, "/settings/notifications").Body); !strings.Contains(text, "Disabled") {
		t.Errorf("the disabled channel is not marked Disabled:\n%s", truncate(text, 2000))
	}

	// Edit "Kept": new issues only, renamed; a bad URL is refused and changes nothing.
	editPath := strings.TrimSuffix(test.Action, "/test")
	edit := b.get(t, editPath)
	f, ok := findForm(t, edit.Body, func(f form) bool { return f.Action == editPath })
	if !ok {
		t.Fatalf("GET %s: no edit form:\n%s", editPath, truncate(edit.Body, 2000))
	}
	bad := cloneValues(f.Fields)
	bad.Set("url", "not a url")
	if got := b.postForm(t, editPath, bad); got.Status != http.StatusBadRequest {
		t.Errorf("POST %s with a bad URL: status %d, want 400", editPath, got.Status)
	}
	f.Fields.Set("name", "Kept renamed")
	f.Fields.Del("on_regression")
	if got := b.postForm(t, editPath, f.Fields); got.Status != http.StatusSeeOther {
		t.Fatalf("POST %s: status %d, want 303:\n%s", editPath, got.Status, truncate(pageText(t, got.Body), 1500))
	}
	text := pageText(t, b.get(t, "/settings/notifications").Body)
	if !strings.Contains(text, "Kept renamed") || !strings.Contains(text, "New issues") || strings.Contains(text, "not a url") {
		t.Errorf("after editing: want the new name and trigger:\n%s", truncate(text, 2000))
	}

	// A new issue reaches the enabled channel only. Both channels are read in
	// one go before any delivery starts, so when Kept has it, Muted was skipped.
	postException(t, s, s.Token, newException("LifecycleError", "who hears this"))
	if h := decodeHook[jsonHook](t, kept.next(t, "the new issue on the enabled channel")); h.Issue.Name != "LifecycleError" {
		t.Errorf("enabled channel got %+v", h)
	}
	if n := muted.count(); n != 0 {
		t.Errorf("the disabled channel got %d requests, want 0", n)
	}

	// Delete both; the list is empty again.
	for range 2 {
		list := b.get(t, "/settings/notifications")
		del, ok := findForm(t, list.Body, func(f form) bool { return strings.HasSuffix(f.Action, "/delete") })
		if !ok {
			t.Fatalf("no Delete form")
		}
		if got := b.postForm(t, del.Action, del.Fields); got.Status != http.StatusSeeOther {
			t.Fatalf("POST %s: status %d, want 303", del.Action, got.Status)
		}
	}
	if text := pageText(t, b.get(t, "/settings/notifications").Body); !strings.Contains(text, "No channels yet") {
		t.Errorf("after deleting both channels:\n%s", truncate(text, 2000))
	}
	if got := b.get(t, editPath); got.Status != http.StatusNotFound {
		t.Errorf("GET %s after delete: status %d, want 404", editPath, got.Status)
	}
}

// TestNotificationFormsNeedCSRF posts every form of the notification pages
// without _csrf and with a forged one: 403 each time and nothing changes.
func TestNotificationFormsNeedCSRF(t *testing.T) {
	s := startServer(t, serverOptions{})
	recv := newWebhookReceiver(t, http.StatusOK, "ok")
	b := newBrowser(t, s)
	b.login(t)
	mustAddChannel(t, b, "url", url.Values{"name": {"Guarded"}, "url": {recv.URL}, "format": {"json"}})
	list := b.get(t, "/settings/notifications")
	edit, ok := findForm(t, list.Body, func(f form) bool { return strings.HasSuffix(f.Action, "/test") })
	if !ok {
		t.Fatalf("no channel forms on /settings/notifications")
	}
	before := pageText(t, list.Body)
	checked := 0
	for _, path := range []string{"/settings/notifications", strings.TrimSuffix(edit.Action, "/test")} {
		p := b.get(t, path)
		if p.Status != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, p.Status)
		}
		for _, f := range forms(t, p.Body, path) {
			if f.Method != http.MethodPost || strings.HasSuffix(f.Action, "/logout") {
				continue
			}
			if !f.has("_csrf") {
				t.Errorf("%s: form posting to %s has no _csrf field", path, f.Action)
			}
			for name, fields := range withoutAndForgedCSRF(f.Fields) {
				fields.Set("name", "Forged")
				if got := b.postForm(t, f.Action, fields); got.Status != http.StatusForbidden {
					t.Errorf("%s: POST %s %s: status %d, want 403", path, f.Action, name, got.Status)
				}
				checked++
			}
		}
	}
	if checked < 10 {
		t.Errorf("checked only %d forged posts; the pages should have add, edit, test, toggle and delete forms", checked)
	}
	after := pageText(t, b.get(t, "/settings/notifications").Body)
	if after != before || strings.Contains(after, "Forged") {
		t.Errorf("refused posts changed the page:\nbefore: %s\nafter:  %s", truncate(before, 1500), truncate(after, 1500))
	}
	if n := recv.count(); n != 0 {
		t.Errorf("refused Send test posts reached the receiver %d times", n)
	}
}
