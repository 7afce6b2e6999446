// Command testreport reads `go test -json` on stdin and prints what a person
// needs from a CI log: one line per package, the full output of every failed
// test, every skipped test with its reason, and a summary. With -fail-on-skip
// a skipped test fails the run: CI sets STACKLENS_E2E_REQUIRED=1, under which
// nothing may skip, and this makes a skip that slipped through visible.
//
// One kind of skip is allowed: a test that does not apply to the storage
// engine of the run (STACKLENS_TEST_ENGINE), such as one that reads the
// SQLite file in the PostgreSQL run. Its skip message begins "engine: "
// (testkit.SQLiteOnly writes it); it is listed apart and does not fail the
// run. Only the skip message itself counts (the last message the test
// printed), not an earlier log line.
//
//	go test -json ./... | go run ./internal/testreport -fail-on-skip
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

func main() {
	failOnSkip := flag.Bool("fail-on-skip", false, "exit 1 when any test skipped")
	flag.Parse()
	r, err := report(os.Stdin, os.Stdout, *failOnSkip)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	if r.failed() || (*failOnSkip && r.forbiddenSkips() > 0) {
		os.Exit(1)
	}
}

// testEvent is one line of `go test -json` (see `go doc test2json`).
type testEvent struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

// key names a test within a run; Test is empty for the package itself.
type key struct{ pkg, test string }

// result is what report gathered from a whole run.
type result struct {
	passed, failedTests int
	skipped             []skip
	failedPackages      []string
	noTests             []string
}

type skip struct {
	key
	why string
	// engine is set for a skip whose message begins engineSkipPrefix.
	engine bool
}

// engineSkipPrefix begins the message of a test skipped because it does
// not apply to the run's storage engine (testkit.EngineSkipPrefix).
const engineSkipPrefix = "engine:"

func (r result) failed() bool { return r.failedTests > 0 || len(r.failedPackages) > 0 }

// forbiddenSkips counts the skips -fail-on-skip fails the run for: all but
// the engine's.
func (r result) forbiddenSkips() int {
	n := 0
	for _, s := range r.skipped {
		if !s.engine {
			n++
		}
	}
	return n
}

// report copies the human-relevant part of the event stream in to out as it
// arrives and returns the totals; failOnSkip only adds a line saying that
// the skips fail the run. Lines that are not JSON (a build error
// printed before the stream starts, for instance) are passed through.
func report(in io.Reader, out io.Writer, failOnSkip bool) (result, error) {
	var r result
	outputs := map[key][]string{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev testEvent
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			fmt.Fprintf(out, "%s\n", line)
			continue
		}
		k := key{ev.Package, ev.Test}
		switch ev.Action {
		case "build-output":
			fmt.Fprint(out, ev.Output)
		case "output":
			outputs[k] = append(outputs[k], ev.Output)
		case "pass":
			if ev.Test != "" {
				r.passed++
			} else {
				fmt.Fprintf(out, "ok   %s (%.1fs)\n", ev.Package, ev.Elapsed)
			}
			delete(outputs, k)
		case "skip":
			if ev.Test != "" {
				r.skipped = append(r.skipped, skip{k, skipReason(outputs[k]), isEngineSkip(outputs[k])})
			} else {
				r.noTests = append(r.noTests, ev.Package)
				fmt.Fprintf(out, "?    %s (no tests)\n", ev.Package)
			}
			delete(outputs, k)
		case "fail":
			if ev.Test != "" {
				r.failedTests++
				fmt.Fprintf(out, "--- FAIL %s %s (%.1fs)\n", ev.Package, ev.Test, ev.Elapsed)
			} else {
				r.failedPackages = append(r.failedPackages, ev.Package)
				fmt.Fprintf(out, "FAIL %s (%.1fs)\n", ev.Package, ev.Elapsed)
			}
			for _, s := range outputs[k] {
				fmt.Fprint(out, "    ", s)
			}
			delete(outputs, k)
		}
	}
	if err := sc.Err(); err != nil {
		return r, fmt.Errorf("read go test -json: %w", err)
	}
	sort.Slice(r.skipped, func(i, j int) bool {
		a, b := r.skipped[i], r.skipped[j]
		return a.pkg < b.pkg || (a.pkg == b.pkg && a.test < b.test)
	})
	for _, engine := range []bool{false, true} {
		heading := "\nskipped:\n"
		if engine {
			heading = "\nskipped as not for this run's engine (allowed):\n"
		}
		for _, s := range r.skipped {
			if s.engine != engine {
				continue
			}
			fmt.Fprint(out, heading)
			heading = ""
			fmt.Fprintf(out, "  %s %s: %s\n", s.pkg, s.test, s.why)
		}
	}
	if len(r.failedPackages) > 0 {
		fmt.Fprintf(out, "\n%d package(s) failed: %s\n", len(r.failedPackages), strings.Join(r.failedPackages, " "))
	}
	if n := r.forbiddenSkips(); failOnSkip && n > 0 {
		fmt.Fprintf(out, "\n%d test(s) skipped, and -fail-on-skip forbids skips\n", n)
	}
	// The last line alone says how the run went, in the form CI log readers know.
	fmt.Fprintf(out, "\ntests: %d passed, %d failed, %d skipped\n", r.passed, r.failedTests, len(r.skipped))
	return r, nil
}

// skipReason is the message given to t.Skip: the output lines of a skipped
// test other than its own "=== RUN" and "--- SKIP" lines.
func skipReason(lines []string) string {
	var why []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		why = append(why, t)
	}
	if len(why) == 0 {
		return "(no reason given)"
	}
	return strings.Join(why, " ")
}

// located matches the "file_test.go:42: " that go test puts before each
// message a test prints (t.Log, t.Skip, t.Error).
var located = regexp.MustCompile(`^\S+\.go:\d+: `)

// isEngineSkip says whether the last message a skipped test printed, its
// skip message, begins engineSkipPrefix.
func isEngineSkip(lines []string) bool {
	last := ""
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if loc := located.FindStringIndex(t); loc != nil {
			last = t[loc[1]:]
		}
	}
	return strings.HasPrefix(last, engineSkipPrefix)
}
