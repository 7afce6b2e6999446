package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// markedEvent is a $exception event carrying a unique marker in its
// properties, with or without a client uuid (curl users, other SDKs).
func markedEvent(typ, marker string, withUUID bool) map[string]any {
	raw, _ := json.Marshal(newException(typ, "marked event")) // plain maps and strings: cannot fail
	var ev map[string]any
	_ = json.Unmarshal(raw, &ev)
	ev["properties"].(map[string]any)["e2e_marker"] = marker
	if !withUUID {
		delete(ev, "uuid")
	}
	return ev
}

// sendBatch posts events as one /batch/ request and tells the status (0 when
// no answer came: refused, reset, timed out).
func sendBatch(client *http.Client, baseURL, token string, events []map[string]any) int {
	body, err := json.Marshal(map[string]any{"api_key": token, "batch": events})
	if err != nil {
		return 0
	}
	resp, err := client.Post(baseURL+"/batch/", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0
	}
	return resp.StatusCode
}

func mustSend(t *testing.T, s *server, events ...map[string]any) {
	t.Helper()
	if status := sendBatch(&http.Client{Timeout: 30 * time.Second}, s.URL, s.Token, events); status != http.StatusOK {
		t.Fatalf("POST /batch/ with %d events: status %d, want 200", len(events), status)
	}
}

