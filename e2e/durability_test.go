package e2e

import (
	"fmt"
	"testing"
)

// TestAcceptedEventsSurviveKill9 kills the server with SIGKILL right after it
// answered 200 to a batch, restarts it on the same database file, and checks
// that every event of the batch becomes an issue: an answered event was on disk.
func TestAcceptedEventsSurviveKill9(t *testing.T) {
	const n = 20
	first := startServer(t, serverOptions{})
	var events []captureEvent
	var uuids []string
	for i := range n {
		ev := newException(fmt.Sprintf("DurableError%02d", i), "accepted just before kill -9")
		events = append(events, ev)
		uuids = append(uuids, ev.UUID)
	}
	postException(t, first, first.Token, events...)
	first.kill9(t)

	second := startServer(t, serverOptions{DBPath: first.DBPath, DatabaseURL: first.DatabaseURL, Token: first.Token})
	a := newAPI(second)
	waitForEvents(t, a, uuids)
	issues := waitForIssues(t, a, n)
	for i := range n {
		if _, ok := issueNamed(issues, fmt.Sprintf("DurableError%02d", i), "accepted just before kill -9"); !ok {
			t.Errorf("DurableError%02d is not an issue after the restart: %s", i, describeIssues(issues))
		}
	}
}
