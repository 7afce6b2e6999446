package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/internal/teststore"
	"github.com/stacklens/stacklens/pipeline"
)

// fixture is a real database with the default project and one issue.
type fixture struct {
	store   *db.DB
	loc     teststore.Location // where store lives, to open it again as another node
	issueID int64
	event   db.NewEvent
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	loc := teststore.New(t)
	store := loc.Open(t)
	if _, err := store.EnsureDefaultProject(ctx, "phc_test", ""); err != nil {
		t.Fatal(err)
	}
	ev := db.NewEvent{ProjectID: 1, UUID: "0190a0a0-0000-7000-8000-000000000001", Fingerprint: "fp", IssueName: "TypeError",
		IssueDescription: "x is undefined", Timestamp: time.Now(), ReceivedAt: time.Now(), Data: []byte(`{}`), Raw: []byte(`{}`)}
	stored, err := store.StoreBatch(ctx, []db.NewEvent{ev}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{store: store, loc: loc, issueID: stored[0].IssueID, event: ev}
}

func (f fixture) addWebhook(t *testing.T, url string) db.NotificationChannel {
	t.Helper()
	ch := db.NotificationChannel{ProjectID: 1, Kind: db.ChannelWebhook, URL: url, Format: db.WebhookJSON,
		OnNewIssue: true, OnRegression: true, Enabled: true}
	if err := CheckChannel(&ch); err != nil {
		t.Fatal(err)
	}
	id, err := f.store.CreateNotificationChannel(context.Background(), ch)
	if err != nil {
		t.Fatal(err)
	}
	ch.ID = id
	return ch
}

// waitDeliveries polls the stored attempts until done accepts them.
func waitDeliveries(t *testing.T, store *db.DB, done func([]db.NotificationDelivery) bool) []db.NotificationDelivery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := store.RecentNotificationDeliveries(context.Background(), 1, false, 50)
		if err != nil {
			t.Fatal(err)
		}
		if done(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting; attempts so far: %+v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRetriesUntilDeliveredAndStopsOnClientErrors(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	calls := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls[r.URL.Path]++
		n := calls[r.URL.Path]
		mu.Unlock()
		switch {
		case r.URL.Path == "/gone":
			http.Error(w, "no such hook", http.StatusNotFound)
		case n < 3:
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	flaky := f.addWebhook(t, srv.URL+"/flaky")
	gone := f.addWebhook(t, srv.URL+"/gone")

	cfg := DefaultConfig()
	cfg.AllowPrivate = true
	cfg.Retries = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
	n := New(f.store, cfg, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); n.Run(ctx) }()
	n.Notify(ctx, []pipeline.Notice{{ProjectID: 1, IssueID: f.issueID, NewIssue: true, Event: f.event}})

	got := waitDeliveries(t, f.store, func(ds []db.NotificationDelivery) bool {
		flakyDelivered, goneTried := false, false
		for _, d := range ds {
			flakyDelivered = flakyDelivered || d.ChannelID == flaky.ID && d.OK
			goneTried = goneTried || d.ChannelID == gone.ID
		}
		return flakyDelivered && goneTried
	})
	cancel()
	<-done
	var flakyTries, goneTries []string
	for i := len(got) - 1; i >= 0; i-- {
		d := got[i]
		s := fmt.Sprintf("%d:%v:%d", d.Attempt, d.OK, d.Status)
		if d.Trigger != db.TriggerNewIssue || d.IssueID != f.issueID || d.IssueName != "TypeError" {
			t.Errorf("attempt %+v: want the new issue TypeError", d)
		}
		if d.ChannelID == flaky.ID {
			flakyTries = append(flakyTries, s)
		} else if d.ChannelID == gone.ID {
			goneTries = append(goneTries, s)
		}
	}
	if strings.Join(flakyTries, " ") != "1:false:503 2:false:503 3:true:200" {
		t.Errorf("flaky hook attempts %v, want two 503s then a 200", flakyTries)
	}
	if strings.Join(goneTries, " ") != "1:false:404" {
		t.Errorf("gone hook attempts %v, want one 404 and no retry", goneTries)
	}
}

// A notice is written with its event; a notifier started later (after a
// restart, say) still delivers it, without being told, and then removes it.
func TestNoticesWaitInTheOutboxUntilDelivered(t *testing.T) {
	f := newFixture(t) // stores a new issue while no notifier runs
	pending, err := f.store.PendingNotices(context.Background(), 10)
	if err != nil || len(pending) != 1 || pending[0].IssueID != f.issueID || pending[0].Event.UUID != f.event.UUID ||
		pending[0].Event.Data != nil || pending[0].Event.Raw != nil {
		t.Fatalf("outbox %+v (%v): want the new issue's notice, without the event bodies", pending, err)
	}
	received := make(chan []byte, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		buf.ReadFrom(r.Body)
		received <- buf.Bytes()
	}))
	defer srv.Close()
	f.addWebhook(t, srv.URL+"/hook")

	cfg := DefaultConfig()
	cfg.AllowPrivate = true
	n := New(f.store, cfg, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); n.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case body := <-received:
		if !strings.Contains(string(body), f.event.UUID) || !strings.Contains(string(body), "issue.created") {
			t.Errorf("webhook body %s lacks the event or the trigger", body)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the stored notice was never delivered")
	}
	waitDeliveries(t, f.store, func([]db.NotificationDelivery) bool {
		left, err := f.store.PendingNotices(context.Background(), 10)
		return err == nil && len(left) == 0
	})
}

