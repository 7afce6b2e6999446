package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// stream is a real `go test -json` run over the testdata module: one test
// passes, one fails, one skips.
func stream(t *testing.T) []byte {
	t.Helper()
	cmd := exec.Command("go", "test", "-json", "-count=1", ".")
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
	r, err := report(bytes.NewReader(stream(t)), &out, true)
	if err != nil {
		t.Fatal(err)
	}
	if r.passed != 1 || r.failedTests != 1 || len(r.skipped) != 1 || len(r.failedPackages) != 1 {
		t.Fatalf("got %+v, want 1 passed, 1 failed, 1 skipped, 1 failed package\n%s", r, out.String())
	}
	if got := r.skipped[0]; got.test != "TestSkips" || !strings.Contains(got.why, "no chromium here") {
		t.Errorf("skip = %+v, want TestSkips with its reason", got)
	}
	text := out.String()
	for _, want := range []string{
		"--- FAIL sample TestFails", "the answer was 41", // a failure shows its output
		"sample TestSkips: ", "no chromium here", // a skip shows its reason
		"-fail-on-skip forbids skips",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if lines := strings.Split(strings.TrimSpace(text), "\n"); lines[len(lines)-1] != "tests: 1 passed, 1 failed, 1 skipped" {
		t.Errorf("last line %q, want the summary", lines[len(lines)-1])
	}
	if strings.Contains(text, "all good") {
		t.Errorf("output of a passing test is shown:\n%s", text)
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
