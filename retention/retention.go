// Package retention keeps the database bounded: per project it deletes
// events older than a number of days and the oldest events of an issue
// beyond a cap, then the frame resolutions no kept event holds and the
// symbol sets nothing used for a number of days, and the inbox rows the
// pipeline set aside beyond the newest few or as old as deleted events. Issue counts are kept on
// the issues and do not shrink. It runs in the background in small
// transactions, letting the pipeline and the inbox writer have the single
// writer connection between them.
package retention

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/metrics"
)

// Policy says what one project keeps; 0 in a field keeps forever.
type Policy struct {
	EventDays         int64 // events whose timestamp is older are deleted
	MaxEventsPerIssue int64 // an issue keeps at most this many events, the newest
	SymbolSetDays     int64 // symbol sets unused this long are deleted, unless a kept event's frame refers to them
}

// DefaultPolicy is what a project keeps unless the server or the project says otherwise.
func DefaultPolicy() Policy {
	return Policy{EventDays: 90, MaxEventsPerIssue: 10_000, SymbolSetDays: 180}
}

// Limits on settings: about a century of days, a billion events.
const (
	MaxDays   = 36_500
	MaxEvents = 1_000_000_000
)

// For is the policy of a project: its own settings where it has them, the defaults elsewhere.
func For(defaults Policy, own db.ProjectRetention) Policy {
	p := defaults
	if own.EventDays != nil {
		p.EventDays = *own.EventDays
	}
	if own.MaxEventsPerIssue != nil {
		p.MaxEventsPerIssue = *own.MaxEventsPerIssue
	}
	if own.SymbolSetDays != nil {
		p.SymbolSetDays = *own.SymbolSetDays
	}
	return p
}

// Store is what retention needs from the database (db.DB implements it).
type Store interface {
	ProjectsRetention(ctx context.Context) ([]db.ProjectRetention, error)
	IssuesWithEventsBefore(ctx context.Context, projectID int64, before time.Time) ([]int64, error)
	IssuesWithMoreOccurrences(ctx context.Context, projectID, n int64) ([]int64, error)
	DeleteIssueEventsBefore(ctx context.Context, issueID int64, before time.Time, limit int) (int64, error)
	DeleteIssueEventsOverCap(ctx context.Context, issueID, keep int64, limit int) (int64, error)
	DeleteOrphanFrameResolutions(ctx context.Context, projectID int64, after string, limit int) (int64, string, error)
	DeleteUnusedSymbolSets(ctx context.Context, projectID int64, before time.Time, limit int) ([]int64, error)
	DeleteRejectedInboxRows(ctx context.Context, projectID, keep int64, before time.Time, limit int) (int64, error)
}

// Pipeline is the worker retention must not delete under (pipeline.Worker implements it).
type Pipeline interface {
	// Exclusive runs fn while no batch is processed.
	Exclusive(fn func() error) error
}

// Forgetter drops what a cache holds of a deleted symbol set (symbols.Resolver implements it).
type Forgetter interface {
	Forget(symbolSetID int64)
}

// Config tunes a Runner.
type Config struct {
	Defaults Policy
	// Interval is the time between passes (STACKLENS_RETENTION_INTERVAL).
	Interval time.Duration
	// BatchSize is how many rows one transaction deletes at most.
	BatchSize int
	// Pause is the rest between two transactions, so ingestion's commits
	// and the pipeline's batches get the writer in between.
	Pause time.Duration
	// RejectedPerProject is how many of the inbox rows the pipeline set
	// aside (inbox_rejected) a project keeps, the newest; none is kept
	// longer than the project keeps events.
	RejectedPerProject int64
}

// DefaultRejectedPerProject keeps enough set-aside rows to see what is
// wrong and to replay them by hand, while a client that sends nothing but
// unstorable events fills no disk.
const DefaultRejectedPerProject = 1000

