// Package notify tells people about new issues and regressions: webhooks
// (Slack-compatible or plain JSON) and email over SMTP. The pipeline records
// each notice in the database's outbox in the same transaction as its event
// and wakes the notifier without waiting; a background loop delivers the
// outbox with retries, stores every attempt's outcome for the settings page,
// and removes a notice once every channel was tried, so a restart loses none.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/netguard"
	"github.com/stacklens/stacklens/pipeline"
)

// Config is how the notifier reaches the outside world.
type Config struct {
	// PublicURL makes links absolute (STACKLENS_PUBLIC_URL); without it they are paths.
	PublicURL string
	// AllowPrivate lets webhooks reach loopback and private addresses
	// (STACKLENS_FETCH_ALLOW_PRIVATE, the same switch as the symbol-set fetcher).
	AllowPrivate bool
	SMTP         SMTPConfig
	// Poll is how often the outbox is read when nothing wakes the notifier.
	Poll time.Duration
	// Retries are the waits before each further attempt of a failed delivery.
	Retries []time.Duration
	// Parallel is how many deliveries may be under way at once.
	Parallel int
	// WebhookTimeout bounds one webhook request; EmailTimeout one SMTP conversation.
	WebhookTimeout time.Duration
	EmailTimeout   time.Duration
}

// DefaultConfig has the limits a server runs with.
func DefaultConfig() Config {
	return Config{
		Poll:           5 * time.Second,
		Retries:        []time.Duration{2 * time.Second, 15 * time.Second, time.Minute},
		Parallel:       4,
		WebhookTimeout: 10 * time.Second,
		EmailTimeout:   30 * time.Second,
	}
}

// Notifier implements pipeline.Notifier. Create it with New, start Run once.
type Notifier struct {
	db       Store
	log      *slog.Logger
	cfg      Config
	links    links
	webhooks webhookSender
	mail     mailSender
	wake     chan struct{}
	// lease is how long a claim of a notice lasts unless renewed (noticeLease).
	lease time.Duration
}

// noticeLease is how long this node's claim of a notice lasts: renewed by
// Run every lease/3 while the notice is delivered, and before every attempt.
// Before each attempt the claim is renewed (and the attempt skipped if
// another node holds the notice now), and an attempt ends within its timeout,
// which is under half the lease: no attempt of a node runs once another node
// may have claimed the notice. Two nodes thus never send one delivery, as
// long as their clocks agree to within the lease less the timeout. A node
// that died leaves its notices to another once the lease ended.
func noticeLease(cfg Config) time.Duration {
	return max(time.Minute, 2*max(cfg.WebhookTimeout, cfg.EmailTimeout))
}

// New makes a notifier over store.
func New(store Store, cfg Config, log *slog.Logger) *Notifier {
	def := DefaultConfig()
	if cfg.Poll <= 0 {
		cfg.Poll = def.Poll
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = def.Parallel
	}
	if cfg.WebhookTimeout <= 0 {
		cfg.WebhookTimeout = def.WebhookTimeout
	}
	if cfg.EmailTimeout <= 0 {
		cfg.EmailTimeout = def.EmailTimeout
	}
	connect := min(5*time.Second, cfg.WebhookTimeout)
	return &Notifier{
		db:       store,
		log:      log,
		cfg:      cfg,
		links:    links{base: cfg.PublicURL},
		webhooks: newWebhookSender(netguard.Policy{AllowPrivate: cfg.AllowPrivate}, connect, cfg.WebhookTimeout),
		mail:     mailSender{cfg: cfg.SMTP, timeout: cfg.EmailTimeout},
		wake:     make(chan struct{}, 1),
		lease:    noticeLease(cfg),
	}
}

// EmailConfigured tells whether email channels can deliver.
func (n *Notifier) EmailConfigured() bool { return n.cfg.SMTP.Configured() }

