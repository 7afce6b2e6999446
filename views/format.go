package views

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/a-h/templ"

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

// frameRuns groups frames into runs; first is the position of frames[0]
// in the exception's whole frame list (frames after hidden ones start later).
func frameRuns(frames []FrameView, first int) []frameRun {
	var runs []frameRun
	for i, f := range frames {
		if len(runs) == 0 || runs[len(runs)-1].InApp != f.InApp {
			runs = append(runs, frameRun{InApp: f.InApp})
		}
		last := &runs[len(runs)-1]
		last.Frames = append(last.Frames, numberedFrame{Index: first + i, FrameView: f})
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
	return len(f.Code) > 0 || (f.FromSourceMap && rawFrame(f) != "")
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

func sentryBrowserSnippet(h SetupHint) string {
	return "import * as Sentry from '@sentry/browser'\n\n" +
		"Sentry.init({\n" +
		"  dsn: '" + h.DSN + "',\n" +
		"  release: 'my-app@1.0.0',\n" +
		"})\n"
}

func sentryNodeSnippet(h SetupHint) string {
	return "const Sentry = require('@sentry/node')\n\n" +
		"Sentry.init({ dsn: '" + h.DSN + "' })\n\n" +
		"Sentry.captureException(new Error('Hello from stacklens'))\n" +
		"await Sentry.flush(2000)\n"
}

func sentryPythonSnippet(h SetupHint) string {
	return "import sentry_sdk\n\n" +
		"sentry_sdk.init(dsn=\"" + h.DSN + "\")\n\n" +
		"try:\n" +
		"    1 / 0\n" +
		"except Exception as e:\n" +
		"    sentry_sdk.capture_exception(e)\n"
}

func sentryGoSnippet(h SetupHint) string {
	return "import \"github.com/getsentry/sentry-go\"\n\n" +
		"func main() {\n" +
		"\tsentry.Init(sentry.ClientOptions{Dsn: \"" + h.DSN + "\"})\n" +
		"\tdefer sentry.Flush(2 * time.Second)\n\n" +
		"\tsentry.CaptureException(errors.New(\"hello from stacklens\"))\n" +
		"}\n"
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
	return (f.Status == "" || f.Status == StatusActive) && f.Query == "" && f.Range == "" && f.Release == "" && f.Lib == "" &&
		f.Env == "" && f.Tag == ""
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
	return v.Total == 0 && active && f.Query == "" && f.Range == "" && f.Release == "" && f.Lib == "" &&
		f.Env == "" && f.Tag == "" && v.Setup.Token != ""
}

// Display limits: how many characters of a value a page shows before
// cutting it. Events can carry megabytes in one field; the rest of every
// value is in the event's raw JSON download.
const (
	MessageChars  = 1000  // an exception's message or an issue's description, on the issue page
	ListChars     = 200   // an issue's name or description in the issue list
	NameChars     = 300   // a one-line value: type, function, file name, URL, release, property key
	PropertyChars = 1000  // a property's value
	RawJSONChars  = 20000 // the raw JSON shown inline on the issue page
)

// textKind says which characters of a value are layout and which are suspect.
type textKind int

const (
	// multiLine values (messages, property values, code) keep tabs and line
	// breaks, and the zero-width joiners that emoji and some scripts need.
	multiLine textKind = iota
	// oneLine values (names, file names, URLs) show every control and
	// invisible formatting character, so two names that look alike are alike.
	oneLine
)

// controlEscape is how r is shown so that it is seen and cannot act on the
// text around it, or "" when r is shown as itself. Bidi overrides and
// isolates (U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C) can make
// "gnp.exe" read as "exe.png"; ANSI escapes (ESC, CSI) and other C0/C1
// controls colour or erase a terminal that the text is pasted into; zero-width
// characters make two file names that look the same differ. All of them are
// Unicode control (Cc) or format (Cf) characters.
func controlEscape(r rune, kind textKind) string {
	switch {
	case r >= 0x20 && r < 0x7f:
		return ""
	case r == '\t' && kind == oneLine:
		return `\t`
	case r == '\n' && kind == oneLine:
		return `\n`
	case r == '\r' && kind == oneLine:
		return `\r`
	case r == '\t' || r == '\n' || r == '\r':
		return ""
	case r < 0x20 || (r >= 0x7f && r < 0xa0):
		return fmt.Sprintf(`\x%02x`, r)
	case (r == 0x200c || r == 0x200d) && kind == multiLine:
		return ""
	case unicode.Is(unicode.Cf, r) || (kind == oneLine && (r == 0x2028 || r == 0x2029)):
		return fmt.Sprintf("⟨U+%04X⟩", r)
	}
	return ""
}

// clip cuts s so that what a page shows of it, escapes counted at the width
// they take, is at most max characters. hidden is how many characters of s
// were left out.
func clip(s string, max int, kind textKind) (shown string, hidden int) {
	width := 0
	for i, r := range s {
		w := 1
		if e := controlEscape(r, kind); e != "" {
			w = utf8.RuneCountInString(e)
		}
		if width+w > max {
			return s[:i], utf8.RuneCountInString(s[i:])
		}
		width += w
	}
	return s, 0
}

// visibleValue renders an event's value as HTML element content: cut to
// max characters with a marker saying how many more there are (a link to
// moreURL, where the whole value is, when set), and every control or
// invisible formatting character shown as an escape in a span of class
// "ctl", never passed to the browser to act on. total is the length in
// characters of the whole value when s is already a prefix of it (a query
// cut it), else 0.
type visibleValue struct {
	s       string
	total   int
	max     int
	kind    textKind
	moreURL string
}

func (v visibleValue) Render(_ context.Context, w io.Writer) error {
	shown, hidden := clip(v.s, v.max, v.kind)
	if v.total > 0 {
		hidden = max(v.total-utf8.RuneCountInString(shown), hidden)
	}
	var b strings.Builder
	writeVisible(&b, shown, v.kind)
	if hidden > 0 {
		more := "… " + plural(int64(hidden), "more character")
		if v.moreURL != "" {
			b.WriteString(`<a class="clip-more" href="` + templ.EscapeString(v.moreURL) + `">` + templ.EscapeString(more) + `</a>`)
		} else {
			b.WriteString(`<span class="clip-more">` + templ.EscapeString(more) + `</span>`)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeVisible writes s HTML-escaped, each control character as a visible escape.
func writeVisible(b *strings.Builder, s string, kind textKind) {
	start := 0
	for i, r := range s {
		e := controlEscape(r, kind)
		if e == "" {
			continue
		}
		b.WriteString(templ.EscapeString(s[start:i]))
		b.WriteString(`<span class="ctl" title="an invisible control character, shown escaped">`)
		b.WriteString(templ.EscapeString(e))
		b.WriteString(`</span>`)
		start = i + utf8.RuneLen(r)
	}
	b.WriteString(templ.EscapeString(s[start:]))
}

// visibleText is a multi-line value of an event (a message, a property
// value) as a page shows it; see visibleValue.
func visibleText(s string, max int, moreURL string) templ.Component {
	return visibleValue{s: s, max: max, kind: multiLine, moreURL: moreURL}
}

// visibleName is a one-line value of an event (a type, a function, a file
// name, a URL) as a page shows it; see visibleValue.
func visibleName(s string, max int) templ.Component {
	return visibleValue{s: s, max: max, kind: oneLine}
}

// visiblePrefix is a multi-line value that a query may have cut to its
// first characters; total is the length of the whole value, in characters.
func visiblePrefix(s string, total, max int) templ.Component {
	return visibleValue{s: s, total: total, max: max, kind: multiLine}
}

// visibleNamePrefix is visiblePrefix for a one-line value.
func visibleNamePrefix(s string, total, max int) templ.Component {
	return visibleValue{s: s, total: total, max: max, kind: oneLine}
}

// plainName is a one-line value with its control characters escaped, as
// plain text for attributes and the page title: cut to max characters
// and ending with "…" when cut.
func plainName(s string, max int) string {
	shown, hidden := clip(s, max, oneLine)
	var b strings.Builder
	for _, r := range shown {
		if e := controlEscape(r, oneLine); e != "" {
			b.WriteString(e)
		} else {
			b.WriteRune(r)
		}
	}
	if hidden > 0 {
		b.WriteString("…")
	}
	return b.String()
}

// visibleHTML shows the control characters in the text of an HTML fragment
// made by package highlight, whose markup is spans with class attributes
// only: every such character is in text content, never in a tag.
func visibleHTML(h template.HTML) template.HTML {
	s := string(h)
	if !strings.ContainsFunc(s, func(r rune) bool { return controlEscape(r, multiLine) != "" }) {
		return h
	}
	var b strings.Builder
	start := 0
	for i, r := range s {
		e := controlEscape(r, multiLine)
		if e == "" {
			continue
		}
		b.WriteString(s[start:i])
		b.WriteString(`<span class="ctl" title="an invisible control character, shown escaped">` + e + `</span>`)
		start = i + utf8.RuneLen(r)
	}
	b.WriteString(s[start:])
	return template.HTML(b.String())
}

// Longest name and description the issue's edit form takes (handlers check
// the same), in bytes.
const (
	EditNameBytes        = 500
	EditDescriptionBytes = 5000
)

// editInput is a required text input holding value, cut to maxBytes.
func editInput(id, name, value string, maxBytes int) templ.Component {
	return templ.Raw(`<input id="` + templ.EscapeString(id) + `" name="` + templ.EscapeString(name) +
		`" value="` + formValue(value, maxBytes) + `" required maxlength="` + strconv.Itoa(maxBytes) + `"/>`)
}

// editTextarea is a textarea holding value, cut to maxBytes.
func editTextarea(id, name, value string, maxBytes int) templ.Component {
	return templ.Raw(`<textarea id="` + templ.EscapeString(id) + `" name="` + templ.EscapeString(name) +
		`" rows="3" maxlength="` + strconv.Itoa(maxBytes) + `">` + formValue(value, maxBytes) + `</textarea>`)
}

// formValue is a value for a form field, HTML-escaped, cut to maxBytes (at
// a character boundary). A form must send back the value itself, or saving
// would rewrite every escape into the text: its control characters are
// kept, written as character references (&#x202E;) so that the page
// source holds none raw.
func formValue(s string, maxBytes int) string {
	if len(s) > maxBytes {
		cut := maxBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&#34;")
		case r == '\'':
			b.WriteString("&#39;")
		case r != '\n' && r != '\t' && controlEscape(r, oneLine) != "":
			fmt.Fprintf(&b, "&#x%X;", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hasHighlights tells whether the Highlights card has a row to show.
func hasHighlights(f EventFacts) bool {
	return f.Environment != "" || f.Release != "" || f.Level != "" || f.SDK != "" || f.URL != "" || len(f.More) > 0
}

// levelClass is the class that colours a Sentry level; a level the
// page does not know gets none (levels come from clients).
func levelClass(level string) string {
	switch strings.ToLower(level) {
	case "fatal", "critical":
		return "level-fatal"
	case "error":
		return "level-error"
	case "warning", "warn":
		return "level-warning"
	case "info", "log":
		return "level-info"
	case "debug":
		return "level-debug"
	}
	return ""
}

// clockTime is the time of day of a breadcrumb, to the millisecond, in UTC.
func clockTime(t time.Time) string {
	return t.UTC().Format("15:04:05.000")
}

// contextTitleID is the id of the heading of the i-th context card (the
// client's context names are not fit for ids).
func contextTitleID(i int) string {
	return "context-" + strconv.Itoa(i) + "-title"
}

// unsentValues names the properties of the top values that no event sent
// ("URL, Browser"), so the page says it once rather than once per property.
func unsentValues(groups []ValueGroup) string {
	var names []string
	for _, g := range groups {
		if len(g.Values) == 0 {
			names = append(names, g.Title)
		}
	}
	return strings.Join(names, ", ")
}
