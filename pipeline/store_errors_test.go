package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/internal/testkit"
	"github.com/stacklens/stacklens/internal/teststore"
)

// exceptionPayload is a small $exception event as posthog-node would send
// it, with frames that need no symbolication.
func exceptionPayload(uuid, message string) []byte {
	return fmt.Appendf(nil, `{"event":"$exception","uuid":%q,"distinct_id":"u1","timestamp":"2026-01-02T03:04:05Z",
		"properties":{"$exception_list":[{"type":"Error","value":%q,"stacktrace":{"type":"raw",
		"frames":[{"platform":"python","filename":"app.py","function":"handler","lineno":3,"in_app":true}]}}]}}`, uuid, message)
}

func appendInbox(t *testing.T, store *db.DB, payloads ...[]byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := store.NewInboxWriter(db.InboxLimits{})
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	var rows []db.InboxRow
	for _, p := range payloads {
		rows = append(rows, db.InboxRow{ProjectID: 1, Format: "posthog", ReceivedAt: time.Now(), Payload: p})
	}
	if err := w.Append(ctx, rows); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
}

// otherConnection opens the harness's database a second time, as another
// process (a backup, a second server, an operator's shell) would.
func otherConnection(t *testing.T, loc teststore.Location) *sql.Conn {
	t.Helper()
	driver, source := "pgx", loc.URL
	if loc.URL == "" {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		driver, source = "sqlite", "file:"+loc.Path+"?"+q.Encode()
	}
	other, err := sql.Open(driver, source)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func countStoredEvents(t *testing.T, h harness) int {
	t.Helper()
	page, err := h.store.ListIssues(context.Background(), db.IssueQuery{ProjectID: 1, Status: "all"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, is := range page.Issues {
		n += int(is.Occurrences)
	}
	return n
}

// A database locked by someone else is a condition that passes: the rows
// must stay in the inbox, not be set aside as rejected, and be stored once
// the lock is gone.
func TestLockedDatabaseKeepsRowsInTheInbox(t *testing.T) {
	loc := teststore.New(t)
	lockStatements := []string{"BEGIN IMMEDIATE"}
	if loc.URL != "" {
		// PostgreSQL waits for a lock as long as lock_timeout allows, by
		// default for ever; an operator's lock_timeout ends the wait.
		u, err := url.Parse(loc.URL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("lock_timeout", "200ms")
		u.RawQuery = q.Encode()
		loc.URL = u.String()
		lockStatements = []string{"BEGIN", "LOCK TABLE events IN EXCLUSIVE MODE"}
	}
	h := newHarnessAt(t, loc, false)
	ctx := context.Background()
	appendInbox(t, h.store, exceptionPayload("00000000-0000-4000-8000-000000000001", "one"),
		exceptionPayload("00000000-0000-4000-8000-000000000002", "two"))

	lock := otherConnection(t, h.loc)
	for _, statement := range lockStatements {
		if _, err := lock.ExecContext(ctx, statement); err != nil {
			t.Fatalf("%s: %v", statement, err)
		}
	}
	n, err := h.worker.ProcessBatch(ctx)
	var transient *transientError
	if !errors.As(err, &transient) || !db.Transient(err) {
		t.Fatalf("ProcessBatch on a locked database: %d, %v; want a transient error", n, err)
	}
	if left, _ := h.store.CountInbox(ctx); left != 2 {
		t.Fatalf("%d rows left in the inbox while the database was locked, want 2", left)
	}
	if reasons, err := h.store.RejectedInboxReasons(ctx, 1, 10); err != nil || len(reasons) != 0 {
		t.Fatalf("rejected rows after a lock: %+v %v, want none", reasons, err)
	}

	if _, err := lock.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.worker.ProcessBatch(ctx); err != nil {
		t.Fatalf("ProcessBatch after the lock was released: %v", err)
	}
	if left, _ := h.store.CountInbox(ctx); left != 0 {
		t.Fatalf("%d rows left in the inbox after the lock was released", left)
	}
	if got := countStoredEvents(t, h); got != 2 {
		t.Fatalf("%d events stored, want 2", got)
	}
}

// Rows that can never be stored are set aside, with their reason, and do
// not hold up the others: an undecodable payload, and an event the database
// refuses for its content.
func TestPermanentErrorsRejectOnlyTheirRows(t *testing.T) {
	h := newHarness(t, false)
	ctx := context.Background()
	const refused = "00000000-0000-4000-8000-0000000000ff"
	if testkit.Engine() == testkit.Postgres {
		h.loc.Exec(t, `CREATE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.uuid = '`+refused+`' THEN RAISE EXCEPTION 'refused by the test trigger'; END IF; RETURN NEW; END $$`)
		h.loc.Exec(t, `CREATE TRIGGER refuse_event BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_event()`)
	} else {
		h.loc.Exec(t, `CREATE TRIGGER refuse_event BEFORE INSERT ON events WHEN NEW.uuid = '`+refused+`'
			BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END`)
	}
	appendInbox(t, h.store, exceptionPayload("00000000-0000-4000-8000-000000000001", "good"),
		[]byte(`{"event":"$exception", not json`),
		exceptionPayload(refused, "refused"),
		exceptionPayload("00000000-0000-4000-8000-000000000003", "also good"))

	if _, err := h.worker.ProcessBatch(ctx); err != nil {
		t.Fatalf("ProcessBatch: %v", err)
	}
	if left, _ := h.store.CountInbox(ctx); left != 0 {
		t.Fatalf("%d rows left in the inbox", left)
	}
	if got := countStoredEvents(t, h); got != 2 {
		t.Fatalf("%d events stored, want the 2 good ones", got)
	}
	reasons, err := h.store.RejectedInboxReasons(ctx, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	total := 0
	for _, r := range reasons {
		all = append(all, r.Reason)
		total += r.Count
	}
	joined := strings.Join(all, " | ")
	if total != 2 || !strings.Contains(joined, "parse event") || !strings.Contains(joined, "refused by the test trigger") {
		t.Fatalf("rejected: %d rows for %q; want the undecodable row and the refused event, with their reasons", total, joined)
	}
}
