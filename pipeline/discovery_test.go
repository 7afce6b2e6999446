package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/internal/testkit"
)

// throwSite is where a bundle built by esbuild throws, and the original
// function that throw is in.
type throwSite struct {
	message, function string
	line, column0     int
}

var expectedFunctions = map[string]string{
	"empty report":          "compressReport",
	"invoice without lines": "renderInvoice",
	"negative refund":       "onRefund",
	"amount is not finite":  "post",
}

// buildApp bundles symbols/testdata/app with the real esbuild, once with a
// linked map and once with the map inline as a data: URL.
func buildApp(t *testing.T) (linked, inline, sourceMap string) {
	t.Helper()
	modules := testkit.NodeModules(t)
	testkit.Node(t)
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	if err := os.CopyFS(app, os.DirFS("../symbols/testdata/app")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(modules, filepath.Join(app, "node_modules")); err != nil {
		t.Fatal(err)
	}
	esbuild := func(args ...string) {
		cmd := exec.Command(filepath.Join(modules, ".bin", "esbuild"), append([]string{"main.js", "--bundle", "--minify", "--format=esm"}, args...)...)
		cmd.Dir = app
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("esbuild %v: %v\n%s", args, err, out)
		}
	}
	esbuild("--sourcemap", "--outfile="+filepath.Join(dir, "linked.js"))
	esbuild("--sourcemap=inline", "--outfile="+filepath.Join(dir, "inline.js"))
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return read("linked.js"), read("inline.js"), read("linked.js.map")
}

// throwSites finds the `throw` before each expected message in minified code.
func throwSites(t *testing.T, js string) []throwSite {
	t.Helper()
	var out []throwSite
	for msg, fn := range expectedFunctions {
		at := strings.Index(js, msg)
		if at < 0 {
			t.Fatalf("message %q not in the bundle", msg)
		}
		throwAt := strings.LastIndex(js[:at], "throw")
		line := strings.Count(js[:throwAt], "\n") + 1
		column0 := throwAt - (strings.LastIndex(js[:throwAt], "\n") + 1)
		out = append(out, throwSite{message: msg, function: fn, line: line, column0: column0})
	}
	return out
}

var mapComment = regexp.MustCompile(`(?m)^//# sourceMappingURL=.*$`)

func exceptionEvent(uuid, url string, s throwSite) []byte {
	ev := map[string]any{
		"uuid": uuid, "event": "$exception", "distinct_id": "u1", "timestamp": "2026-11-25T10:00:00Z",
		"properties": map[string]any{
			"$exception_list": []any{map[string]any{
				"type": "Error", "value": s.message,
				"stacktrace": map[string]any{"type": "raw", "frames": []any{map[string]any{
					"platform": "web:javascript", "filename": url, "function": "x", "in_app": true,
					"lineno": s.line, "colno": s.column0 + 1,
				}}},
			}},
		},
	}
	b, _ := json.Marshal(ev)
	return b
}

// traceMapping asks @jridgewell/trace-mapping where positions map.
func traceMapping(t *testing.T, mapJSON string, sites []throwSite) [][]any {
	t.Helper()
	mapPath := filepath.Join(t.TempDir(), "m.map")
	if err := os.WriteFile(mapPath, []byte(mapJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	var positions [][2]int
	for _, s := range sites {
		positions = append(positions, [2]int{s.line, s.column0})
	}
	in, _ := json.Marshal(positions)
	cmd := exec.Command(testkit.Node(t), "../symbols/testdata/trace.mjs", filepath.Dir(testkit.NodeModules(t)), mapPath)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("trace-mapping: %v", err)
	}
	var answers [][]any
	if err := json.Unmarshal(out, &answers); err != nil {
		t.Fatal(err)
	}
	return answers
}

// Every way a map can be found (docs/ARCHITECTURE.md), on a real esbuild bundle,
// through the whole pipeline: the throw sites resolve to the original
// functions, at the position trace-mapping gives.
func TestMapDiscoveryOnARealBundle(t *testing.T) {
	linked, inline, sourceMap := buildApp(t)
	bare := mapComment.ReplaceAllString(linked, "")
	mux := http.NewServeMux()
	js := func(body string, headers ...string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i+1 < len(headers); i += 2 {
				w.Header().Set(headers[i], headers[i+1])
			}
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, body)
		}
	}
	mapHandler := js(sourceMap)
	mux.HandleFunc("/comment/linked.js", js(linked))
	mux.HandleFunc("/comment/linked.js.map", mapHandler)
	mux.HandleFunc("/inline/app.js", js(inline))
	mux.HandleFunc("/header/app.js", js(bare, "SourceMap", "/maps/by-header.map"))
	mux.HandleFunc("/maps/by-header.map", mapHandler)
	mux.HandleFunc("/fallback/app.js", js(bare))
	mux.HandleFunc("/fallback/app.js.map", mapHandler)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	sites := throwSites(t, linked)
	reference := traceMapping(t, sourceMap, sites)
	h := newHarness(t, true)
	paths := []string{"/comment/linked.js", "/inline/app.js", "/header/app.js", "/fallback/app.js"}
	var payloads [][]byte
	for p, path := range paths {
		for i, s := range sites {
			payloads = append(payloads, exceptionEvent(fmt.Sprintf("00000000-0000-4000-8000-%06d%06d", p, i), srv.URL+path, s))
		}
	}
	h.ingest(t, payloads)

	ctx := context.Background()
	for p, path := range paths {
		set, err := h.store.SymbolSet(ctx, 1, srv.URL+path)
		if err != nil || !set.Stored {
			t.Errorf("%s: symbol set %+v %v", path, set, err)
			continue
		}
		for i, s := range sites {
			got := resolutionOf(t, h.store, fmt.Sprintf("00000000-0000-4000-8000-%06d%06d", p, i))
			want := reference[i]
			if got == nil || !got.Resolved || got.Name != s.function {
				t.Errorf("%s %q: resolution %+v, want function %s", path, s.message, got, s.function)
				continue
			}
			if want == nil || got.Source != want[0] || float64(got.Line) != want[1] || float64(got.Column-1) != want[2] {
				t.Errorf("%s %q: resolved to %s:%d:%d, trace-mapping says %v", path, s.message, got.Source, got.Line, got.Column-1, want)
			}
		}
	}
}

func resolutionOf(t *testing.T, store *db.DB, uuid string) *event.Resolution {
	t.Helper()
	page, err := store.ListIssues(context.Background(), db.IssueQuery{ProjectID: 1, Status: "all", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, is := range page.Issues {
		evs, err := store.IssueEvents(context.Background(), 1, is.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.UUID != uuid {
				continue
			}
			var ev event.Event
			if err := json.Unmarshal(e.Data, &ev); err != nil {
				t.Fatal(err)
			}
			return ev.Exceptions[0].Frames[0].Resolution
		}
	}
	t.Fatalf("event %s not stored", uuid)
	return nil
}