// Notify wakes the delivery loop: the notices themselves are already in the
// outbox, written with their events. It never blocks ingestion.
func (n *Notifier) Notify(_ context.Context, _ []pipeline.Notice) {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// outboxBatch is how many notices one read of the outbox takes.
const outboxBatch = 100

// Run delivers the outbox until ctx is done. Then it abandons waiting
// retries and lets attempts under way end (their outcome is recorded); the
// notices not finished stay in the outbox, their claims released, for
// another node or the next start.
func (n *Notifier) Run(ctx context.Context) {
	slots := make(chan struct{}, n.cfg.Parallel)
	finished := make(chan int64)
	// inFlight are the notices claimed and being handled: their claims are
	// renewed, and a notice whose lease ended while it was handled (no other
	// node took it) is not handled twice when claimed again.
	inFlight := map[int64]bool{}
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		if err := n.db.ReleaseNoticeClaims(context.WithoutCancel(ctx), mapKeys(inFlight)); err != nil {
			n.log.Warn("notice claims not released; they are free when their lease ends", "err", err)
		}
	}()
	poll := time.NewTicker(n.cfg.Poll)
	defer poll.Stop()
	renew := time.NewTicker(n.lease / 3)
	defer renew.Stop()
	for {
		notices, err := n.db.ClaimNotices(ctx, outboxBatch, n.lease)
		if err != nil && ctx.Err() == nil {
			n.log.Error("claim notices of the notification outbox", "err", err)
		}
		for _, nt := range notices {
			if inFlight[nt.ID] {
				continue
			}
			inFlight[nt.ID] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				n.handle(ctx, nt, slots)
				select {
				case finished <- nt.ID:
				case <-ctx.Done():
				}
			}()
		}
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				return
			case id := <-finished:
				delete(inFlight, id)
				waiting = false
			case <-n.wake:
				waiting = false
			case <-poll.C:
				waiting = false
			case <-renew.C: // no reason to claim more
				if _, err := n.db.RenewNoticeClaims(ctx, mapKeys(inFlight), n.lease); err != nil && ctx.Err() == nil {
					n.log.Warn("notice claims not renewed", "notices", len(inFlight), "err", err)
				}
			}
		}
	}
}

func mapKeys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// handle delivers one notice to every channel that wants it, then removes
// it from the outbox — unless the server stopped first.
func (n *Notifier) handle(ctx context.Context, nt db.OutboxNotice, slots chan struct{}) {
	notice := pipeline.Notice{ProjectID: nt.ProjectID, IssueID: nt.IssueID, NewIssue: !nt.Regression,
		Regression: nt.Regression, Event: nt.Event}
	deliveries, err := n.deliveriesFor(ctx, notice)
	switch {
	case errors.Is(err, db.ErrNotFound):
		// The issue was merged into another or deleted: nothing left to tell.
	case err != nil:
		if ctx.Err() == nil {
			n.log.Error("notification not sent yet", "issue_id", nt.IssueID, "err", err)
		}
		return
	}
	var each sync.WaitGroup
	var abandoned atomic.Bool
	for _, dl := range deliveries {
		dl.noticeID = nt.ID
		select {
		case <-ctx.Done():
			each.Wait()
			return
		case slots <- struct{}{}:
		}
		each.Add(1)
		go func() {
			defer each.Done()
			defer func() { <-slots }()
			if !n.deliver(ctx, dl) {
				abandoned.Store(true)
			}
		}()
	}
	each.Wait()
	if ctx.Err() != nil || abandoned.Load() {
		return
	}
	if err := n.db.DeleteNotice(context.WithoutCancel(ctx), nt.ID); err != nil {
		n.log.Error("remove delivered notice", "notice_id", nt.ID, "err", err)
	}
}

// delivery is one message for one channel.
type delivery struct {
	channel db.NotificationChannel
	msg     Message
	// noticeID is the outbox notice it delivers (0 for a test message).
	noticeID int64
}

// deliveriesFor reads the issue as it is now and the channels that want to hear of it.
func (n *Notifier) deliveriesFor(ctx context.Context, nt pipeline.Notice) ([]delivery, error) {
	trigger := db.TriggerNewIssue
	if nt.Regression {
		trigger = db.TriggerRegression
	}
	channels, err := n.db.NotificationChannels(ctx, nt.ProjectID)
	if err != nil {
		return nil, err
	}
	var wanted []db.NotificationChannel
	for _, ch := range channels {
		if ch.Wants(trigger) {
			wanted = append(wanted, ch)
		}
	}
	if len(wanted) == 0 {
		return nil, nil
	}
	project, err := n.db.Project(ctx, nt.ProjectID)
	if err != nil {
		return nil, err
	}
	issue, err := n.db.Issue(ctx, nt.ProjectID, nt.IssueID)
	if err != nil {
		return nil, fmt.Errorf("load issue %d: %w", nt.IssueID, err)
	}
	msg := newMessage(n.links, trigger, project, issue, nt.Event)
	out := make([]delivery, len(wanted))
	for i, ch := range wanted {
		out[i] = delivery{channel: ch, msg: msg}
	}
	return out, nil
}

