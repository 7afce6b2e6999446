package e2e

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	numCellRE  = regexp.MustCompile(`<td class="num">([\d,]+)</td>`)
	statRE     = regexp.MustCompile(`<dt>(Events|Users)</dt><dd>([\d,]+)</dd>`)
	dataCount  = regexp.MustCompile(`data-count="(\d+)"`)
	eventRowRE = regexp.MustCompile(`(?s)<table class="events[^"]*">.*?</table>`)
)

func atoiComma(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	if err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return n
}

// rowCounts is a list row's Events and Users cells and its sparkline's total.
func rowCounts(t *testing.T, row string) (events, users, spark int) {
	t.Helper()
	cells := numCellRE.FindAllStringSubmatch(row, -1)
	if len(cells) != 2 {
		t.Fatalf("row has %d number cells, want Events and Users:\n%s", len(cells), row)
	}
	for _, m := range dataCount.FindAllStringSubmatch(row, -1) {
		spark += atoiComma(t, m[1])
	}
	return atoiComma(t, cells[0][1]), atoiComma(t, cells[1][1]), spark
}

// issueStats is the Events and Users of an issue page's stats.
func issueStats(t *testing.T, body string) (events, users int) {
	t.Helper()
	got := map[string]int{}
	for _, m := range statRE.FindAllStringSubmatch(body, -1) {
		got[m[1]] = atoiComma(t, m[2])
	}
	return got["Events"], got["Users"]
}

// TestCountsFollowTheFilters: one issue with 2 events of release 1.0.0 (two
// users) and 3 of 2.0.0 (one user, one of them 3 days old). Under
// release=1.0.0 the list row, its sparkline, the API and the issue page
// (stats, chart, events table, top values) count the 2; under range=24h the
// list counts the 4 of the last day; unfiltered, all 5 and 3 users.
func TestCountsFollowTheFilters(t *testing.T) {
	s := startServer(t, serverOptions{})
	a := newAPI(s)
	b := newBrowser(t, s)
	b.login(t)
	spec := func(release, user string, at time.Time) captureEvent {
		return triageEvent(triageSpec{Type: "CountedError", Value: "counted", Release: release, User: user,
			URL: "https://shop.example/" + release, Fingerprint: "counted", At: at})
	}
	now := time.Now()
	postException(t, s, s.Token, spec("1.0.0", "u1", now.Add(-time.Hour)), spec("1.0.0", "u2", now.Add(-2*time.Hour)),
		spec("2.0.0", "u3", now.Add(-3*time.Hour)), spec("2.0.0", "u3", now.Add(-4*time.Hour)), spec("2.0.0", "u3", now.Add(-72*time.Hour)))
	postException(t, s, s.Token, triageEvent(triageSpec{Type: "OtherError", Value: "other", Release: "1.0.0", User: "u9"}))
	id := waitForTotal(t, a, 6)["CountedError"].ID

	for _, c := range []struct {
		query                string
		events, users, spark int
	}{
		{"", 5, 3, 4}, // the 24-hour sparkline holds the 4 of the last day
		{"release=1.0.0", 2, 2, 2},
		{"release=2.0.0", 3, 1, 2},
		{"range=24h", 4, 3, 4},
		{"release=2.0.0&range=24h", 2, 1, 2},
		{"release=2.0.0&spark=14d", 3, 1, 3},
		{"q=CountedError&release=1.0.0", 2, 2, 2},
	} {
		list := b.get(t, "/issues?"+c.query)
		if list.Status != http.StatusOK {
			t.Fatalf("/issues?%s: %d", c.query, list.Status)
		}
		events, users, spark := rowCounts(t, issueRowHTML(t, list.Body, id))
		if events != c.events || users != c.users || spark != c.spark {
			t.Errorf("/issues?%s: row counts %d events, %d users, sparkline %d; want %d, %d, %d",
				c.query, events, users, spark, c.events, c.users, c.spark)
		}
		issues, err := listTriage(t.Context(), a, c.query)
		if err != nil {
			t.Fatalf("API ?%s: %v", c.query, err)
		}
		for _, is := range issues {
			if is.ID == id && (is.Occurrences != c.events || is.UsersAffected != c.users) {
				t.Errorf("API ?%s: occurrences %d, users_affected %d; want %d, %d", c.query, is.Occurrences, is.UsersAffected, c.events, c.users)
			}
		}
	}

	// The row's link carries the release to the issue page.
	list := b.get(t, "/issues?release=1.0.0")
	link := fmt.Sprintf(`href="/issues/%d?release=1.0.0"`, id)
	if !strings.Contains(issueRowHTML(t, list.Body, id), link) {
		t.Errorf("the row under release=1.0.0 does not link with the release: want %s", link)
	}
	page := b.get(t, fmt.Sprintf("/issues/%d?release=1.0.0", id))
	if events, users := issueStats(t, page.Body); events != 2 || users != 2 {
		t.Errorf("issue page under release=1.0.0: %d events, %d users; want 2, 2", events, users)
	}
	table := eventRowRE.FindString(page.Body)
	if n := strings.Count(table, "<tr") - 1; n != 2 || strings.Contains(table, "2.0.0") {
		t.Errorf("issue page under release=1.0.0 lists %d events (want 2, none of 2.0.0):\n%s", n, pageText(t, table))
	}
	text := pageText(t, page.Body)
	if !strings.Contains(text, "Counting only the events of release 1.0.0.") || !strings.Contains(text, "2 events") {
		t.Errorf("issue page under release=1.0.0 does not say what it counts, or its chart does not total 2:\n%s", truncate(text, 3000))
	}
	if strings.Contains(text, "shop.example/2.0.0") {
		t.Errorf("issue page under release=1.0.0 shows 2.0.0's URL among its top values:\n%s", truncate(text, 3000))
	}
	all := b.get(t, fmt.Sprintf("/issues/%d", id))
	if events, users := issueStats(t, all.Body); events != 5 || users != 3 {
		t.Errorf("issue page unfiltered: %d events, %d users; want 5, 3", events, users)
	}
	if strings.Contains(pageText(t, all.Body), "Counting only") {
		t.Errorf("the unfiltered issue page says it counts only some events")
	}
}
