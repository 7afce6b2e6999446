package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/internal/testkit"
)

// recording is one file of testdata/fixtures/sdk/<sdk>/: what a real SDK sent.
type recording struct {
	Requests []recordedRequest `json:"requests"`
	Name     string            `json:"-"`
}

type recordedRequest struct {
	Method        string            `json:"method"`
	URL           string            `json:"url"`
	Path          string            `json:"path"`
	Headers       map[string]string `json:"headers"`
	BodyBytes     int               `json:"bodyBytes"`
	RawBodyBase64 string            `json:"rawBodyBase64"`
	Decoded       struct {
		JSON json.RawMessage `json:"json"`
	} `json:"decoded"`
}

// recordedException is one $exception event as the SDK sent it (from the
// recorder's decoded copy of the body).
type recordedException struct {
	UUID       string `json:"uuid"`
	Event      string `json:"event"`
	DistinctID string `json:"distinct_id"`
	Properties struct {
		Token         string `json:"token"`
		DistinctID    string `json:"distinct_id"`
		ExceptionList []struct {
			Type       string         `json:"type"`
			Value      string         `json:"value"`
			Mechanism  map[string]any `json:"mechanism"`
			Stacktrace struct {
				Frames []recordedFrame `json:"frames"`
			} `json:"stacktrace"`
		} `json:"$exception_list"`
	} `json:"properties"`
}

// distinctID is the event's distinct_id: top level (posthog-node), else in
// properties (posthog-js).
func (ev recordedException) distinctID() string {
	if ev.DistinctID != "" {
		return ev.DistinctID
	}
	return ev.Properties.DistinctID
}

type recordedFrame struct {
	Platform    string   `json:"platform"`
	Filename    string   `json:"filename"`
	Function    string   `json:"function"`
	Lineno      int      `json:"lineno"`
	Colno       int      `json:"colno"`
	InApp       bool     `json:"in_app"`
	ContextLine *string  `json:"context_line"`
	PreContext  []string `json:"pre_context"`
	PostContext []string `json:"post_context"`
}

// captureRequest reports whether the request is one the capture endpoints take.
func (r recordedRequest) captureRequest() bool {
	switch r.Path {
	case "/e/", "/i/v0/e/", "/batch/", "/capture/", "/track/", "/i/v1/analytics/events":
		return r.Method == http.MethodPost || r.Method == http.MethodGet
	}
	return false
}

// body is the exact bytes the SDK sent.
func (r recordedRequest) body(t *testing.T) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(r.RawBodyBase64)
	if err != nil {
		t.Fatalf("decode rawBodyBase64 of %s %s: %v", r.Method, r.URL, err)
	}
	if len(b) != r.BodyBytes {
		t.Fatalf("%s %s: body is %d bytes, the recording says %d", r.Method, r.URL, len(b), r.BodyBytes)
	}
	return b
}

// exceptions are the $exception events of the request's decoded body.
func (r recordedRequest) exceptions(t *testing.T) []recordedException {
	t.Helper()
	if len(r.Decoded.JSON) == 0 {
		return nil
	}
	var events []recordedException
	trimmed := bytes.TrimSpace(r.Decoded.JSON)
	switch {
	case bytes.HasPrefix(trimmed, []byte("[")):
		if err := json.Unmarshal(trimmed, &events); err != nil {
			t.Fatalf("decode recorded array body of %s: %v", r.URL, err)
		}
	default:
		var batch struct {
			Batch []recordedException `json:"batch"`
		}
		if err := json.Unmarshal(trimmed, &batch); err != nil {
			t.Fatalf("decode recorded body of %s: %v", r.URL, err)
		}
		if batch.Batch != nil {
			events = batch.Batch
		} else {
			var single recordedException
			if err := json.Unmarshal(trimmed, &single); err != nil {
				t.Fatalf("decode recorded event of %s: %v", r.URL, err)
			}
			events = []recordedException{single}
		}
	}
	var out []recordedException
	for _, ev := range events {
		if ev.Event == "$exception" {
			out = append(out, ev)
		}
	}
	return out
}

// loadRecordings reads every testdata/fixtures/sdk/posthog-*/*.json.
func loadRecordings(t *testing.T) []recording {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(testkit.Fixtures(t), "sdk", "posthog-*", "*.json"))
	if err != nil {
		t.Fatalf("glob fixtures: %v", err)
	}
	if len(paths) == 0 {
		t.Fatalf("no posthog-* recordings under %s", testkit.Fixtures(t))
	}
	sort.Strings(paths)
	var out []recording
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("read fixture: %v", err)
		}
		var rec recording
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatalf("decode fixture %s: %v", p, err)
		}
		rec.Name = filepath.Base(filepath.Dir(p)) + "/" + strings.TrimSuffix(filepath.Base(p), ".json")
		out = append(out, rec)
	}
	return out
}

// replay sends a recorded request byte for byte (recorded method, path, query
// and body-describing headers) and returns the answer.
func replay(t *testing.T, s *server, r recordedRequest) (*http.Response, []byte) {
	t.Helper()
	body := r.body(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, s.URL+r.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("build replay of %s %s: %v", r.Method, r.URL, err)
	}
	// The headers that say how to read the body, and Origin so CORS answers can be checked.
	for _, h := range []string{"content-type", "content-encoding", "origin", "authorization"} {
		if v, ok := r.Headers[h]; ok {
			req.Header.Set(h, v)
		}
	}
	for h, v := range r.Headers {
		if strings.HasPrefix(h, "access-control-request-") {
			req.Header.Set(h, v)
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("replay %s %s: %v", r.Method, r.URL, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer to %s %s: %v", r.Method, r.URL, err)
	}
	return resp, answer
}

// tokenOf is the project token a recording's capture requests carry.
func tokenOf(t *testing.T, rec recording) string {
	t.Helper()
	for _, r := range rec.Requests {
		if !r.captureRequest() || len(r.Decoded.JSON) == 0 {
			continue
		}
		var top struct {
			APIKey string `json:"api_key"`
			Token  string `json:"token"`
		}
		if json.Unmarshal(r.Decoded.JSON, &top) == nil {
			if top.APIKey != "" {
				return top.APIKey
			}
			if top.Token != "" {
				return top.Token
			}
		}
		for _, ev := range r.exceptions(t) {
			if ev.Properties.Token != "" {
				return ev.Properties.Token
			}
		}
	}
	t.Fatalf("%s: no token in its capture requests", rec.Name)
	return ""
}

func describeFrame(f apiFrame) string {
	return fmt.Sprintf("%s @ %s:%d:%d (resolved=%v %q)", f.MangledName, f.Source, f.Line, f.Column, f.Resolved, f.ResolvedName)
}