// deliver tries a delivery until it succeeds, fails for good, runs out of
// retries or the server stops, recording every attempt. It tells false when
// it stopped because this node no longer holds (or could not renew) the
// notice: the notice is then not this node's to remove.
func (n *Notifier) deliver(ctx context.Context, dl delivery) bool {
	for attempt := 1; ; attempt++ {
		if !n.stillHeld(ctx, dl) {
			return false
		}
		status, err := n.send(ctx, dl.channel, dl.msg)
		n.record(ctx, dl, attempt, status, err)
		if err == nil || errors.As(err, new(permanentError)) || attempt > len(n.cfg.Retries) {
			if err != nil {
				n.log.Warn("notification failed", "channel_id", dl.channel.ID, "issue_id", dl.msg.Issue.ID, "attempts", attempt, "err", err)
			}
			return true
		}
		timer := time.NewTimer(n.cfg.Retries[attempt-1])
		select {
		case <-ctx.Done():
			timer.Stop()
			return true
		case <-timer.C:
		}
	}
}

// stillHeld renews this node's claim of the delivery's notice before an
// attempt and tells whether it still holds it. A node that lost the notice
// to another (its lease ended first) makes no attempt: the other delivers.
// When the claim cannot be renewed the attempt is not made either; the
// notice is tried again once it is claimed again.
func (n *Notifier) stillHeld(ctx context.Context, dl delivery) bool {
	if dl.noticeID == 0 {
		return true
	}
	held, err := n.db.RenewNoticeClaims(ctx, []int64{dl.noticeID}, n.lease)
	if err != nil {
		if ctx.Err() == nil {
			n.log.Warn("notice claim not renewed; no attempt made", "notice_id", dl.noticeID, "err", err)
		}
		return false
	}
	if held == 0 {
		n.log.Info("notice taken by another node; it delivers it", "notice_id", dl.noticeID)
	}
	return held == 1
}

// send makes one attempt.
func (n *Notifier) send(ctx context.Context, ch db.NotificationChannel, msg Message) (int, error) {
	now := time.Now()
	switch ch.Kind {
	case db.ChannelWebhook:
		var body []byte
		var err error
		if ch.Format == db.WebhookSlack {
			body, err = slackBody(msg)
		} else {
			body, err = jsonBody(msg, now)
		}
		if err != nil {
			return 0, permanent(err)
		}
		return n.webhooks.send(ctx, ch.URL, body)
	case db.ChannelEmail:
		body, err := emailMessage(msg, n.cfg.SMTP.From, ch.EmailTo, now)
		if err != nil {
			return 0, permanent(err)
		}
		return n.mail.send(ctx, ch.EmailTo, body)
	}
	return 0, permanent(fmt.Errorf("unknown channel kind %q", ch.Kind))
}

func (n *Notifier) record(ctx context.Context, dl delivery, attempt, status int, err error) int64 {
	rec := db.NotificationDelivery{
		ProjectID: dl.channel.ProjectID, ChannelID: dl.channel.ID, Trigger: dl.msg.Trigger,
		IssueID: dl.msg.Issue.ID, IssueName: dl.msg.Issue.Name, Attempt: attempt, OK: err == nil,
		Status: status, AttemptedAt: time.Now(),
	}
	if dl.msg.Test {
		rec.Trigger = db.TriggerTest
	}
	if err != nil {
		rec.Error = err.Error()
		if ctx.Err() != nil {
			rec.Error = "stopped: the server was shutting down (" + rec.Error + ")"
		}
	}
	// The outcome is stored even when the server is stopping.
	id, recErr := n.db.RecordNotificationDelivery(context.WithoutCancel(ctx), rec)
	if recErr != nil {
		n.log.Error("record notification delivery", "channel_id", dl.channel.ID, "err", recErr)
	}
	return id
}

// SendTest sends a sample notification to ch now, once, and returns the
// recorded outcome. It waits for the answer: a person is watching.
func (n *Notifier) SendTest(ctx context.Context, ch db.NotificationChannel) (db.NotificationDelivery, error) {
	project, err := n.db.Project(ctx, ch.ProjectID)
	if err != nil {
		return db.NotificationDelivery{}, err
	}
	dl := delivery{channel: ch, msg: sampleMessage(n.links, project, time.Now())}
	status, sendErr := n.send(ctx, ch, dl.msg)
	id := n.record(ctx, dl, 1, status, sendErr)
	if id == 0 {
		return db.NotificationDelivery{}, errors.New("the test was sent but its outcome could not be stored")
	}
	return n.db.NotificationDelivery(ctx, ch.ProjectID, id)
}

// permanentError marks a failure that retrying cannot fix (a refused
// address, a 4xx answer, missing SMTP settings).
type permanentError struct{ err error }

func permanent(err error) error { return permanentError{err: err} }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }
