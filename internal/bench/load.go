package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LoadConfig says what the load generator sends.
type LoadConfig struct {
	// URLs are the servers' base URLs (several nodes on one database, or
	// one); batch n goes to URLs[n % len(URLs)] + "/batch/", so the load is
	// spread evenly across them.
	URLs        []string
	Token       string // the project's capture token
	BundleURL   string // where the fixture bundle (app.js and app.js.map) is served
	Concurrency int    // clients posting at once
	BatchSize   int    // events per request
	Events      int64  // stop after this many events (0: only Duration)
	Duration    time.Duration
	// Rate, when set, paces the load at this many events per second over
	// all clients (batch n is not sent before n·BatchSize/Rate seconds
	// after the start): a steady offered load, to tell whether the server
	// keeps up with it (see LoadResult.MaxInboxDepth), rather than as fast
	// as the clients can send.
	Rate   float64
	Issues int  // distinct issues the events group into
	Users  int  // distinct users (distinct_id) over all events
	Gzip   bool // compress bodies as posthog-js does
	// Drain waits, after sending, until the inbox is empty and reports
	// processed events per second.
	Drain        bool
	DrainTimeout time.Duration
	// InboxDepth, when set, tells how many events wait in the inbox; the
	// drain polls it. Without it the drain adds up the inbox_events every
	// URL reports on /readyz (on PostgreSQL a node recounts the shared
	// inbox only every few seconds, so a count from the database is exact).
	InboxDepth func(context.Context) (int64, error)
	// PIDs are the servers' processes: the resident memory of each is
	// sampled before, during and after the run (Linux /proc).
	PIDs []int
	Run  uint32 // distinguishes uuids of separate runs against one database
}

// LoadResult is what a load run measured.
type LoadResult struct {
	Requests, Errors int64
	Accepted         int64            // events answered 200
	ByStatus         map[string]int64 // answers by status code (or "error" for transport failures)
	Sending          time.Duration    // from the first request to the last answer
	P50, P99, Max    time.Duration    // request latency
	ByURL            []int64          // requests sent to each of LoadConfig.URLs
	Drained          time.Duration    // from the first request until the inbox was empty (Drain)
	// MaxInboxDepth is the most events seen waiting in the inbox while
	// sending (sampled every depthSampleEvery; with Drain only).
	MaxInboxDepth int64
	RSS           []ProcessRSS // the memory of each of LoadConfig.PIDs
}

// depthSampleEvery is how often Load samples the inbox's depth while sending.
const depthSampleEvery = 250 * time.Millisecond

// ProcessRSS is one server process's resident memory.
type ProcessRSS struct {
	PID    int
	IdleKB int64 // VmRSS before the run
	PeakKB int64 // VmHWM (the kernel's high-water mark) after it
}

// AcceptedPerSecond is events answered 200 per second of sending.
func (r LoadResult) AcceptedPerSecond() float64 {
	return float64(r.Accepted) / r.Sending.Seconds()
}

// ProcessedPerSecond is accepted events per second until the inbox drained (0 without Drain).
func (r LoadResult) ProcessedPerSecond() float64 {
	if r.Drained == 0 {
		return 0
	}
	return float64(r.Accepted) / r.Drained.Seconds()
}

func (r LoadResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "requests %d, errors %d, events accepted %d in %s: %.0f events/s\n", r.Requests, r.Errors, r.Accepted,
		r.Sending.Round(time.Millisecond), r.AcceptedPerSecond())
	fmt.Fprintf(&b, "request latency p50 %s, p99 %s, max %s\n", r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond))
	keys := make([]string, 0, len(r.ByStatus))
	for k := range r.ByStatus {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "answers %s: %d\n", k, r.ByStatus[k])
	}
	if r.Drained > 0 {
		fmt.Fprintf(&b, "inbox drained after %s: %.0f processed events/s\n", r.Drained.Round(time.Millisecond), r.ProcessedPerSecond())
		fmt.Fprintf(&b, "inbox depth while sending: at most %d events; drained %s after the last answer\n", r.MaxInboxDepth,
			(r.Drained - r.Sending).Round(time.Millisecond))
	}
	if len(r.ByURL) > 1 {
		fmt.Fprintf(&b, "requests per server: %v\n", r.ByURL)
	}
	for _, m := range r.RSS {
		fmt.Fprintf(&b, "server %d RSS idle %.1f MB, peak %.1f MB\n", m.PID, float64(m.IdleKB)/1024, float64(m.PeakKB)/1024)
	}
	return b.String()
}

// Load posts generated events until cfg.Events were sent or cfg.Duration passed.
func Load(ctx context.Context, cfg LoadConfig, templates []*Template) (LoadResult, error) {
	if cfg.Concurrency <= 0 || cfg.BatchSize <= 0 || cfg.Issues <= 0 || len(templates) == 0 {
		return LoadResult{}, errors.New("load: concurrency, batch size, issues and templates must be positive")
	}
	if len(cfg.URLs) == 0 {
		return LoadResult{}, errors.New("load: give at least one server URL")
	}
	if cfg.Events <= 0 && cfg.Duration <= 0 {
		return LoadResult{}, errors.New("load: give a number of events or a duration")
	}
	if cfg.Users <= 0 {
		cfg.Users = 1
	}
	bases := make([]string, len(cfg.URLs))
	for i, u := range cfg.URLs {
		bases[i] = strings.TrimRight(u, "/")
	}
	res := LoadResult{ByStatus: map[string]int64{}, ByURL: make([]int64, len(bases))}
	for _, pid := range cfg.PIDs {
		idle, _ := procStatusKB(pid, "VmRSS")
		res.RSS = append(res.RSS, ProcessRSS{PID: pid, IdleKB: idle})
	}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Concurrency * 2}, Timeout: time.Minute}
	byURL := make([]atomic.Int64, len(bases))
	var next atomic.Int64 // the next batch's first event number
	var mu sync.Mutex
	var latencies []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for c := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(cfg.Run), uint64(c)))
			var body, zipped bytes.Buffer
			var mine []time.Duration
			statuses := map[string]int64{}
			var accepted, requests, failed int64
			for ctx.Err() == nil {
				first := next.Add(int64(cfg.BatchSize)) - int64(cfg.BatchSize)
				n := int64(cfg.BatchSize)
				if cfg.Events > 0 {
					if first >= cfg.Events {
						break
					}
					n = min(n, cfg.Events-first)
				}
				if cfg.Rate > 0 {
					due := start.Add(time.Duration(float64(first) / cfg.Rate * float64(time.Second)))
					if wait := time.Until(due); wait > 0 {
						select {
						case <-time.After(wait):
						case <-ctx.Done():
							continue
						}
					}
				}
				makeBatch(&body, cfg, templates, first, n, rng)
				payload := body.Bytes()
				if cfg.Gzip {
					zipped.Reset()
					zw, _ := gzip.NewWriterLevel(&zipped, gzip.BestSpeed)
					zw.Write(payload)
					zw.Close()
					payload = zipped.Bytes()
				}
				target := int(first/int64(cfg.BatchSize)) % len(bases)
				byURL[target].Add(1)
				req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, bases[target]+"/batch/", bytes.NewReader(payload))
				if err != nil {
					failed++
					continue
				}
				req.Header.Set("Content-Type", "application/json")
				if cfg.Gzip {
					req.Header.Set("Content-Encoding", "gzip")
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				requests++
				if err != nil {
					statuses["error"]++
					failed++
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(t0))
				statuses[strconv.Itoa(resp.StatusCode)]++
				if resp.StatusCode == http.StatusOK {
					accepted += n
				} else {
					failed++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			latencies = append(latencies, mine...)
			for k, v := range statuses {
				res.ByStatus[k] += v
			}
			res.Accepted += accepted
			res.Requests += requests
			res.Errors += failed
		}()
	}
	var sampling sync.WaitGroup
	stopSampling := make(chan struct{})
	for i := range res.RSS {
		sampling.Go(func() { sampleRSS(res.RSS[i].PID, &res.RSS[i].PeakKB, stopSampling) })
	}
	depth := cfg.InboxDepth
	if depth == nil {
		depth = func(ctx context.Context) (int64, error) {
			var sum int64
			for _, base := range bases {
				n, err := InboxEvents(ctx, client, base)
				if err != nil {
					return 0, err
				}
				sum += n
			}
			return sum, nil
		}
	}
	stopDepth := make(chan struct{})
	var depthDone sync.WaitGroup
	if cfg.Drain {
		depthDone.Go(func() { sampleDepth(context.WithoutCancel(ctx), depth, &res.MaxInboxDepth, stopDepth) })
	}
	wg.Wait()
	close(stopDepth)
	depthDone.Wait()
	res.Sending = time.Since(start)
	for i := range byURL {
		res.ByURL[i] = byURL[i].Load()
	}
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		res.P50, res.P99, res.Max = latencies[n/2], latencies[min(n-1, n*99/100)], latencies[n-1]
	}
	var err error
	if cfg.Drain {
		timeout := cfg.DrainTimeout
		if timeout <= 0 {
			timeout = 30 * time.Minute
		}
		err = waitInboxEmpty(context.WithoutCancel(ctx), depth, timeout)
		res.Drained = time.Since(start)
	}
	close(stopSampling)
	sampling.Wait()
	return res, err
}