// storedMarkers counts the stored events of every issue by their marker
// (the API lists up to 1000 events of an issue; tests stay below that).
func storedMarkers(ctx context.Context, a *api) (map[string]int, error) {
	issues, err := a.issues(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, is := range issues {
		events, err := a.events(ctx, is.ID.String(), 1000)
		if err != nil {
			return nil, err
		}
		if len(events) >= 1000 {
			return nil, fmt.Errorf("issue %s has 1000 events or more: the count would be cut", is.ID)
		}
		for _, ev := range events {
			if m, ok := ev.Properties["e2e_marker"].(string); ok {
				out[m]++
			}
		}
	}
	return out, nil
}

// waitForMarkers waits until every marker is stored and returns the counts.
func waitForMarkers(t *testing.T, a *api, markers []string) map[string]int {
	t.Helper()
	var got map[string]int
	waitFor(t, fmt.Sprintf("%d marked events", len(markers)), func(ctx context.Context) (bool, string, error) {
		counts, err := storedMarkers(ctx, a)
		if err != nil {
			return false, "", err
		}
		got = counts
		var missing []string
		for _, m := range markers {
			if counts[m] == 0 {
				missing = append(missing, m)
			}
		}
		return len(missing) == 0, fmt.Sprintf("%d stored, missing %d: %v", len(counts), len(missing), truncate(strings.Join(missing, " "), 300)), nil
	})
	return got
}

// requireExactlyOnce fails unless the markers, and nothing else, are stored once each.
func requireExactlyOnce(t *testing.T, counts map[string]int, markers []string) {
	t.Helper()
	for _, m := range markers {
		if counts[m] != 1 {
			t.Errorf("event %s stored %d times, want once", m, counts[m])
		}
	}
	if len(counts) != len(markers) {
		t.Errorf("%d distinct events stored, want %d: %v", len(counts), len(markers), counts)
	}
}

// TestUUIDLessEventsAcrossInboxDrains sends an event without a uuid, waits
// until it is stored (the inbox is empty again), and repeats: each one is a
// new event, not a duplicate of an earlier one.
func TestUUIDLessEventsAcrossInboxDrains(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	var markers []string
	for i := range 6 {
		m := fmt.Sprintf("drain-%d", i)
		markers = append(markers, m)
		mustSend(t, s, markedEvent("DrainError", m, false))
		waitForMarkers(t, a, markers)
	}
	counts, err := storedMarkers(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	requireExactlyOnce(t, counts, markers)
}

// TestUUIDLessEventsAcrossRestart stops the server gracefully, starts it
// again on the same database and sends more events without uuids.
func TestUUIDLessEventsAcrossRestart(t *testing.T) {
	first := startServer(t, serverOptions{})
	markers := []string{"before-0", "before-1", "before-2"}
	for _, m := range markers {
		mustSend(t, first, markedEvent("RestartError", m, false))
	}
	waitForMarkers(t, newAPI(first), markers)
	first.stop(t)

	second := startServer(t, serverOptions{DBPath: first.DBPath, DatabaseURL: first.DatabaseURL, Token: first.Token})
	for i := range 3 {
		m := fmt.Sprintf("after-%d", i)
		markers = append(markers, m)
		mustSend(t, second, markedEvent("RestartError", m, false))
	}
	requireExactlyOnce(t, waitForMarkers(t, newAPI(second), markers), markers)
}

// killLedger records what the senders of TestEveryAcceptedEventStoredOnceAcrossKills were told.
type killLedger struct {
	mu         sync.Mutex
	acked      []string        // events of requests answered 200
	unanswered map[string]bool // events of requests that got no answer or another status
	requests   int             // requests answered 200
	noUUID     int             // acked events sent without a uuid
}

func (l *killLedger) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// TestEveryAcceptedEventStoredOnceAcrossKills sends batches from several
// clients at once, half the events without a uuid, while the server is
// killed with SIGKILL five times and restarted on the same database. After
// the last restart has drained the inbox, every event answered 200 is stored
// exactly once; an event whose request got no answer (in flight at a kill)
// is stored at most once.
func TestEveryAcceptedEventStoredOnceAcrossKills(t *testing.T) {
	const senders, perBatch, kills, ackedPerRound = 4, 4, 5, 120
	cur := startServer(t, serverOptions{})
	token, dbPath, databaseURL := cur.Token, cur.DBPath, cur.DatabaseURL
	var baseURL atomic.Pointer[string]
	baseURL.Store(&cur.URL)

	ledger := &killLedger{unanswered: map[string]bool{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 20 * time.Second}
			for n := 0; ; {
				select {
				case <-stop:
					return
				default:
				}
				var batch []map[string]any
				var markers []string
				noUUID := 0
				for range perBatch {
					m := fmt.Sprintf("kill-%d-%d", g, n)
					withUUID := n%2 == 0
					if !withUUID {
						noUUID++
					}
					batch = append(batch, markedEvent(fmt.Sprintf("KillError%d", n%8), m, withUUID))
					markers = append(markers, m)
					n++
				}
				status := sendBatch(client, *baseURL.Load(), token, batch)
				ledger.mu.Lock()
				if status == http.StatusOK {
					ledger.acked = append(ledger.acked, markers...)
					ledger.requests++
					ledger.noUUID += noUUID
				} else {
					for _, m := range markers {
						ledger.unanswered[m] = true
					}
				}
				ledger.mu.Unlock()
				if status != http.StatusOK {
					time.Sleep(20 * time.Millisecond) // the server is down: do not spin
				}
			}
		}()
	}
	// Progress, not time, decides when to kill: each round waits until
	// ackedPerRound more events were answered 200 by the running server.
	waitAcked := func(n int) {
		t.Helper()
		deadline := time.Now().Add(2 * processDeadline)
		for ledger.ackedCount() < n {
			if time.Now().After(deadline) {
				close(stop)
				t.Fatalf("gave up waiting for %d acked events (have %d)", n, ledger.ackedCount())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for range kills {
		waitAcked(ledger.ackedCount() + ackedPerRound)
		cur.kill9(t)
		cur = startServer(t, serverOptions{DBPath: dbPath, DatabaseURL: databaseURL, Token: token})
		baseURL.Store(&cur.URL)
	}
	waitAcked(ledger.ackedCount() + ackedPerRound)
	close(stop)
	wg.Wait()

	// The inbox is processed in the order rows arrived: once an event sent
	// after all others is stored, everything before it was processed too.
	a := newAPI(cur)
	mustSend(t, cur, markedEvent("KillError0", "sentinel", false))
	waitForMarkers(t, a, []string{"sentinel"})
	counts, err := storedMarkers(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	delete(counts, "sentinel")

	ledger.mu.Lock()
	defer ledger.mu.Unlock()
	stored, storedUnanswered := 0, 0
	for m, n := range counts {
		stored += n
		if n != 1 {
			t.Errorf("event %s stored %d times, want once", m, n)
		}
		if ledger.unanswered[m] {
			storedUnanswered++
		}
	}
	missing := 0
	for _, m := range ledger.acked {
		if counts[m] != 1 {
			missing++
			if missing <= 10 {
				t.Errorf("event %s was answered 200 but stored %d times", m, counts[m])
			}
		}
		delete(counts, m)
	}
	for m := range counts {
		if !ledger.unanswered[m] {
			t.Errorf("stored event %s was never sent", m)
		}
	}
	if stored != len(ledger.acked)+storedUnanswered {
		t.Errorf("stored %d events, want the %d answered 200 plus the %d unanswered ones that were stored", stored, len(ledger.acked), storedUnanswered)
	}
	t.Logf("%d kill -9 under load: %d requests answered 200 carrying %d events (%d without uuid); %d events stored, %d of them from requests that got no answer; %d events got no answer, %d answered 200 missing or duplicated",
		kills, ledger.requests, len(ledger.acked), ledger.noUUID, stored, storedUnanswered, len(ledger.unanswered), missing)
}

var channelIDRE = regexp.MustCompile(`/settings/notifications/(\d+)/delete`)
var keyIDRE = regexp.MustCompile(`/settings/project/api-keys/(\d+)/revoke`)

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("not an id: %q", s)
	}
	return n
}

// TestMergedIssueURLsLeadToTheKeptIssue merges #4 into #1 and checks that
// #4's page and API address lead to #1, that the next issue is not #4, and
// that a second merge is followed to its end.
func TestMergedIssueURLsLeadToTheKeptIssue(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	b := newBrowser(t, s)
	b.login(t)
	var sent []captureEvent
	for _, typ := range []string{"FirstError", "SecondError", "ThirdError", "FourthError"} {
		sent = append(sent, newException(typ, "one of four"))
	}
	postException(t, s, s.Token, sent...)
	issues := waitForIssues(t, a, 4)
	id := map[string]string{}
	for _, is := range issues {
		id[is.Name] = is.ID.String()
	}
	one, four := id["FirstError"], id["FourthError"]
	if atoi(t, four) != atoi(t, one)+3 {
		t.Fatalf("issues were numbered %v, want four in a row", id)
	}
	merge := func(into, from string) {
		t.Helper()
		fields := bulkForm(t, b, "/issues")
		fields.Set("into", into)
		fields["ids"] = []string{into, from}
		if got := b.postForm(t, "/issues/merge", fields); got.Status != http.StatusSeeOther {
			t.Fatalf("merge #%s into #%s: status %d: %s", from, into, got.Status, truncate(pageText(t, got.Body), 300))
		}
	}
	merge(one, four)

	// The page: 308 to the kept issue, for the issue and for one of its events.
	if got := b.get(t, "/issues/"+four); got.Status != http.StatusPermanentRedirect || got.Location != "/issues/"+one {
		t.Errorf("GET /issues/%s after merging it into #%s: %d → %q, want 308 to /issues/%s", four, one, got.Status, got.Location, one)
	}
	eventPath := "/issues/" + four + "/events/" + sent[3].UUID + "?range=7d"
	want := "/issues/" + one + "/events/" + sent[3].UUID + "?range=7d"
	got := b.get(t, eventPath)
	if got.Status != http.StatusPermanentRedirect || got.Location != want {
		t.Fatalf("GET %s: %d → %q, want 308 to %s", eventPath, got.Status, got.Location, want)
	}
	if page := b.get(t, got.Location); page.Status != http.StatusOK || !strings.Contains(pageText(t, page.Body), "FourthError") {
		t.Errorf("GET %s: %d, want the merged event shown: %s", got.Location, page.Status, truncate(pageText(t, page.Body), 500))
	}
	if got := b.postForm(t, "/issues/"+four+"/status", bulkForm(t, b, "/issues")); got.Status != http.StatusGone ||
		!strings.Contains(pageText(t, got.Body), "Issue "+four+" was merged into issue "+one) {
		t.Errorf("POST /issues/%s/status: %d %s, want 410 naming the kept issue", four, got.Status, truncate(pageText(t, got.Body), 300))
	}

	// The API: the kept issue's JSON and events, never a 404.
	apiCheck := func(oldID, keptID string) {
		t.Helper()
		status, body := rawCall(t, http.MethodGet, a.base+"/issues/"+oldID, nil)
		var is apiIssue
		if status != http.StatusOK || json.Unmarshal(body, &is) != nil || is.ID.String() != keptID {
			t.Errorf("API GET issues/%s: %d %s, want 200 with issue %s", oldID, status, truncate(string(body), 300), keptID)
		}
		events, err := a.events(t.Context(), oldID, 10)
		if err != nil || !slices.ContainsFunc(events, func(ev apiEvent) bool { return ev.UUID == sent[3].UUID }) {
			t.Errorf("API events of issue %s: %d events (%v), want those of #%s with the merged one", oldID, len(events), err, keptID)
		}
	}
	apiCheck(four, one)

	// Merged and deleted ids are not handed out again.
	postException(t, s, s.Token, newException("FifthError", "after the merge"))
	issues = waitForIssues(t, a, 4)
	for _, is := range issues {
		id[is.Name] = is.ID.String()
	}
	five := id["FifthError"]
	if atoi(t, five) <= atoi(t, four) {
		t.Fatalf("the issue after merging #%s away is #%s, want a new id", four, five)
	}

	// Merging the kept issue on: the old id follows to the end of the chain.
	merge(five, one)
	if got := b.get(t, "/issues/"+four); got.Status != http.StatusPermanentRedirect || got.Location != "/issues/"+five {
		t.Errorf("GET /issues/%s after #%s went into #%s: %d → %q, want 308 to /issues/%s", four, one, five, got.Status, got.Location, five)
	}
	apiCheck(four, five)
	apiCheck(one, five)

	// An id never handed out stays a plain 404.
	if got := b.get(t, "/issues/999999"); got.Status != http.StatusNotFound {
		t.Errorf("GET /issues/999999: %d, want 404", got.Status)
	}
	if status, body := rawCall(t, http.MethodGet, a.base+"/issues/999999", nil); status != http.StatusNotFound {
		t.Errorf("API GET issues/999999: %d %s, want 404", status, body)
	}
}

// TestDeletedIDsNotReused deletes the newest symbol set and notification
// channel (and revokes an API key) and checks the next ones get new ids.
func TestDeletedIDsNotReused(t *testing.T) {
	s := startServer(t, serverOptions{})
	b := newBrowser(t, s)
	b.login(t)

	startSet := func(chunk string) int64 {
		t.Helper()
		status, answer := rawCall(t, http.MethodPost, symbolSetsAPI(s)+"/bulk_start_upload",
			map[string]any{"chunk_ids": []string{chunk}, "release_id": nil})
		expectStatus(t, "bulk_start_upload", status, answer, http.StatusCreated)
		var out cliStart
		decodeInto(t, "bulk_start_upload", answer, &out)
		return atoi(t, out.IDMap[chunk].SymbolSetID)
	}
	first := startSet("ids-first")
	status, answer := rawCall(t, http.MethodDelete, fmt.Sprintf("%s/%d/", symbolSetsAPI(s), first), nil)
	expectStatus(t, "delete symbol set", status, answer, http.StatusNoContent)
	if second := startSet("ids-second"); second <= first {
		t.Errorf("symbol set after deleting #%d got #%d", first, second)
	}

	hook := newWebhookReceiver(t, http.StatusOK, "ok")
	channelIDs := func() []int64 {
		var ids []int64
		for _, m := range channelIDRE.FindAllStringSubmatch(b.get(t, "/settings/notifications").Body, -1) {
			ids = append(ids, atoi(t, m[1]))
		}
		return ids
	}
	mustAddChannel(t, b, "url", map[string][]string{"name": {"First"}, "url": {hook.URL}, "format": {"json"}})
	ids := channelIDs()
	if len(ids) != 1 {
		t.Fatalf("channels after adding one: %v", ids)
	}
	del, ok := findForm(t, b.get(t, "/settings/notifications").Body, func(f form) bool { return strings.HasSuffix(f.Action, "/delete") })
	if !ok {
		t.Fatal("no delete form for the channel")
	}
	if got := b.postForm(t, del.Action, del.Fields); got.Status != http.StatusSeeOther {
		t.Fatalf("delete channel: %d", got.Status)
	}
	mustAddChannel(t, b, "url", map[string][]string{"name": {"Second"}, "url": {hook.URL}, "format": {"json"}})
	if again := channelIDs(); len(again) != 1 || again[0] <= ids[0] {
		t.Errorf("channel after deleting #%d: %v, want one with a new id", ids[0], again)
	}

	keyIDs := func() []int64 {
		var ids []int64
		for _, m := range keyIDRE.FindAllStringSubmatch(b.get(t, "/settings/project").Body, -1) {
			ids = append(ids, atoi(t, m[1]))
		}
		return ids
	}
	createKey := func(label string) {
		t.Helper()
		create, ok := findForm(t, b.get(t, "/settings/project").Body, func(f form) bool { return f.has("label") })
		if !ok {
			t.Fatal("no form with a label field on /settings/project")
		}
		create.Fields.Set("label", label)
		if got := b.postForm(t, create.Action, create.Fields); got.Status != http.StatusCreated {
			t.Fatalf("create key: %d", got.Status)
		}
	}
	createKey("first")
	before := keyIDs()
	revoke, ok := findForm(t, b.get(t, "/settings/project").Body, func(f form) bool { return strings.Contains(f.Action, "/revoke") })
	if !ok || len(before) == 0 {
		t.Fatalf("no revoke form (keys %v)", before)
	}
	if got := b.postForm(t, revoke.Action, revoke.Fields); got.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", got.Status)
	}
	createKey("second")
	if after := keyIDs(); len(after) == 0 || slices.Max(after) <= slices.Max(before) {
		t.Errorf("key ids %v after revoking one of %v, want a new id", after, before)
	}
}
