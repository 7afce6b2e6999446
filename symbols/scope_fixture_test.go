package symbols

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/internal/testkit"
)

type recordedFrame struct {
	Function string  `json:"function"`
	Filename string  `json:"filename"`
	Lineno   float64 `json:"lineno"`
	Colno    float64 `json:"colno"`
}

// recordedFrames collects every bundle frame of the recorded payloads in
// the given files (the decoded bodies hold them at varying depths).
func recordedFrames(t *testing.T, pattern string) map[[2]int]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testkit.Fixtures(t), "sdk", pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings match %s: %v", pattern, err)
	}
	frames := map[[2]int]string{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["colno"]; ok && strings.HasSuffix(fmt.Sprint(v["filename"]), "/app.js") {
				raw, _ := json.Marshal(v)
				var f recordedFrame
				if err := json.Unmarshal(raw, &f); err == nil {
					frames[[2]int{int(f.Lineno), int(f.Colno)}] = f.Function
				}
			}
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		walk(doc)
	}
	return frames
}

// Every frame posthog-js recorded must be one of posthogFrames, so that
// table (checked in TestEnclosingFunctionPosthogBundle) covers them all.
func TestPosthogRecordingsAreCovered(t *testing.T) {
	known := map[[2]int]bool{}
	for _, f := range posthogFrames {
		known[[2]int{f.line, f.colno}] = true
	}
	frames := recordedFrames(t, "posthog-js/*.json")
	for pos, name := range frames {
		if !known[pos] {
			t.Errorf("recorded frame %s at %d:%d has no expected function", name, pos[0], pos[1])
		}
	}
	if len(frames) < 10 {
		t.Fatalf("only %d frames found in the recordings", len(frames))
	}
}

// The Sentry browser recording points into a different build of the same
// sources.
func TestEnclosingFunctionSentryBundle(t *testing.T) {
	m, js := loadBundle(t, "sentry-browser")
	want := map[string]string{ // minified name → original function
		"HTMLButtonElement.sc": "runManual", "vr": "level1", "nc": "level2", "rc": "level3",
		"hr": "checkout", "ic": "processOrder", "tc": "validateOrder", "ec": "parseAmount",
	}
	checked := 0
	for pos, minified := range recordedFrames(t, "sentry-browser/*.json") {
		expected, ok := want[minified]
		if !ok {
			continue // the SDK's own frames
		}
		checked++
		if got := m.EnclosingFunction(js, pos[0], pos[1]-1); got != expected {
			t.Errorf("%s at %d:%d: function %q, want %q", minified, pos[0], pos[1], got, expected)
		}
		if got := m.EnclosingFunction("", pos[0], pos[1]-1); got != expected {
			t.Errorf("%s at %d:%d without minified source: function %q, want %q", minified, pos[0], pos[1], got, expected)
		}
	}
	if checked < 8 {
		t.Fatalf("checked only %d frames", checked)
	}
}

// One parsed map serves many workers at once; run with -race.
func TestSourceMapConcurrentUse(t *testing.T) {
	m, js := loadBundle(t, "posthog-browser")
	other := strings.Replace(js, "function Og(", "function Og (", 1) // a different minified text
	type result struct {
		worker int
		name   string
	}
	done := make(chan result, 8)
	for i := range 8 {
		go func() {
			src := js
			if i%2 == 1 {
				src = other
			}
			name := ""
			for range 5 {
				m.Lookup(5, 38321)
				name = m.EnclosingFunction(src, 5, 38321)
			}
			done <- result{i, name}
		}()
	}
	for range 8 {
		// Workers on the real bundle must not be disturbed by the others.
		if r := <-done; r.worker%2 == 0 && r.name != "level3" {
			t.Errorf("worker %d got %q", r.worker, r.name)
		}
	}
}
