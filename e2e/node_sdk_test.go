package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/internal/testkit"
)

// runNodeClient runs e2e/clients/posthog-node-app.js in the given mode against
// the server and returns its exit code and output.
func runNodeClient(t *testing.T, s *server, mode string) (int, string) {
	t.Helper()
	node := testkit.Node(t)
	testkit.NodeModules(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "posthog-node-app.js", mode)
	cmd.Dir = clientsDir(t)
	cmd.Env = append(baseEnv(), "STACKLENS_HOST="+s.URL, "STACKLENS_TOKEN="+s.Token)
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		return exitErr.ExitCode(), string(out)
	default:
		t.Fatalf("node posthog-node-app.js %s: %v\n%s", mode, err, out)
		return 0, ""
	}
}

func clientsDir(t *testing.T) string {
	t.Helper()
	return filepath.Join(testkit.RepoRoot(t), "e2e", "clients")
}

// TestPosthogNodeSDK drives the real posthog-node client: two captured errors
// (one three calls deep, one with a TypeError as its cause) become two issues
// with the cause chain kept and the SDK's code context shown; an uncaught
// exception autocaptured by the SDK becomes a third, unhandled one.
func TestPosthogNodeSDK(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)

	if code, out := runNodeClient(t, s, "manual"); code != 0 {
		t.Fatalf("posthog-node-app.js manual exited %d:\n%s", code, out)
	}
	issues := waitForIssues(t, a, 2)
	nested, ok := issueNamed(issues, "Error", "node e2e boom from innermost")
	if !ok {
		t.Fatalf("no issue Error: node e2e boom from innermost in %s", describeIssues(issues))
	}
	chained, ok := issueNamed(issues, "OrderRejectedError", "order ord_e2e rejected")
	if !ok {
		t.Fatalf("no issue OrderRejectedError: order ord_e2e rejected in %s", describeIssues(issues))
	}

	nestedEvent := onlyEvent(t, a, nested)
	checkExceptions(t, nestedEvent, [][2]string{{"Error", "node e2e boom from innermost"}})
	checkCrashSite(t, nestedEvent.ExceptionList[0], "innermost", "orders.js")
	checkNodeContext(t, nestedEvent)

	chainedEvent := onlyEvent(t, a, chained)
	checkExceptions(t, chainedEvent, [][2]string{
		{"OrderRejectedError", "order ord_e2e rejected"},
		{"TypeError", "quantity must be a number, got string"},
	})
	checkCrashSite(t, chainedEvent.ExceptionList[0], "placeOrder", "orders.js")
	checkCrashSite(t, chainedEvent.ExceptionList[1], "parseQuantity", "orders.js")
	checkNodeContext(t, chainedEvent)

	b := newBrowser(t, s)
	b.login(t)
	checkIssueList(t, b, issues)
	checkIssuePage(t, b, nested.ID.String(), pageExpectation{
		Texts: []string{"Error", "node e2e boom from innermost",
			"throw new Error('node e2e boom from innermost');", "return innermost();", "return middle();", "outer();"},
		Before: []ordering{{First: "throw new Error('node e2e boom from innermost');", Second: "manual().catch((e) => { console.error(e); process.exit(1); });"}},
	})
	checkIssuePage(t, b, chained.ID.String(), pageExpectation{
		Texts: []string{"OrderRejectedError", "order ord_e2e rejected", "TypeError", "quantity must be a number, got string",
			"throw new OrderRejectedError('order ' + order.id + ' rejected', { cause: err });",
			"throw new TypeError(`quantity must be a number, got ${typeof raw}`);"},
	})

	// The SDK flushes the autocaptured exception, then the process dies of it.
	if code, out := runNodeClient(t, s, "uncaught"); code == 0 {
		t.Errorf("posthog-node-app.js uncaught exited 0; want the process to die of its uncaught error:\n%s", out)
	}
	issues = waitForIssues(t, a, 3)
	crash, ok := issueNamed(issues, "RangeError", "node e2e uncaught crash")
	if !ok {
		t.Fatalf("no issue RangeError: node e2e uncaught crash in %s", describeIssues(issues))
	}
	crashEvent := onlyEvent(t, a, crash)
	checkExceptions(t, crashEvent, [][2]string{{"RangeError", "node e2e uncaught crash"}})
	if h := crashEvent.ExceptionList[0].Mechanism["handled"]; h != false {
		t.Errorf("uncaught exception: mechanism.handled = %v, want false", h)
	}
	checkCrashSite(t, crashEvent.ExceptionList[0], "crashLater", "orders.js")
	checkNodeContext(t, crashEvent)
	checkIssuePage(t, b, crash.ID.String(), pageExpectation{
		Texts: []string{"RangeError", "node e2e uncaught crash", "throw new RangeError('node e2e uncaught crash');"},
	})
}