// DefaultConfig runs hourly in transactions of 500 rows.
func DefaultConfig() Config {
	return Config{Defaults: DefaultPolicy(), Interval: time.Hour, BatchSize: 500, Pause: 5 * time.Millisecond,
		RejectedPerProject: DefaultRejectedPerProject}
}

// Runner deletes what the policies no longer keep. Make it with New.
type Runner struct {
	store    Store
	pipeline Pipeline
	forget   Forgetter
	cfg      Config
	metrics  *metrics.Metrics
	log      *slog.Logger
	now      func() time.Time
}

// New makes a runner; m may be nil.
func New(store Store, pipeline Pipeline, forget Forgetter, cfg Config, m *metrics.Metrics, log *slog.Logger) *Runner {
	def := DefaultConfig()
	if cfg.Interval <= 0 {
		cfg.Interval = def.Interval
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = def.BatchSize
	}
	if cfg.Pause < 0 {
		cfg.Pause = 0
	}
	if cfg.RejectedPerProject <= 0 {
		cfg.RejectedPerProject = def.RejectedPerProject
	}
	return &Runner{store: store, pipeline: pipeline, forget: forget, cfg: cfg, metrics: m, log: log, now: time.Now}
}

// Report is what one pass deleted.
type Report struct {
	Events           int64
	FrameResolutions int64
	SymbolSets       int64
	RejectedInbox    int64
}

func (r *Report) add(o Report) {
	r.Events += o.Events
	r.FrameResolutions += o.FrameResolutions
	r.SymbolSets += o.SymbolSets
	r.RejectedInbox += o.RejectedInbox
}

// Run makes a pass every Interval (the first one Interval after start)
// until ctx is done; a pass stops between two transactions when it is.
func (r *Runner) Run(ctx context.Context) {
	ticker := time.NewTicker(r.cfg.Interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("retention pass failed", "err", err)
		}
	}
}

// RunOnce makes one pass over every project.
func (r *Runner) RunOnce(ctx context.Context) (Report, error) {
	started := r.now()
	var total Report
	projects, err := r.store.ProjectsRetention(ctx)
	if err != nil {
		r.metrics.RetentionRun("failed")
		return total, err
	}
	for _, own := range projects {
		p := For(r.cfg.Defaults, own)
		t0 := r.now()
		rep, err := r.project(ctx, own.ProjectID, p)
		total.add(rep)
		if err != nil {
			r.metrics.RetentionRun("failed")
			return total, fmt.Errorf("retention of project %d: %w", own.ProjectID, err)
		}
		if rep != (Report{}) {
			r.log.Info("retention removed rows", "project_id", own.ProjectID, "events", rep.Events,
				"frame_resolutions", rep.FrameResolutions, "symbol_sets", rep.SymbolSets, "rejected_inbox", rep.RejectedInbox,
				"event_days", p.EventDays, "max_events_per_issue", p.MaxEventsPerIssue, "symbol_set_days", p.SymbolSetDays,
				"duration_ms", r.now().Sub(t0).Milliseconds())
		}
	}
	r.metrics.RetentionRun("ok")
	r.log.Debug("retention pass done", "projects", len(projects), "events", total.Events,
		"frame_resolutions", total.FrameResolutions, "symbol_sets", total.SymbolSets, "rejected_inbox", total.RejectedInbox, "duration_ms", r.now().Sub(started).Milliseconds())
	return total, nil
}

const day = 24 * time.Hour

