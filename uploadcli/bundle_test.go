package uploadcli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stacklens/stacklens/internal/testkit"
)

// esbuildBrowserApp bundles the e2e browser app (posthog-js included) with
// esbuild --bundle --minify --sourcemap and returns the output directory.
func esbuildBrowserApp(t *testing.T) string {
	t.Helper()
	modules := testkit.NodeModules(t)
	testkit.Node(t)
	from := filepath.Join(testkit.RepoRoot(t), "e2e", "clients", "browser")
	out := t.TempDir()
	for _, name := range []string{"app.js", "orders.js"} {
		b := readFile(t, filepath.Join(from, name))
		if err := os.MkdirAll(filepath.Join(out, "src"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, "src", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(modules, ".bin", "esbuild"), "src/app.js",
		"--bundle", "--minify", "--sourcemap", "--outfile=dist/app.js")
	cmd.Dir = out
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("esbuild: %v\n%s", err, msg)
	}
	return filepath.Join(out, "dist")
}

type shiftCheck struct {
	Checked       int       `json:"checked"`
	Named         int       `json:"named"`
	AfterCount    int       `json:"afterCount"`
	MismatchCount int       `json:"mismatchCount"`
	Mismatches    []any     `json:"mismatches"`
	InSnippet     []*string `json:"inSnippet"`
}

// checkShiftWithTraceMapping injects dir (holding app.js and app.js.map) and
// has trace-mapping confirm that every original position survived.
func checkShiftWithTraceMapping(t *testing.T, dir string) {
	t.Helper()
	modules := testkit.NodeModules(t)
	node := testkit.Node(t)
	before := filepath.Join(t.TempDir(), "before.map")
	if err := os.WriteFile(before, readFile(t, filepath.Join(dir, "app.js.map")), 0o644); err != nil {
		t.Fatal(err)
	}
	const id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	if _, err := Inject([]string{dir}, fixedID(id)); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs(filepath.Join("testdata", "check-shift.cjs"))
	cmd := exec.Command(node, script, before, filepath.Join(dir, "app.js.map"), strconv.Itoa(len(Snippet(id))))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("trace-mapping check: %v\n%s", err, out)
	}
	var c shiftCheck
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("trace-mapping check printed %s: %v", out, err)
	}
	t.Logf("trace-mapping: %d mappings (%d named) checked", c.Checked, c.Named)
	if c.Checked < 1000 || c.Named == 0 {
		t.Errorf("only %d mappings (%d named): the bundle is not the one expected", c.Checked, c.Named)
	}
	if c.MismatchCount != 0 {
		t.Errorf("%d positions resolve differently after inject, e.g. %v", c.MismatchCount, c.Mismatches)
	}
	if c.AfterCount != c.Checked {
		t.Errorf("the injected map has %d mappings, the original %d", c.AfterCount, c.Checked)
	}
	for i, s := range c.InSnippet {
		if s != nil {
			t.Errorf("position %d inside the snippet resolves to %s, want nothing", i, *s)
		}
	}
	js := string(readFile(t, filepath.Join(dir, "app.js")))
	if got, _ := ChunkIDOf(js); got != id {
		t.Errorf("chunk id comment = %q", got)
	}
	m, err := ParseSourceMap(readFile(t, filepath.Join(dir, "app.js.map")))
	if err != nil || m.ChunkID == nil || *m.ChunkID != id {
		t.Errorf("map chunk_id = %v (%v), want %s", m.ChunkID, err, id)
	}
}

func TestInjectEsbuildBundleKeepsEveryPosition(t *testing.T) {
	checkShiftWithTraceMapping(t, esbuildBrowserApp(t))
}

// The recorded fixture bundle (a different esbuild run, pretty-printed map).
func TestInjectFixtureBundleKeepsEveryPosition(t *testing.T) {
	src := filepath.Join(testkit.Fixtures(t), "bundles", "posthog-browser")
	checkShiftWithTraceMapping(t, copyDir(t, src, "app.js", "app.js.map"))
}