// onlyEvent returns the single event of an issue once none of its frames
// waits for a background source-map fetch: on a loaded machine a fetch can
// outlast the second a batch waits for it, and the frames are stored as
// fetch_pending until it ends.
func onlyEvent(t *testing.T, a *api, is apiIssue) apiEvent {
	t.Helper()
	var event apiEvent
	waitFor(t, fmt.Sprintf("the fetches of issue %s's frames to end", is.ID), func(ctx context.Context) (bool, string, error) {
		events, err := a.events(ctx, is.ID.String(), 10)
		if err != nil {
			return false, "", fmt.Errorf("events of issue %s: %w", is.ID, err)
		}
		if len(events) != 1 {
			t.Fatalf("issue %s (%s) has %d events, want 1", is.ID, is.Name, len(events))
		}
		event = events[0]
		for _, ex := range event.ExceptionList {
			for _, f := range ex.Frames {
				if f.ResolveFailure == "fetch_pending" {
					return false, describeFrame(f) + " is fetch_pending", nil
				}
			}
		}
		return true, "", nil
	})
	return event
}

// checkExceptions checks the exception list's types and values, in order.
func checkExceptions(t *testing.T, ev apiEvent, want [][2]string) {
	t.Helper()
	var got [][2]string
	for _, ex := range ev.ExceptionList {
		got = append(got, [2]string{ex.Type, ex.Value})
	}
	if len(got) != len(want) {
		t.Fatalf("event %s: exceptions %q, want %q", ev.UUID, got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %s: exception %d is %q, want %q", ev.UUID, i, got[i], want[i])
		}
	}
}

// checkCrashSite checks that the last frame (frames are oldest first) is the
// function that threw, in the file that holds it, and is in-app.
func checkCrashSite(t *testing.T, ex apiException, function, file string) {
	t.Helper()
	if len(ex.Frames) == 0 {
		t.Fatalf("%s: no frames", ex.Type)
	}
	last := ex.Frames[len(ex.Frames)-1]
	if !strings.Contains(last.MangledName, function) || !strings.HasSuffix(last.Source, file) || !last.InApp {
		t.Errorf("%s: crash site frame is %s in_app=%v; want %s in %s, in-app", ex.Type, describeFrame(last), last.InApp, function, file)
	}
}

// checkNodeContext checks every in-app frame of e2e/clients/*.js against the
// file itself: the context line is the line the frame points at, and the
// lines before and after are the file's.
func checkNodeContext(t *testing.T, ev apiEvent) {
	t.Helper()
	for _, ex := range ev.ExceptionList {
		for _, f := range ex.Frames {
			if !f.InApp {
				continue
			}
			path := filepath.Join(clientsDir(t), filepath.Base(f.Source))
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%s: in-app frame %s: source file not found: %v", ex.Type, describeFrame(f), err)
				continue
			}
			lines := strings.Split(string(raw), "\n")
			if f.Line < 1 || f.Line > len(lines) {
				t.Errorf("%s: frame %s: line out of range", ex.Type, describeFrame(f))
				continue
			}
			if f.ContextLine != lines[f.Line-1] {
				t.Errorf("%s: frame %s: context_line %q, file has %q", ex.Type, describeFrame(f), f.ContextLine, lines[f.Line-1])
			}
			if f.Line >= 2 && (len(f.PreContext) == 0 || f.PreContext[len(f.PreContext)-1] != lines[f.Line-2]) {
				t.Errorf("%s: frame %s: pre_context %q does not end with %q", ex.Type, describeFrame(f), f.PreContext, lines[f.Line-2])
			}
			if f.Line < len(lines)-1 && (len(f.PostContext) == 0 || f.PostContext[0] != lines[f.Line]) {
				t.Errorf("%s: frame %s: post_context %q does not start with %q", ex.Type, describeFrame(f), f.PostContext, lines[f.Line])
			}
		}
	}
}
