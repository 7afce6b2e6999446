package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// captureEvent is a $exception event as posthog-node sends it.
type captureEvent struct {
	UUID       string         `json:"uuid"`
	Event      string         `json:"event"`
	DistinctID string         `json:"distinct_id"`
	Timestamp  string         `json:"timestamp"`
	Properties map[string]any `json:"properties"`
}

// newException builds a $exception event with one exception whose one in-app
// frame carries code context.
func newException(typ, value string) captureEvent {
	return captureEvent{
		UUID:       newUUID(),
		Event:      "$exception",
		DistinctID: "e2e-user",
		Timestamp:  time.Now().UTC().Format(time.RFC3339Nano),
		Properties: map[string]any{
			"$lib": "e2e",
			"$exception_list": []any{map[string]any{
				"type":      typ,
				"value":     value,
				"mechanism": map[string]any{"type": "generic", "handled": true},
				"stacktrace": map[string]any{"type": "raw", "frames": []any{map[string]any{
					"platform":     "node:javascript",
					"filename":     "app/" + typ + ".js",
					"function":     "raise" + typ,
					"lineno":       3,
					"colno":        9,
					"in_app":       true,
					"pre_context":  []string{"function raise" + typ + "() {", "  // about to fail"},
					"context_line": "  throw new " + typ + "('" + value + "');",
					"post_context": []string{"}"},
				}}},
			}},
		},
	}
}

// batchBody is a /batch/ body: {"api_key": token, "batch": events}.
func batchBody(t *testing.T, token string, events ...captureEvent) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"api_key": token, "batch": events, "sent_at": time.Now().UTC().Format(time.RFC3339Nano)})
	if err != nil {
		t.Fatalf("encode batch: %v", err)
	}
	return b
}

// postException sends events in one /batch/ request, gzip-compressed as
// posthog-node does, and requires 200.
func postException(t *testing.T, s *server, token string, events ...captureEvent) {
	t.Helper()
	status, body := postCapture(t, s, "/batch/", map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}, gzipBytes(t, batchBody(t, token, events...)))
	if status != http.StatusOK {
		t.Fatalf("POST /batch/: status %d, want 200; body %s", status, truncate(string(body), 500))
	}
}

// postCapture sends one capture request and returns the status and body.
func postCapture(t *testing.T, s *server, path string, headers map[string]string, body []byte) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("build POST %s: %v", path, err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer to POST %s: %v", path, err)
	}
	return resp.StatusCode, answer
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatalf("gzip: %v", err)
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("gzip: %v", err)
	}
	return buf.Bytes()
}

// newUUID returns a random version-4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
