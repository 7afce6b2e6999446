package event

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/internal/testkit"
)

// recording is one file of testdata/fixtures/sdk.
type recording struct {
	Requests []recordedRequest `json:"requests"`
}

type recordedRequest struct {
	Method        string            `json:"method"`
	Path          string            `json:"path"`
	Query         map[string]any    `json:"query"`
	Headers       map[string]string `json:"headers"`
	RawBodyBase64 string            `json:"rawBodyBase64"`
	Decoded       struct {
		Steps []string        `json:"steps"`
		JSON  json.RawMessage `json:"json"`
	} `json:"decoded"`
}

func isCapturePath(p string) bool {
	switch p {
	case "/e/", "/i/v0/e/", "/batch/", "/capture/":
		return true
	}
	return false
}

// captureInput rebuilds the request exactly as the recorder saw it.
func (r recordedRequest) captureInput(t testing.TB) CaptureInput {
	t.Helper()
	body, err := base64.StdEncoding.DecodeString(r.RawBodyBase64)
	if err != nil {
		t.Fatalf("recorded body: %v", err)
	}
	q := url.Values{}
	for k, v := range r.Query {
		switch v := v.(type) {
		case string:
			q.Add(k, v)
		case []any:
			for _, s := range v {
				q.Add(k, s.(string))
			}
		}
	}
	in := CaptureInput{
		Method:          r.Method,
		ContentType:     r.Headers["content-type"],
		ContentEncoding: r.Headers["content-encoding"],
		Query:           q,
		Body:            body,
	}
	if auth, ok := strings.CutPrefix(r.Headers["authorization"], "Bearer "); ok {
		in.BearerToken = auth
	}
	return in
}

// captureRequests returns every recorded PostHog capture request, by name.
func captureRequests(t testing.TB) map[string]recordedRequest {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testkit.Fixtures(t), "sdk", "posthog-*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no posthog fixtures found (%v)", err)
	}
	out := map[string]recordedRequest{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rec recording
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i, r := range rec.Requests {
			if isCapturePath(r.Path) && r.RawBodyBase64 != "" {
				name := filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f) + "#" + strconv.Itoa(i)
				out[name] = r
			}
		}
	}
	if len(out) < 8 {
		t.Fatalf("found only %d capture requests in the fixtures", len(out))
	}
	return out
}

func TestDecodePostHogReplaysRecordedRequests(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, r := range captureRequests(t) {
		t.Run(name, func(t *testing.T) {
			evs, err := DecodePostHog(r.captureInput(t), DefaultLimits(), now)
			if err != nil {
				t.Fatalf("decode (steps %v): %v", r.Decoded.Steps, err)
			}
			var want struct {
				APIKey string           `json:"api_key"`
				Batch  []map[string]any `json:"batch"`
			}
			if err := json.Unmarshal(r.Decoded.JSON, &want); err != nil {
				t.Fatal(err)
			}
			if len(evs) != len(want.Batch) || len(evs) == 0 {
				t.Fatalf("got %d events, the recording has %d", len(evs), len(want.Batch))
			}
			if tok, err := Tokens(evs); err != nil || tok != want.APIKey {
				t.Errorf("Tokens = %q, %v; want %q", tok, err, want.APIKey)
			}
			for i, we := range want.Batch {
				ev := evs[i]
				if ev.Name != we["event"] || ev.UUID != we["uuid"] {
					t.Errorf("event %d: name %q uuid %q, want %v %v", i, ev.Name, ev.UUID, we["event"], we["uuid"])
				}
				parsed, err := ParsePostHog(ev.JSON, now)
				if err != nil {
					t.Fatalf("parse event %d: %v", i, err)
				}
				checkAgainstRecording(t, parsed, we)
			}
		})
	}
}