func TestCheckChannel(t *testing.T) {
	for name, tc := range map[string]struct {
		ch db.NotificationChannel
		ok bool
	}{
		"slack webhook": {db.NotificationChannel{Kind: db.ChannelWebhook, URL: " https://hooks.example/x ", Format: db.WebhookSlack, OnNewIssue: true}, true},
		"ftp URL":       {db.NotificationChannel{Kind: db.ChannelWebhook, URL: "ftp://hooks.example/x", Format: db.WebhookSlack, OnNewIssue: true}, false},
		"no host":       {db.NotificationChannel{Kind: db.ChannelWebhook, URL: "https:///x", Format: db.WebhookJSON, OnNewIssue: true}, false},
		"bad format":    {db.NotificationChannel{Kind: db.ChannelWebhook, URL: "https://h/x", Format: "xml", OnNewIssue: true}, false},
		"no trigger":    {db.NotificationChannel{Kind: db.ChannelWebhook, URL: "https://h/x", Format: db.WebhookJSON}, false},
		"email":         {db.NotificationChannel{Kind: db.ChannelEmail, EmailTo: []string{"a@b.test"}, OnRegression: true}, true},
		"no recipients": {db.NotificationChannel{Kind: db.ChannelEmail, OnRegression: true}, false},
		"unknown kind":  {db.NotificationChannel{Kind: "pager", OnRegression: true}, false},
	} {
		err := CheckChannel(&tc.ch)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", name, err, tc.ok)
		}
		if err == nil && tc.ch.Name == "" {
			t.Errorf("%s: no default name", name)
		}
	}
	if to, err := ParseRecipients("Ops <ops@x.test>; dev@x.test\nOPS@x.test"); err != nil || strings.Join(to, ",") != "ops@x.test,dev@x.test" {
		t.Errorf("ParseRecipients: %v, %v", to, err)
	}
	if _, err := ParseRecipients("ops@x.test, nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("ParseRecipients with a bad address: %v", err)
	}
}

