package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"path"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/pipeline"
	"github.com/stacklens/stacklens/symbols"
)

// FillConfig says what Fill writes.
type FillConfig struct {
	ProjectID  int64
	Events     int64
	Issues     int
	SymbolSets int // distinct minified files (the fixture bundle under as many URLs), each fetched and stored once
	Users      int
	Releases   int
	Span       time.Duration // events' timestamps spread over this span, ending now
	BatchSize  int           // events per transaction
	Bundle     string        // directory holding app.js and app.js.map
	// PendingFrames stores the frames as waiting on their symbol set's
	// fetch, as a server that stopped between a fetch and resolving its
	// frames again leaves them: the next start resolves every event again.
	PendingFrames bool
	Run           uint32
	Progress      func(done int64)
}

// FillResult is what Fill wrote.
type FillResult struct {
	Events, Issues, SymbolSets int64
	Took                       time.Duration
}

// FillStore is what Fill writes through (*db.DB): the resolver's symbol sets
// and the pipeline's StoreBatch.
type FillStore interface {
	symbols.Store
	StoreBatch(ctx context.Context, events []db.NewEvent, rejected []db.RejectedInbox) ([]db.Stored, error)
}

// Fill writes cfg.Events realistic events into d quickly: each is a recorded
// posthog-js exception made unique (uuid, type per issue, user, release,
// timestamp), parsed, normalised, its frames resolved through one of
// cfg.SymbolSets stored source maps (or, with cfg.PendingFrames, left
// waiting on it) and fingerprinted as the pipeline does,
// then stored through StoreBatch, the pipeline's own write path. It skips
// only the inbox and the per-event map lookups (every event of a symbol set
// has the same frames, so their resolutions are looked up once).
//
// The first cfg.Issues events open one issue each; the rest pick an issue by
// a Zipf law, so a few issues hold most events, as in real projects.
func Fill(ctx context.Context, d FillStore, cfg FillConfig, templates []*Template) (FillResult, error) {
	if cfg.Events <= 0 || cfg.Issues <= 0 || cfg.SymbolSets <= 0 || len(templates) == 0 {
		return FillResult{}, errors.New("fill: events, issues, symbol sets and templates must be positive")
	}
	cfg.Users, cfg.Releases, cfg.BatchSize = max(cfg.Users, 1), max(cfg.Releases, 1), max(cfg.BatchSize, 1)
	if cfg.Span <= 0 {
		cfg.Span = 30 * 24 * time.Hour
	}
	start := time.Now()
	resolved, err := resolveTemplates(ctx, d, cfg, templates)
	if err != nil {
		return FillResult{}, err
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Run), 1))
	zipf := rand.NewZipf(rng, 1.1, 4, uint64(cfg.Issues-1))
	end := time.Now()
	step := cfg.Span / time.Duration(cfg.Events)
	var res FillResult
	batch := make([]db.NewEvent, 0, cfg.BatchSize)
	flush := func() error {
		stored, err := d.StoreBatch(ctx, batch, nil)
		if err != nil {
			return fmt.Errorf("fill: %w", err)
		}
		for _, st := range stored {
			if !st.Duplicate {
				res.Events++
			}
			if st.NewIssue {
				res.Issues++
			}
		}
		batch = batch[:0]
		if cfg.Progress != nil {
			cfg.Progress(res.Events)
		}
		return nil
	}
	var raw []byte
	for n := range cfg.Events {
		issue := int(n)
		if n >= int64(cfg.Issues) {
			issue = int(zipf.Uint64())
		}
		set := issue % cfg.SymbolSets
		tpl := issue % len(templates)
		ts := end.Add(-time.Duration(cfg.Events-n) * step)
		raw = templates[tpl].Append(raw[:0], Event{UUID: UUID(cfg.Run, n), Issue: issue, User: rng.IntN(cfg.Users),
			BundleURL: resolved[set].url, Timestamp: ts, Token: "phc_bench", Release: fmt.Sprintf("2026.%d.0", issue%cfg.Releases)})
		ne, err := preparedEvent(raw, ts, resolved[set].frames[tpl], cfg.ProjectID)
		if err != nil {
			return res, err
		}
		batch = append(batch, ne)
		if len(batch) == cfg.BatchSize {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return res, err
		}
	}
	res.SymbolSets = int64(cfg.SymbolSets)
	res.Took = time.Since(start)
	return res, nil
}

// resolvedSet is one symbol set's URL and each template's resolved frames under it.
type resolvedSet struct {
	url    string
	frames [][][]event.Frame // [template][exception] frames
}