// checkAgainstRecording compares a parsed event with the recorder's decoded
// JSON, read generically so the test does not share the parser's code.
func checkAgainstRecording(t *testing.T, got Event, want map[string]any) {
	t.Helper()
	props := want["properties"].(map[string]any)
	wantTime, err := time.Parse(time.RFC3339Nano, want["timestamp"].(string))
	if err != nil || !got.Timestamp.Equal(wantTime) {
		t.Errorf("timestamp %v, want %v", got.Timestamp, want["timestamp"])
	}
	distinct, _ := want["distinct_id"].(string)
	if distinct == "" {
		distinct, _ = props["distinct_id"].(string)
	}
	if got.DistinctID != distinct || got.DistinctID == "" {
		t.Errorf("distinct_id %q, want %q", got.DistinctID, distinct)
	}
	if got.Lib != props["$lib"] || got.LibVersion != props["$lib_version"] || got.Level != props["$exception_level"] {
		t.Errorf("lib %q %q level %q, want %v %v %v", got.Lib, got.LibVersion, got.Level, props["$lib"], props["$lib_version"], props["$exception_level"])
	}
	if url, _ := props["$current_url"].(string); got.URL != url {
		t.Errorf("url %q, want %q", got.URL, url)
	}
	if sid, _ := props["$session_id"].(string); got.SessionID != sid {
		t.Errorf("session %q, want %q", got.SessionID, sid)
	}
	if b, ok := props["$browser"].(string); ok && !strings.HasPrefix(got.Browser, b+" ") {
		t.Errorf("browser %q, want %q with its version", got.Browser, b)
	}

	var gotProps map[string]any
	if err := json.Unmarshal(got.Properties, &gotProps); err != nil {
		t.Fatalf("properties: %v", err)
	}
	wantProps := map[string]any{}
	for k, v := range props {
		if k != "$exception_list" {
			wantProps[k] = v
		}
	}
	if !reflect.DeepEqual(gotProps, wantProps) {
		t.Errorf("properties differ:\n got %v\nwant %v", gotProps, wantProps)
	}

	list := props["$exception_list"].([]any)
	if len(got.Exceptions) != len(list) {
		t.Fatalf("%d exceptions, want %d", len(got.Exceptions), len(list))
	}
	for i, wx := range list {
		wx := wx.(map[string]any)
		gx := got.Exceptions[i]
		if gx.Type != wx["type"] || gx.Value != wx["value"] {
			t.Errorf("exception %d: %q %q, want %v %v", i, gx.Type, gx.Value, wx["type"], wx["value"])
		}
		checkMechanism(t, gx.Mechanism, wx["mechanism"].(map[string]any))
		st := wx["stacktrace"].(map[string]any)
		if gx.StacktraceType != st["type"] {
			t.Errorf("stacktrace type %q, want %v", gx.StacktraceType, st["type"])
		}
		frames := st["frames"].([]any)
		if len(gx.Frames) != len(frames) {
			t.Fatalf("exception %d: %d frames, want %d", i, len(gx.Frames), len(frames))
		}
		for j, wf := range frames {
			checkFrame(t, gx.Frames[j], wf.(map[string]any))
		}
	}
}

func checkMechanism(t *testing.T, got Mechanism, want map[string]any) {
	t.Helper()
	str := func(k string) string { s, _ := want[k].(string); return s }
	if got.Type != str("type") || got.Source != str("source") || got.Synthetic != (want["synthetic"] == true) {
		t.Errorf("mechanism %+v, want %v", got, want)
	}
	if h, ok := want["handled"].(bool); ok != (got.Handled != nil) || (ok && *got.Handled != h) {
		t.Errorf("mechanism handled %v, want %v", got.Handled, want["handled"])
	}
	for key, p := range map[string]*int{"exception_id": got.ExceptionID, "parent_id": got.ParentID} {
		w, ok := want[key].(float64)
		if ok != (p != nil) || (ok && *p != int(w)) {
			t.Errorf("mechanism %s %v, want %v", key, p, want[key])
		}
	}
}

func checkFrame(t *testing.T, got Frame, want map[string]any) {
	t.Helper()
	str := func(k string) string { s, _ := want[k].(string); return s }
	num := func(k string) int { n, _ := want[k].(float64); return int(n) }
	lines := func(k string) []string {
		l, _ := want[k].([]any)
		if len(l) == 0 {
			return nil
		}
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = s.(string)
		}
		return out
	}
	wantFrame := Frame{
		RawID:    got.RawID,
		Platform: str("platform"), Filename: str("filename"), AbsPath: str("abs_path"),
		Function: str("function"), Module: str("module"), Lineno: num("lineno"), Colno: num("colno"),
		InApp: want["in_app"] == true, ChunkID: str("chunk_id"), DebugID: str("debug_id"),
		ContextLine: str("context_line"), PreContext: lines("pre_context"), PostContext: lines("post_context"),
	}
	if !reflect.DeepEqual(got, wantFrame) {
		t.Errorf("frame\n got %+v\nwant %+v", got, wantFrame)
	}
	if len(got.RawID) != 16 || got.RawID != FrameRawID(got) {
		t.Errorf("frame raw id %q", got.RawID)
	}
}