// An issue name is text from the client: it must not add mail headers or break Slack markup.
func TestHostileIssueNames(t *testing.T) {
	m := Message{Trigger: db.TriggerNewIssue, Project: db.Project{ID: 1, Name: "Shop"},
		Issue:    db.Issue{ID: 7, Name: "Boom\r\nBcc: victim@x.test", Description: "<!channel> & more", Occurrences: 1},
		IssueURL: "https://st.example/issues/7"}
	raw, err := emailMessage(m, "alerts@st.example", []string{"ops@x.test"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Bcc") != "" || !strings.Contains(msg.Header.Get("Subject"), "Boom Bcc: victim@x.test") {
		t.Errorf("headers %v: the issue name escaped the Subject", msg.Header)
	}
	body, err := slackBody(m)
	if err != nil {
		t.Fatal(err)
	}
	var slack struct {
		Text   string `json:"text"`
		Blocks []struct {
			Text struct{ Text string } `json:"text"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(body, &slack); err != nil || len(slack.Blocks) == 0 {
		t.Fatalf("Slack body %s: %v", body, err)
	}
	if section := slack.Blocks[0].Text.Text; strings.Contains(section, "<!channel>") || !strings.Contains(section, "&lt;!channel&gt; &amp; more") {
		t.Errorf("Slack section %q: want the description's markup escaped", section)
	}
	m.Issue.Name = "<!here> Boom"
	if body, _ := slackBody(m); !strings.Contains(string(body), `"text":"New issue in Shop: \u0026lt;!here\u0026gt; Boom"`) {
		t.Errorf("Slack text %s: want the name's markup escaped", body)
	}
}

// suspect lists the characters of s that a notification must not carry as
// themselves: controls other than tab and line feed, and invisible
// formatting characters such as bidi overrides.
func suspect(s string) []rune {
	var out []rune
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0) || (unicode.Is(unicode.Cf, r) && r != 0x200c && r != 0x200d) {
			out = append(out, r)
		}
	}
	return out
}

// Issue names and messages come from clients: a notification shows their
// control and bidi characters as escapes, where a mail client, a chat or a
// terminal would act on them.
func TestNotificationsShowControlCharactersEscaped(t *testing.T) {
	m := Message{Trigger: db.TriggerNewIssue, Project: db.Project{ID: 1, Name: "Shop"},
		Issue: db.Issue{ID: 7, Name: "Boom\x1b[31m\u202Egnp.exe\x00\u0085\u009b", Description: "first\n\tsecond\x1b[2J\u2066\r\nthird\x07",
			Occurrences: 1},
		IssueURL: "https://st.example/issues/7",
		Event:    EventInfo{Release: "1.0\x1b]0;owned\x07", PageURL: "https://shop.test/\u202Ecart"}}
	check := func(where, s string, wants ...string) {
		t.Helper()
		s = strings.ReplaceAll(s, "\r\n", "\n")
		if bad := suspect(s); len(bad) > 0 {
			t.Errorf("%s carries %q: %q", where, bad, s)
		}
		for _, w := range wants {
			if !strings.Contains(s, w) {
				t.Errorf("%s %q: want %q in it", where, s, w)
			}
		}
	}

	raw, err := emailMessage(m, "alerts@st.example", []string{"ops@x.test"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	check("email subject", subject, `Boom\x1b[31m⟨U+202E⟩gnp.exe\x00`)
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	parts := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := parts.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		text := string(body)
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			text = html.UnescapeString(text)
		}
		check("email part "+p.Header.Get("Content-Type"), text, `gnp.exe\x00`, "first\n\tsecond"+`\x1b[2J⟨U+2066⟩`, "third"+`\x07`,
			`1.0\x1b]0;owned\x07`, "https://shop.test/⟨U+202E⟩cart")
	}

	body, err := slackBody(m)
	if err != nil {
		t.Fatal(err)
	}
	var slack struct {
		Text   string `json:"text"`
		Blocks []struct {
			Text     struct{ Text string }   `json:"text"`
			Elements []struct{ Text string } `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(body, &slack); err != nil || len(slack.Blocks) != 2 || len(slack.Blocks[1].Elements) != 1 {
		t.Fatalf("Slack body %s: %v", body, err)
	}
	check("Slack text", slack.Text, `Boom\x1b[31m⟨U+202E⟩gnp.exe`)
	check("Slack section", slack.Blocks[0].Text.Text, `Boom\x1b[31m⟨U+202E⟩gnp.exe`, "\n>\tsecond"+`\x1b[2J⟨U+2066⟩`)
	check("Slack context", slack.Blocks[1].Elements[0].Text, `1.0\x1b]0;owned\x07`, "⟨U+202E⟩cart")

	body, err = jsonBody(m, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var payload JSONPayload
	if err := json.Unmarshal(body, &payload); err != nil {
		t.Fatalf("JSON body %s: %v", body, err)
	}
	check("JSON text", payload.Text, `Boom\x1b[31m⟨U+202E⟩gnp.exe`)
	// The structured fields are data for programs: they stay as sent.
	if payload.Issue.Name != m.Issue.Name || payload.Issue.Description != m.Issue.Description || payload.Latest.Release != m.Event.Release {
		t.Errorf("JSON issue %+v, release %q: want the name, description and release as sent", payload.Issue, payload.Latest.Release)
	}
}