// resolveTemplates serves the bundle under cfg.SymbolSets URLs and resolves
// each template's frames through the real resolver, which fetches, validates
// and stores one symbol set per URL. With cfg.PendingFrames the frames get
// the answer the resolver gives while that fetch is under way.
func resolveTemplates(ctx context.Context, d symbols.Store, cfg FillConfig, templates []*Template) ([]resolvedSet, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fill: serve bundle: %w", err)
	}
	srv := &http.Server{Handler: BundleHandler(cfg.Bundle), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	fetch := symbols.DefaultFetchConfig()
	fetch.AllowPrivate = true // the bundle is served on loopback, by us
	resolver := symbols.NewResolver(d, symbols.ResolverConfig{Fetch: fetch})
	defer resolver.Close()
	out := make([]resolvedSet, cfg.SymbolSets)
	for s := range out {
		out[s].url = fmt.Sprintf("http://%s/release-%d/app.js", ln.Addr(), s)
		for t, tpl := range templates {
			raw := tpl.Append(nil, Event{UUID: UUID(cfg.Run, int64(s)), BundleURL: out[s].url, Timestamp: time.Now(), Token: "phc_bench"})
			ev, err := event.ParsePostHog(raw, time.Now())
			if err != nil {
				return nil, fmt.Errorf("fill: parse template %d: %w", t, err)
			}
			ev.Normalize()
			started, err := resolver.StartFetches(ctx, cfg.ProjectID, &ev)
			if err != nil {
				return nil, fmt.Errorf("fill: fetch %s: %w", out[s].url, err)
			}
			for _, done := range started {
				<-done
			}
			if err := resolver.Symbolicate(ctx, cfg.ProjectID, &ev); err != nil {
				return nil, fmt.Errorf("fill: resolve %s: %w", out[s].url, err)
			}
			var frames [][]event.Frame
			for _, ex := range ev.Exceptions {
				frames = append(frames, ex.Frames)
			}
			if len(frames) == 0 || len(frames[0]) == 0 || !resolved(frames[0][len(frames[0])-1]) {
				return nil, fmt.Errorf("fill: %s did not resolve the template's frames", out[s].url)
			}
			if cfg.PendingFrames {
				for _, ff := range frames {
					for i, f := range ff {
						if r := f.Resolution; r != nil && r.SymbolSetID != 0 {
							ff[i].Resolution = &event.Resolution{FailureCode: symbols.FailureFetchPending, SymbolSetRef: r.SymbolSetRef, SymbolSetID: r.SymbolSetID}
						}
					}
				}
			}
			out[s].frames = append(out[s].frames, frames)
		}
	}
	return out, nil
}

func resolved(f event.Frame) bool { return f.Resolution != nil && f.Resolution.Resolved }

// BundleHandler serves the fixture bundle's app.js and app.js.map under any prefix.
func BundleHandler(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + path.Base(r.URL.Path)
		files.ServeHTTP(w, r2)
	})
}

// preparedEvent is what the pipeline would store for raw, with the frames'
// resolutions copied from an event that had the same frames.
func preparedEvent(raw []byte, received time.Time, frames [][]event.Frame, projectID int64) (db.NewEvent, error) {
	ev, err := event.ParsePostHogWithoutProperties(raw, received)
	if err != nil {
		return db.NewEvent{}, fmt.Errorf("fill: parse event: %w", err)
	}
	ev.Normalize()
	var resolvedFrames []event.Frame
	for i := range ev.Exceptions {
		if i < len(frames) && len(frames[i]) == len(ev.Exceptions[i].Frames) {
			ev.Exceptions[i].Frames = frames[i]
		}
		for _, f := range ev.Exceptions[i].Frames {
			if f.Resolution != nil {
				resolvedFrames = append(resolvedFrames, f)
			}
		}
	}
	data, err := event.EncodeStored(ev, true)
	if err != nil {
		return db.NewEvent{}, fmt.Errorf("fill: %w", err)
	}
	name, description := pipeline.IssueTitle(ev)
	return db.NewEvent{ProjectID: projectID, UUID: ev.UUID, Fingerprint: event.Fingerprint(ev),
		IssueName: name, IssueDescription: description, Timestamp: ev.Timestamp, ReceivedAt: received,
		DistinctID: ev.DistinctID, URL: ev.URL, Lib: ev.Lib, LibVersion: ev.LibVersion, Release: ev.Release,
		Browser: ev.Browser, OS: ev.OS, Environment: ev.Environment, Tags: ev.Tags, SearchTerms: db.SearchTerms(ev), Data: data, Raw: append([]byte(nil), raw...), ResolvedFrames: resolvedFrames}, nil
}
