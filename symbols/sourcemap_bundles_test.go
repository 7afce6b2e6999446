package symbols

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/internal/testkit"
)

// testBundle is a minified file and its map, built by a real tool.
type testBundle struct {
	name    string
	js      string
	mapPath string
}

// throwSites maps the message of each `throw` in testdata/app to the
// original function it is in ("" for an anonymous callback).
var throwSites = map[string]string{
	"empty report":                 "compressReport",
	"invoice without lines":        "renderInvoice",
	"unsafe note":                  "sanitizeNote",
	"negative refund":              "onRefund",
	"too many retries":             "onRetry",
	"amount is not finite":         "post",
	"ledger entry is not a number": "",
}

// buildBundles bundles testdata/app with esbuild, terser and rollup (with
// @rollup/plugin-terser) from e2e/node_modules, into a temporary directory.
func buildBundles(t *testing.T) []testBundle {
	t.Helper()
	modules := testkit.NodeModules(t)
	testkit.Node(t)
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	if err := os.CopyFS(app, os.DirFS("testdata/app")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(modules, filepath.Join(app, "node_modules")); err != nil {
		t.Fatal(err)
	}
	bin := func(name string) string { return filepath.Join(modules, ".bin", name) }
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = app
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
		}
	}
	out := func(name string) string { return filepath.Join(dir, name) }
	run(bin("esbuild"), "main.js", "--bundle", "--minify", "--sourcemap", "--format=esm", "--outfile="+out("esbuild.js"))
	run(bin("terser"), "ledger.js", "main.js", "--module", "--compress", "--mangle", "--source-map", "includeSources", "-o", out("terser.js"))
	run(bin("rollup"), "main.js", "--silent", "--format", "es", "--sourcemap", "--plugin", "@rollup/plugin-terser", "-o", out("rollup.js"))

	var bundles []testBundle
	for _, name := range []string{"esbuild", "terser", "rollup"} {
		js, err := os.ReadFile(out(name + ".js"))
		if err != nil {
			t.Fatal(err)
		}
		bundles = append(bundles, testBundle{name: name, js: string(js), mapPath: out(name + ".js.map")})
	}
	bundles = append(bundles, indexBundle(t, dir, bundles[0], bundles[1]))
	return bundles
}

// indexBundle joins two bundles into one file and an index map whose second
// section starts mid-line, so its column offset matters.
func indexBundle(t *testing.T, dir string, first, second testBundle) testBundle {
	t.Helper()
	lines := strings.Split(stripMapComment(first.js), "\n")
	last := len(lines) - 1
	joined := strings.Join(lines, "\n") + stripMapComment(second.js)
	firstMap, err := os.ReadFile(first.mapPath)
	if err != nil {
		t.Fatal(err)
	}
	secondMap, err := os.ReadFile(second.mapPath)
	if err != nil {
		t.Fatal(err)
	}
	index := map[string]any{
		"version": 3,
		"file":    "index.js",
		"sections": []any{
			map[string]any{"offset": map[string]int{"line": 0, "column": 0}, "map": json.RawMessage(firstMap)},
			map[string]any{"offset": map[string]int{"line": last, "column": len(lines[last])}, "map": json.RawMessage(secondMap)},
		},
	}
	data, err := json.Marshal(index)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "index.js.map")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return testBundle{name: "index", js: joined, mapPath: path}
}

func stripMapComment(js string) string {
	if i := strings.LastIndex(js, "//# sourceMappingURL="); i >= 0 {
		js = js[:i]
	}
	return strings.TrimRight(js, "\n")
}

func TestEnclosingFunctionOfBuiltBundles(t *testing.T) {
	for _, b := range buildBundles(t) {
		t.Run(b.name, func(t *testing.T) {
			data, err := os.ReadFile(b.mapPath)
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseSourceMap(data)
			if err != nil {
				t.Fatal(err)
			}
			for message, want := range throwSites {
				at := strings.Index(b.js, message)
				if at < 0 {
					t.Fatalf("message %q not in bundle", message)
				}
				throw := strings.LastIndex(b.js[:at], "throw")
				line := 1 + strings.Count(b.js[:throw], "\n")
				column := throw - (strings.LastIndex(b.js[:throw], "\n") + 1)
				pos, ok := m.Lookup(line, column)
				if !ok || !strings.HasPrefix(strings.TrimLeft(sourceLine(t, m, pos), " "), "throw") {
					t.Errorf("%q: throw at %d:%d maps to %+v (ok=%v), not to a throw", message, line, column, pos, ok)
				}
				if got := m.EnclosingFunction(b.js, line, column); got != want {
					t.Errorf("%q at %d:%d: function %q, want %q", message, line, column, got, want)
				}
				// Both strategies must hold on their own, not only together.
				if got, _ := m.functionNameFromMinified(b.js, line, column); got != want {
					t.Errorf("%q at %d:%d from the minified scope alone: function %q, want %q", message, line, column, got, want)
				}
				if got := m.EnclosingFunction("", line, column); got != want {
					t.Errorf("%q at %d:%d without minified source: function %q, want %q", message, line, column, got, want)
				}
			}
		})
	}
}

// sourceLine is the original line (from the column on) a position maps to.
func sourceLine(t *testing.T, m *SourceMap, pos Position) string {
	t.Helper()
	content, ok := m.SourceContent(pos.SourceIndex)
	if !ok {
		t.Fatalf("no content for %q", pos.Source)
	}
	lines := strings.Split(content, "\n")
	if pos.Line > len(lines) || pos.Column > len(lines[pos.Line-1]) {
		return ""
	}
	return lines[pos.Line-1][pos.Column:]
}
