package symbols

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/internal/testkit"
)

// npmMaps are minified files and maps that npm packages ship (installed in
// e2e/node_modules by e2e/package.json): jquery and leaflet.js without
// sourcesContent (their original files ship beside them), leaflet-src and
// popper with it (popper's sources are Flow).
var npmMaps = []struct{ name, js, mapFile string }{
	{"jquery", "jquery/dist/jquery.min.js", "jquery/dist/jquery.min.map"},
	{"leaflet", "leaflet/dist/leaflet.js", "leaflet/dist/leaflet.js.map"},
	{"leaflet-src", "leaflet/dist/leaflet-src.js", "leaflet/dist/leaflet-src.js.map"},
	{"popper", "@popperjs/core/dist/umd/popper.min.js", "@popperjs/core/dist/umd/popper.min.js.map"},
}

// npmBundles loads npmMaps.
func npmBundles(t *testing.T) []testBundle {
	t.Helper()
	modules := testkit.NodeModules(t)
	var out []testBundle
	for _, b := range npmMaps {
		js, err := os.ReadFile(filepath.Join(modules, b.js))
		if err != nil {
			t.Fatalf("%s: %v (run npm ci --prefix e2e)", b.name, err)
		}
		out = append(out, testBundle{name: b.name, js: string(js), mapPath: filepath.Join(modules, b.mapFile)})
	}
	return out
}

// buildNamingBundles bundles testdata/names: lodash-es through esbuild
// (whose `export default f` becomes `var f_default = f`), and shapes a
// minifier inlines through esbuild and through terser with aggressive
// inlining (an anonymous callback run once ends up in its caller's body).
func buildNamingBundles(t *testing.T) []testBundle {
	t.Helper()
	modules := testkit.NodeModules(t)
	testkit.Node(t)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/names")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(modules, ".bin", name), args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("esbuild", "lodash.js", "--bundle", "--minify", "--sourcemap", "--format=esm", "--outfile=lodash.esbuild.js")
	run("esbuild", "inline.js", "--bundle", "--minify", "--sourcemap", "--format=esm", "--outfile=inline.esbuild.js")
	run("terser", "inline.js", "--module", "--compress", "passes=3,inline=3", "--mangle", "--source-map", "includeSources", "-o", "inline.terser.js")
	var out []testBundle
	for _, name := range []string{"lodash.esbuild", "inline.esbuild", "inline.terser"} {
		js, err := os.ReadFile(filepath.Join(dir, name+".js"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, testBundle{name: name, js: string(js), mapPath: filepath.Join(dir, name+".js.map")})
	}
	return out
}

// Every frame position of real bundles — built here, and shipped in npm
// packages — is named as the original source names the function around it,
// read by a real parser (testdata/function_names.mjs). Maps without
// sourcesContent are checked against the original files their packages ship.
func TestNamingAgreesWithOriginalSources(t *testing.T) {
	modules := testkit.NodeModules(t)
	bundles := append(buildBundles(t)[:3], buildNamingBundles(t)...)
	bundles = append(bundles, npmBundles(t)...)
	for _, b := range bundles {
		t.Run(b.name, func(t *testing.T) {
			data, err := os.ReadFile(b.mapPath)
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseSourceMap(data)
			if err != nil {
				t.Fatal(err)
			}
			c := namingCase{name: b.name, minified: b.js, sm: m}
			withContent := m.HasSourcesContent()
			if withContent {
				c.original = writeSourcesContent(t, m)
			} else {
				// The package ships its original files where the map says.
				dir := filepath.Dir(b.mapPath)
				c.original = func(i int) string { return filepath.Join(dir, m.rawNames[i]) }
			}
			if !strings.HasPrefix(b.mapPath, modules) && !withContent {
				t.Fatal("a bundle built here must carry sourcesContent")
			}
			frames := oracleFrames(t, c)
			if len(frames) < 10 {
				t.Fatalf("only %d frame positions found", len(frames))
			}
			views := []string{"with the minified file"}
			if withContent {
				views = append(views, "from sourcesContent alone")
			}
			for _, view := range views {
				minified := b.js
				if view != views[0] {
					minified = ""
				}
				s := checkNaming(c, frames, minified)
				t.Logf("%s %s: %s", b.name, view, s)
				// Without the original text, an inlined function's name is
				// gone (jquery, leaflet.js): such frames get no name, and a
				// few get their new host's; a Flow generic hides a function
				// from the original scan (popper without the minified file).
				maxWrong := 0
				if !withContent || minified == "" {
					maxWrong = s.frames / 100
				}
				if s.wrong > maxWrong || s.missing > s.frames/25 {
					for _, e := range s.examples {
						t.Error(e)
					}
					t.Fatalf("%s %s: %s; at most %d may be named wrong and %d lack a name", b.name, view, s, maxWrong, s.frames/25)
				}
			}
		})
	}
}

// The shapes the issue names, each found in its real bundle and named as
// its original source names it.
func TestNamingOfReportedShapes(t *testing.T) {
	bundles := map[string]testBundle{}
	for _, b := range append(npmBundles(t), buildNamingBundles(t)...) {
		bundles[b.name] = b
	}
	for _, c := range []struct {
		bundle, minified string // the minified text; frames inside the function it starts are checked
		what             string
	}{
		{"leaflet", "t.polyline=function(", "no sourcesContent: the name is what the minified text says"},
		{"popper", "update:(i=function(){", "a minifier's parameter name (fn) must not name the function"},
		{"inline.terser", "export function outer(", "an inlined anonymous callback must not take its caller's name"},
	} {
		t.Run(c.bundle, func(t *testing.T) {
			b := bundles[c.bundle]
			data, err := os.ReadFile(b.mapPath)
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseSourceMap(data)
			if err != nil {
				t.Fatal(err)
			}
			start := strings.Index(b.js, c.minified)
			if start < 0 {
				t.Fatalf("%q is not in %s", c.minified, c.bundle)
			}
			body := start + strings.IndexByte(b.js[start:], '{')
			scope, ok := scanScopes(b.js).innermost(body + 1)
			if !ok {
				t.Fatalf("no function at %q", c.minified)
			}
			nc := namingCase{name: c.bundle, minified: b.js, sm: m}
			if m.HasSourcesContent() {
				nc.original = writeSourcesContent(t, m)
			} else {
				dir := filepath.Dir(b.mapPath)
				nc.original = func(i int) string { return filepath.Join(dir, m.rawNames[i]) }
			}
			checked := 0
			idx := scanScopes(b.js)
			for _, f := range oracleFrames(t, nc) {
				off, ok := idx.offset(f.line, f.column)
				if !ok || off < scope.open || off >= scope.close {
					continue
				}
				checked++
				if got := m.EnclosingFunction(b.js, f.line, f.column); got != f.want {
					t.Errorf("%s: %d:%d named %q, the source says %q", c.what, f.line, f.column, got, f.want)
				}
			}
			if checked == 0 {
				t.Fatalf("no frame position inside the function of %q", c.minified)
			}
			t.Logf("%s: %d frames", c.what, checked)
		})
	}
}