// makeBatch writes one /batch/ body of n events starting at event number first.
func makeBatch(body *bytes.Buffer, cfg LoadConfig, templates []*Template, first, n int64, rng *rand.Rand) {
	body.Reset()
	buf := body.AvailableBuffer()
	buf = append(buf, `{"api_key":"`...)
	buf = append(buf, cfg.Token...)
	buf = append(buf, `","batch":[`...)
	now := time.Now()
	for i := range n {
		num := first + i
		if i > 0 {
			buf = append(buf, ',')
		}
		issue := int(num % int64(cfg.Issues))
		buf = templates[issue%len(templates)].Append(buf, Event{UUID: UUID(cfg.Run, num), Issue: issue,
			User: rng.IntN(cfg.Users), BundleURL: cfg.BundleURL, Timestamp: now, Token: cfg.Token})
	}
	buf = append(buf, "]}"...)
	body.Write(buf)
}

// sampleDepth keeps the largest inbox depth seen in max until stop is
// closed; a failed sample is skipped.
func sampleDepth(ctx context.Context, depth func(context.Context) (int64, error), max *int64, stop <-chan struct{}) {
	tick := time.NewTicker(depthSampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if n, err := depth(ctx); err == nil && n > *max {
				*max = n
			}
		}
	}
}

// waitInboxEmpty polls depth until it reports an empty inbox.
func waitInboxEmpty(ctx context.Context, depth func(context.Context) (int64, error), timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n, err := depth(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the inbox still holds %d events after %s", n, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// InboxEvents reads the inbox depth a stacklens server reports on /readyz.
func InboxEvents(ctx context.Context, client *http.Client, base string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("read inbox depth: %w", err)
	}
	defer resp.Body.Close()
	var ready struct {
		InboxEvents *int64 `json:"inbox_events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ready); err != nil || ready.InboxEvents == nil {
		return 0, fmt.Errorf("read inbox depth: %s/readyz does not report inbox_events (is it a stacklens server?)", base)
	}
	return *ready.InboxEvents, nil
}

// sampleRSS keeps the highest resident memory seen until stop closes; the
// kernel's VmHWM covers peaks between samples.
func sampleRSS(pid int, peak *int64, stop <-chan struct{}) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		if kb, err := procStatusKB(pid, "VmHWM"); err == nil && kb > *peak {
			*peak = kb
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// procStatusKB reads one "Key: N kB" line of /proc/<pid>/status.
func procStatusKB(pid int, key string) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, key)
}
