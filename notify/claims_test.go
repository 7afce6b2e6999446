package notify

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
)

// twoNodeOutbox is the fixture's database opened a second time (another
// process, in the run's engine), more new issues stored (one notice each), a webhook that counts
// what it receives per event uuid, and a notifier per node.
type twoNodeOutbox struct {
	f       fixture
	other   *db.DB
	uuids   []string
	mu      sync.Mutex
	perUUID map[string]int
}

var eventUUID = regexp.MustCompile(`0190a0a0-0000-7000-8000-[0-9]{12}`)

func newTwoNodeOutbox(t *testing.T, notices int) *twoNodeOutbox {
	t.Helper()
	ctx := context.Background()
	o := &twoNodeOutbox{f: newFixture(t), perUUID: map[string]int{}}
	o.uuids = append(o.uuids, o.f.event.UUID)
	var evs []db.NewEvent
	for i := 2; i <= notices; i++ {
		ev := o.f.event
		ev.UUID = fmt.Sprintf("0190a0a0-0000-7000-8000-%012d", i)
		ev.Fingerprint = fmt.Sprint("fp", i)
		evs = append(evs, ev)
		o.uuids = append(o.uuids, ev.UUID)
	}
	if _, err := o.f.store.StoreBatch(ctx, evs, nil); err != nil {
		t.Fatal(err)
	}
	o.other = o.f.loc.Open(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		buf.ReadFrom(r.Body)
		o.mu.Lock()
		o.perUUID[eventUUID.FindString(buf.String())]++
		o.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	o.f.addWebhook(t, srv.URL+"/hook")
	return o
}

// run starts a notifier over store until the test ends.
func (o *twoNodeOutbox) run(t *testing.T, store *db.DB) {
	cfg := DefaultConfig()
	cfg.AllowPrivate = true
	n := New(store, cfg, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// checkDeliveredOnce waits until the outbox is empty, then checks every notice was
// delivered exactly once.
func (o *twoNodeOutbox) checkDeliveredOnce(t *testing.T) {
	t.Helper()
	waitDeliveries(t, o.f.store, func([]db.NotificationDelivery) bool {
		left, err := o.f.store.PendingNotices(context.Background(), 100)
		return err == nil && len(left) == 0
	})
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, u := range o.uuids {
		if o.perUUID[u] != 1 {
			t.Errorf("notice of event %s delivered %d times, want once", u, o.perUUID[u])
		}
	}
	if len(o.perUUID) != len(o.uuids) {
		t.Errorf("deliveries %v, want one for each of %d notices", o.perUUID, len(o.uuids))
	}
}

// Two notifiers on one outbox deliver each notice once between them.
func TestTwoNotifiersDeliverEachNoticeOnce(t *testing.T) {
	o := newTwoNodeOutbox(t, 30)
	o.run(t, o.f.store)
	o.run(t, o.other)
	o.checkDeliveredOnce(t)
}

// The notices a node claimed before it died are delivered by another node
// once the lease ended, each once.
func TestNoticesOfADeadNodeAreDeliveredByAnother(t *testing.T) {
	o := newTwoNodeOutbox(t, 12)
	ctx := context.Background()
	// The dying node's claim, with a lease that is already over.
	claimed, err := o.other.ClaimNotices(ctx, 5, -time.Second)
	if err != nil || len(claimed) != 5 {
		t.Fatalf("the dying node claimed %d notices (%v), want 5", len(claimed), err)
	}
	// While a live node holds the rest, nobody else claims them.
	live, err := o.other.ClaimNotices(ctx, 100, time.Minute)
	if err != nil || len(live) != 12 {
		t.Fatalf("the node claimed %d notices (%v), want all 12 (5 of them again, their lease over)", len(live), err)
	}
	if got, err := o.f.store.ClaimNotices(ctx, 100, time.Minute); err != nil || len(got) != 0 {
		t.Fatalf("another node claimed %d notices a live node holds (%v)", len(got), err)
	}
	// The node dies: its leases end.
	var ids []int64
	for _, n := range live {
		ids = append(ids, n.ID)
	}
	if renewed, err := o.other.RenewNoticeClaims(ctx, ids, -time.Second); err != nil || renewed != 12 {
		t.Fatalf("renewed %d (%v)", renewed, err)
	}
	o.run(t, o.f.store)
	o.checkDeliveredOnce(t)
	// The dead node, come back to life, can neither renew nor delete them.
	if renewed, err := o.other.RenewNoticeClaims(ctx, ids, time.Minute); err != nil || renewed != 0 {
		t.Fatalf("the dead node renewed %d notices (%v)", renewed, err)
	}
}