// project applies p to one project: events by age, events over the cap,
// then frame resolutions nothing holds, then unused symbol sets (in that
// order, so a set whose last events just went can go in the same pass).
func (r *Runner) project(ctx context.Context, projectID int64, p Policy) (Report, error) {
	var rep Report
	if p.EventDays > 0 {
		cutoff := r.now().Add(-time.Duration(p.EventDays) * day)
		issues, err := r.store.IssuesWithEventsBefore(ctx, projectID, cutoff)
		if err != nil {
			return rep, err
		}
		for _, issue := range issues {
			n, err := r.drain(ctx, func() (int64, error) {
				return r.store.DeleteIssueEventsBefore(ctx, issue, cutoff, r.cfg.BatchSize)
			})
			rep.Events += n
			r.metrics.RetentionDeleted("events", n)
			if err != nil {
				return rep, err
			}
		}
	}
	if p.MaxEventsPerIssue > 0 {
		issues, err := r.store.IssuesWithMoreOccurrences(ctx, projectID, p.MaxEventsPerIssue)
		if err != nil {
			return rep, err
		}
		for _, issue := range issues {
			n, err := r.drain(ctx, func() (int64, error) {
				return r.store.DeleteIssueEventsOverCap(ctx, issue, p.MaxEventsPerIssue, r.cfg.BatchSize)
			})
			rep.Events += n
			r.metrics.RetentionDeleted("events", n)
			if err != nil {
				return rep, err
			}
		}
	}
	if rep.Events > 0 || p.SymbolSetDays > 0 {
		n, err := r.orphanResolutions(ctx, projectID)
		rep.FrameResolutions += n
		if err != nil {
			return rep, err
		}
	}
	if p.SymbolSetDays > 0 {
		cutoff := r.now().Add(-time.Duration(p.SymbolSetDays) * day)
		n, err := r.drain(ctx, func() (int64, error) {
			ids, err := r.store.DeleteUnusedSymbolSets(ctx, projectID, cutoff, r.cfg.BatchSize)
			for _, id := range ids {
				r.forget.Forget(id)
			}
			return int64(len(ids)), err
		})
		rep.SymbolSets += n
		r.metrics.RetentionDeleted("symbol_sets", n)
		if err != nil {
			return rep, err
		}
	}
	var rejectedBefore time.Time // the zero time: only the cap applies
	if p.EventDays > 0 {
		rejectedBefore = r.now().Add(-time.Duration(p.EventDays) * day)
	}
	// Nothing reads these rows while the pipeline works: they need not wait for it.
	n, err := r.repeat(ctx, func() (int64, error) {
		return r.store.DeleteRejectedInboxRows(ctx, projectID, r.cfg.RejectedPerProject, rejectedBefore, r.cfg.BatchSize)
	})
	rep.RejectedInbox += n
	r.metrics.RetentionDeleted("inbox_rejected", n)
	if err != nil {
		return rep, err
	}
	return rep, nil
}

// orphanResolutions walks the project's frame resolutions once, a batch per
// transaction, deleting those no kept event holds.
func (r *Runner) orphanResolutions(ctx context.Context, projectID int64) (int64, error) {
	var total int64
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var n int64
		var next string
		err := r.pipeline.Exclusive(func() error {
			var err error
			n, next, err = r.store.DeleteOrphanFrameResolutions(ctx, projectID, after, r.cfg.BatchSize)
			return err
		})
		total += n
		r.metrics.RetentionDeleted("frame_resolutions", n)
		if err != nil || next == "" {
			return total, err
		}
		after = next
		r.rest(ctx)
	}
}

// drain repeats one deleting transaction, each while the pipeline is
// between batches, resting between them, until one deletes less than a
// full batch.
func (r *Runner) drain(ctx context.Context, once func() (int64, error)) (int64, error) {
	return r.repeat(ctx, func() (int64, error) {
		var n int64
		err := r.pipeline.Exclusive(func() error {
			var err error
			n, err = once()
			return err
		})
		return n, err
	})
}

// repeat is drain without waiting for the pipeline.
func (r *Runner) repeat(ctx context.Context, once func() (int64, error)) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := once()
		total += n
		if err != nil || n < int64(r.cfg.BatchSize) {
			return total, err
		}
		r.rest(ctx)
	}
}

func (r *Runner) rest(ctx context.Context) {
	if r.cfg.Pause <= 0 {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(r.cfg.Pause):
	}
}
