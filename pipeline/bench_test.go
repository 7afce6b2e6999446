package pipeline

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/internal/testkit"
)

// BenchmarkProcess measures the worker alone: parse, fingerprint, group and
// store posthog-js events already in the inbox (symbol set already stored,
// so it measures resolution through the cache, not fetching).
func BenchmarkProcess(b *testing.B) {
	bundle := filepath.Join(testkit.Fixtures(b), "bundles", "posthog-browser")
	srv := httptest.NewServer(http.FileServer(http.Dir(bundle)))
	defer srv.Close()
	h := newHarness(b, true)
	template := recordedBrowserEvents(b, srv.URL+"/app.js")[0]
	ctx := context.Background()
	w := h.store.NewInboxWriter(db.InboxLimits{})
	runCtx, cancel := context.WithCancel(ctx)
	go w.Run(runCtx)
	defer cancel()
	var rows []db.InboxRow
	for i := range b.N {
		p := strings.Replace(string(template), `"uuid":"`, fmt.Sprintf(`"uuid":"%08d`, i), 1)
		rows = append(rows, db.InboxRow{ProjectID: 1, Format: "posthog", ReceivedAt: time.Now(), Payload: []byte(p)})
	}
	for start := 0; start < len(rows); start += 500 {
		if err := w.Append(ctx, rows[start:min(start+500, len(rows))]); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for {
		n, err := h.worker.ProcessBatch(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
