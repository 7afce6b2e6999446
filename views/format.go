package views

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stacklens/stacklens/highlight"
)

// ago renders t relative to now ("3 minutes ago"); the absolute time goes
// in a title attribute beside it (see absTime).
func ago(t time.Time) string {
	return agoFrom(time.Now(), t)
}

func agoFrom(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 45*time.Second:
		return "just now"
	case d < 90*time.Second:
		return "1 minute ago"
	case d < time.Hour:
		return plural(int64(d.Round(time.Minute)/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return plural(int64(d/time.Hour), "hour") + " ago"
	case d < 30*24*time.Hour:
		return plural(int64(d/(24*time.Hour)), "day") + " ago"
	case d < 365*24*time.Hour:
		return plural(int64(d/(30*24*time.Hour)), "month") + " ago"
	default:
		return plural(int64(d/(365*24*time.Hour)), "year") + " ago"
	}
}

// absTime is the exact time in UTC, for title attributes and tables.
func absTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// isoTime is the machine-readable time for <time datetime>.
func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// plural writes "1 frame", "3 frames".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return number(n) + " " + noun + "s"
}

// number groups thousands: 12345 → "12,345".
func number(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// statusLabel is how an issue status reads on a page.
func statusLabel(status string) string {
	switch status {
	case StatusActive:
		return "Active"
	case StatusResolved:
		return "Resolved"
	case StatusSuppressed:
		return "Suppressed"
	case StatusAll:
		return "All"
	}
	return status
}

// statusFilters are the tabs of the issue list, in order.
func statusFilters() []string {
	return []string{StatusActive, StatusResolved, StatusSuppressed, StatusAll}
}

func filterURL(status string) string {
	return "/issues?status=" + status
}

// location is "file:line:column" with the parts that are known.
func location(file string, line, column int) string {
	if file == "" {
		file = "<unknown>"
	}
	switch {
	case line > 0 && column > 0:
		return fmt.Sprintf("%s:%d:%d", file, line, column)
	case line > 0:
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}

// position is the ":line:column" suffix shown after a file name.
func position(line, column int) string {
	switch {
	case line > 0 && column > 0:
		return fmt.Sprintf(":%d:%d", line, column)
	case line > 0:
		return fmt.Sprintf(":%d", line)
	}
	return ""
}

func functionName(name string) string {
	if name == "" {
		return "<anonymous>"
	}
	return name
}

// frameRun is a stretch of consecutive frames that are all in-app or all
// library code; library runs are folded until "show all frames" is on.
type frameRun struct {
	InApp  bool
	Frames []numberedFrame
}

type numberedFrame struct {
	Index int // position in the exception's frame list, crash site = 0
	FrameView
}

func frameRuns(frames []FrameView) []frameRun {
	var runs []frameRun
	for i, f := range frames {
		if len(runs) == 0 || runs[len(runs)-1].InApp != f.InApp {
			runs = append(runs, frameRun{InApp: f.InApp})
		}
		last := &runs[len(runs)-1]
		last.Frames = append(last.Frames, numberedFrame{Index: i, FrameView: f})
	}
	return runs
}

func hasInApp(frames []FrameView) bool {
	for _, f := range frames {
		if f.InApp {
			return true
		}
	}
	return false
}

// openByDefault says which frame starts expanded: the first in-app frame
// with code (the crash site in the user's code), else the first with code.
func openByDefault(frames []FrameView) int {
	for i, f := range frames {
		if f.InApp && len(f.Code) > 0 {
			return i
		}
	}
	for i, f := range frames {
		if len(f.Code) > 0 {
			return i
		}
	}
	return -1
}

func expandable(f FrameView) bool {
	return len(f.Code) > 0 || (f.Resolved && rawFrame(f) != "")
}

// rawFrame is the minified frame a resolved frame came from.
func rawFrame(f FrameView) string {
	if f.RawFile == "" && f.RawFunction == "" {
		return ""
	}
	return functionName(f.RawFunction) + " at " + location(f.RawFile, f.RawLine, f.RawColumn)
}

func libraryFrameCount(run frameRun) string {
	return plural(int64(len(run.Frames)), "library frame")
}

func httpStatusText(status int) string {
	if s := http.StatusText(status); s != "" {
		return s
	}
	return "Error"
}

func shortID(uuid string) string {
	if len(uuid) > 8 {
		return uuid[:8]
	}
	return uuid
}

func idLabel(id int64) string {
	return "#" + strconv.FormatInt(id, 10)
}

func posthogJSSnippet(h SetupHint) string {
	return "import posthog from 'posthog-js'\n\n" +
		"posthog.init('" + h.Token + "', {\n" +
		"  api_host: '" + h.Host + "',\n" +
		"  capture_exceptions: true,\n" +
		"})\n"
}

func posthogNodeSnippet(h SetupHint) string {
	return "import { PostHog } from 'posthog-node'\n\n" +
		"const posthog = new PostHog('" + h.Token + "', {\n" +
		"  host: '" + h.Host + "',\n" +
		"  enableExceptionAutocapture: true,\n" +
		"})\n\n" +
		"posthog.captureException(new Error('Hello from stacklens'))\n" +
		"await posthog.shutdown()\n"
}

func posthogPythonSnippet(h SetupHint) string {
	return "from posthog import Posthog\n\n" +
		"posthog = Posthog('" + h.Token + "', host='" + h.Host + "',\n" +
		"                  enable_exception_autocapture=True)\n\n" +
		"try:\n" +
		"    1 / 0\n" +
		"except Exception as e:\n" +
		"    posthog.capture_exception(e)\n"
}

// highlighted is code as highlighted HTML lines joined by newlines, for a <pre>.
func highlighted(filename, code string) template.HTML {
	lines := highlight.Lines(filename, code)
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = string(l)
	}
	return template.HTML(strings.Join(parts, "\n"))
}

// colonValue is ": value" after an exception type, or nothing.
func colonValue(value string) string {
	if value == "" {
		return ""
	}
	return ": " + value
}

// option is one choice of a <select>.
type option struct {
	Value, Label string
}

func statusOptions() []option {
	return []option{{StatusActive, "Active"}, {StatusResolved, "Resolved"}, {StatusSuppressed, "Suppressed"}, {StatusAll, "All statuses"}}
}

func rangeOptions() []option {
	return []option{{"", "Any time"}, {"24h", "Last 24 hours"}, {"7d", "Last 7 days"}, {"30d", "Last 30 days"}}
}

func sortOptions() []option {
	return []option{{"last_seen", "Last seen"}, {"first_seen", "First seen"}, {"occurrences", "Most events"}, {"users", "Most users"}}
}

func sparkOptions() []option {
	return []option{{"24h", "24 hours"}, {"14d", "14 days"}}
}

// anyOptions is "any" followed by each value.
func anyOptions(anyLabel string, values []string) []option {
	out := []option{{"", anyLabel}}
	for _, v := range values {
		out = append(out, option{v, v})
	}
	return out
}

// isUnfiltered tells whether the list shows everything active, unsearched.
func isUnfiltered(f IssueFilter) bool {
	return (f.Status == "" || f.Status == StatusActive) && f.Query == "" && f.Range == "" && f.Release == "" && f.Lib == ""
}

func idValue(id int64) string { return strconv.FormatInt(id, 10) }

// actorLabel names who made a change ("" for changes made before anyone was recorded).
func actorLabel(actor string) string {
	if actor == "" {
		return "Someone"
	}
	return actor
}

// timelineText says what a timeline entry changed, after who did it.
func timelineText(e TimelineEntry) string {
	switch e.Kind {
	case "status":
		text := statusVerb(e.To)
		if e.Detail != "" {
			text += " in release " + e.Detail
		}
		return text + " (was " + strings.ToLower(statusLabel(e.From)) + ")"
	case "regression":
		if e.Detail != "" {
			return "reopened it as a regression: a new event came from release " + e.Detail
		}
		return "reopened it as a regression: a new event came in"
	case "assignee":
		switch {
		case e.To == "":
			return "unassigned " + e.From
		case e.From == "":
			return "assigned it to " + e.To
		}
		return "assigned it to " + e.To + " (was " + e.From + ")"
	case "rename":
		if e.From != e.To {
			text := "renamed it from “" + e.From + "” to “" + e.To + "”"
			if e.Detail != "" {
				text += " and changed the description"
			}
			return text
		}
		return "changed the description"
	case "merge":
		return "merged " + idLabel(e.MergedIssueID) + " “" + e.Detail + "” (" + plural(e.MergedOccurrences, "event") + ") into it"
	}
	return e.Kind
}

func statusVerb(status string) string {
	switch status {
	case StatusResolved:
		return "resolved it"
	case StatusSuppressed:
		return "suppressed it"
	case StatusActive:
		return "reopened it"
	}
	return "set it to " + status
}

// statusTabs are the status filter tabs: the handler's (which keep the other
// filters) or plain links to each status.
func statusTabs(v IssuesView) []Link {
	if len(v.StatusTabs) > 0 {
		return v.StatusTabs
	}
	var out []Link
	for _, s := range statusFilters() {
		out = append(out, Link{Label: statusLabel(s), URL: filterURL(s), Active: s == v.Status})
	}
	return out
}

// showSetup tells whether the empty list should explain how to send a first
// exception: only when nothing narrows it down to no rows.
func showSetup(v IssuesView) bool {
	f := v.Filter
	active := v.Status == StatusActive || v.Status == StatusAll || v.Status == ""
	return v.Total == 0 && active && f.Query == "" && f.Range == "" && f.Release == "" && f.Lib == "" && v.Setup.Token != ""
}
