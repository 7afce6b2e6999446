package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/handlers"
	"github.com/stacklens/stacklens/internal/testkit"
	"github.com/stacklens/stacklens/pipeline"
	"github.com/stacklens/stacklens/symbols"
)

// BenchmarkIngest posts posthog-node's recorded batch (2 exceptions with
// context lines, gzip) over real HTTP to a real server on a SQLite file, many
// clients at once, each batch with fresh uuids. It reports accepted events
// per second (each answered 200 only after its fsync'd commit) and how long
// the pipeline then took to group and store all of them.
func BenchmarkIngest(b *testing.B) {
	batch := nodeBatch(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, err := db.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	if _, err := store.EnsureDefaultProject(ctx, "phc_testtoken_node", ""); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	resolver := symbols.NewResolver(store, symbols.ResolverConfig{Fetch: symbols.DefaultFetchConfig()})
	worker := pipeline.New(store, resolver, log)
	srv := New(store, worker, resolver, handlers.Options{MaxBodyBytes: 20 << 20, EventLimits: event.DefaultLimits()}, log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String() + "/batch/"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

	// Bodies are made before the clock starts so the client's gzip work is not counted.
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = batch(int64(i))
	}
	var seq atomic.Int64
	b.SetParallelism(32) // 64 concurrent clients on 2 cores, like many app servers sending at once
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := bodies[seq.Add(1)-1]
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Encoding", "gzip")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	accepted := time.Since(start)
	b.StopTimer()
	for {
		n, err := store.CountInbox(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	processed := time.Since(start)
	events := float64(2 * b.N)
	b.ReportMetric(events/accepted.Seconds(), "accepted-events/s")
	b.ReportMetric(events/processed.Seconds(), "processed-events/s")
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// nodeBatch returns a function that makes the recorded posthog-node batch
// with uuids unique to request n, gzip-compressed like the SDK sends it.
func nodeBatch(b *testing.B) func(n int64) []byte {
	raw, err := os.ReadFile(filepath.Join(testkit.Fixtures(b), "sdk", "posthog-node", "manual.json"))
	if err != nil {
		b.Fatal(err)
	}
	var rec struct {
		Requests []struct {
			Decoded struct {
				JSON map[string]any `json:"json"`
			} `json:"decoded"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		b.Fatal(err)
	}
	template := rec.Requests[0].Decoded.JSON
	return func(n int64) []byte {
		events := template["batch"].([]any)
		out := make([]any, len(events))
		for i, e := range events {
			copyOf := map[string]any{}
			for k, v := range e.(map[string]any) {
				copyOf[k] = v
			}
			copyOf["uuid"] = fmt.Sprintf("00000000-0000-4000-8000-%06d%06d", n, i)
			out[i] = copyOf
		}
		body, _ := json.Marshal(map[string]any{"api_key": template["api_key"], "batch": out})
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		return buf.Bytes()
	}
}
