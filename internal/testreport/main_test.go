package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// stream is a real `go test -json` run over the testdata module, of the
// tests matching run: one passes, one fails, two skip for a missing tool
// and one for the engine of the run.
func stream(t *testing.T, run string) []byte {
	t.Helper()
	cmd := exec.Command("go", "test", "-json", "-count=1", "-run", run, ".")
	cmd.Dir = "testdata/sample"
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("go test -json: %v", err)
	}
	return out
}

func TestReportCountsAndShowsFailuresAndSkips(t *testing.T) {
	var out bytes.Buffer
	r, err := report(bytes.NewReader(stream(t, ".")), &out, true)
	if err != nil {
		t.Fatal(err)
	}
	if r.passed != 1 || r.failedTests != 1 || len(r.skipped) != 3 || len(r.failedPackages) != 1 {
		t.Fatalf("got %+v, want 1 passed, 1 failed, 3 skipped, 1 failed package\n%s", r, out.String())
	}
	if got := r.skipped[0]; got.test != "TestSkips" || !strings.Contains(got.why, "no chromium here") || got.engine {
		t.Errorf("skip = %+v, want TestSkips with its reason", got)
	}
	// Only the skip message decides, not a line the test logged before it.
	if got := r.skipped[1]; got.test != "TestSkipsAfterAnEngineLine" || got.engine {
		t.Errorf("skip = %+v, want TestSkipsAfterAnEngineLine, not for the engine", got)
	}
	if got := r.skipped[2]; got.test != "TestSkipsForTheEngine" || !got.engine {
		t.Errorf("skip = %+v, want TestSkipsForTheEngine, for the engine", got)
	}
	if n := r.forbiddenSkips(); n != 2 {
		t.Errorf("%d skips fail the run, want 2", n)
	}
	text := out.String()
	for _, want := range []string{
		"--- FAIL sample TestFails", "the answer was 41", // a failure shows its output
		"sample TestSkips: ", "no chromium here", // a skip shows its reason
		"(allowed):\n  sample TestSkipsForTheEngine: ", "engine: reads the SQLite file directly", // listed apart
		"2 test(s) skipped, and -fail-on-skip forbids skips",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if lines := strings.Split(strings.TrimSpace(text), "\n"); lines[len(lines)-1] != "tests: 1 passed, 1 failed, 3 skipped" {
		t.Errorf("last line %q, want the summary", lines[len(lines)-1])
	}
	if strings.Contains(text, "all good") {
		t.Errorf("output of a passing test is shown:\n%s", text)
	}
}

// A run whose only skips are for its engine passes -fail-on-skip.
func TestReportAllowsSkipsForTheEngine(t *testing.T) {
	var out bytes.Buffer
	r, err := report(bytes.NewReader(stream(t, "^(TestPasses|TestSkipsForTheEngine)$")), &out, true)
	if err != nil {
		t.Fatal(err)
	}
	if r.failed() || len(r.skipped) != 1 || r.forbiddenSkips() != 0 {
		t.Fatalf("got %+v, want one skip, allowed\n%s", r, out.String())
	}
	if text := out.String(); strings.Contains(text, "forbids") || !strings.Contains(text, "tests: 1 passed, 0 failed, 1 skipped") {
		t.Errorf("report of a run with only an engine skip:\n%s", text)
	}
}

func TestReportPassesThroughNonJSONLines(t *testing.T) {
	var out bytes.Buffer
	in := "# example.com/broken\n./x.go:3:1: syntax error\n"
	if _, err := report(strings.NewReader(in), &out, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "syntax error") {
		t.Errorf("build error lost:\n%s", out.String())
	}
}
