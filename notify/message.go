package notify

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/stacklens/stacklens/db"
)

// Message is one notification before it is shaped for a channel: what
// happened (Trigger), to which issue of which project, and the event that
// made it happen.
type Message struct {
	Trigger  string // db.TriggerNewIssue or db.TriggerRegression
	Test     bool   // a sample sent from the settings page
	Project  db.Project
	Issue    db.Issue
	IssueURL string // absolute with a public URL configured, else the path
	Event    EventInfo
}

// EventInfo is what a notification tells about the event behind it.
type EventInfo struct {
	UUID       string
	Timestamp  time.Time
	URL        string // a link to the event in stacklens
	PageURL    string // where it happened ($current_url)
	Release    string
	DistinctID string
	Lib        string
	LibVersion string
	Browser    string
	OS         string
}

// links builds stacklens URLs: absolute when the public URL is known, else
// the path alone (a guess from some request would be wrong as often as right).
type links struct{ base string }

func (l links) issue(id int64) string {
	return strings.TrimRight(l.base, "/") + fmt.Sprintf("/issues/%d", id)
}

func (l links) event(issueID int64, uuid string) string {
	return l.issue(issueID) + "?event=" + url.QueryEscape(uuid)
}

func (l links) settings() string {
	return strings.TrimRight(l.base, "/") + "/settings/notifications"
}

// newMessage describes what a stored event did to its issue.
func newMessage(l links, trigger string, project db.Project, issue db.Issue, ev db.NewEvent) Message {
	return Message{
		Trigger:  trigger,
		Project:  project,
		Issue:    issue,
		IssueURL: l.issue(issue.ID),
		Event: EventInfo{
			UUID: ev.UUID, Timestamp: ev.Timestamp, URL: l.event(issue.ID, ev.UUID), PageURL: ev.URL,
			Release: ev.Release, DistinctID: ev.DistinctID, Lib: ev.Lib, LibVersion: ev.LibVersion,
			Browser: ev.Browser, OS: ev.OS,
		},
	}
}

// sampleMessage is what "Send test" sends: a made-up new issue, marked as a test.
func sampleMessage(l links, project db.Project, now time.Time) Message {
	return Message{
		Trigger: db.TriggerNewIssue,
		Test:    true,
		Project: project,
		Issue: db.Issue{
			ProjectID: project.ID, Name: "TestNotification",
			Description: "A test notification from stacklens: this channel works.",
			Status:      db.StatusActive, Occurrences: 1, FirstSeen: now, LastSeen: now,
		},
		IssueURL: l.settings(),
		Event: EventInfo{
			UUID: "00000000-0000-4000-8000-000000000000", Timestamp: now, URL: l.settings(),
			Lib: "stacklens", DistinctID: "stacklens-test",
		},
	}
}

// headline is the one-line summary: "New issue in Shop: TypeError".
func (m Message) headline() string {
	what := "New issue"
	if m.Trigger == db.TriggerRegression {
		what = "Regression"
	}
	if m.Test {
		what = "Test notification"
	}
	return fmt.Sprintf("%s in %s: %s", what, name(m.Project.Name), name(m.Issue.Name))
}

// summary is the line under the headline: what the issue says and how often.
func (m Message) facts() []string {
	facts := []string{plural(m.Issue.Occurrences, "occurrence"), "first seen " + m.Issue.FirstSeen.UTC().Format(time.RFC3339)}
	if m.Trigger == db.TriggerRegression {
		facts = append(facts, "reopened after being resolved")
	}
	if m.Event.Release != "" {
		facts = append(facts, "release "+name(m.Event.Release))
	}
	if m.Event.PageURL != "" {
		facts = append(facts, "at "+name(m.Event.PageURL))
	}
	return facts
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// oneLine folds line breaks, which have no place in a subject or headline.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// name is one line of text from an event (an issue name, a release, a
// URL) as a notification shows it: folded to one line, its controls and
// invisible formatting characters escaped (see visible).
func name(s string) string {
	return visible(oneLine(s))
}

// visible shows the control and invisible formatting characters of text
// from an event as escapes, as the pages do, so that a mail client, a chat
// or a terminal the text is pasted into does not act on them: bidi
// overrides and isolates can make "gnp.exe" read as "exe.png", ANSI escapes
// recolour or clear a terminal. Tabs and line feeds stay (a CR LF becomes a
// line feed), and so do the zero-width joiners that emoji and some scripts
// need.
func visible(s string) string {
	var b strings.Builder
	for _, r := range strings.ReplaceAll(s, "\r\n", "\n") {
		switch {
		case r == '\t' || r == '\n' || r == 0x200c || r == 0x200d:
			b.WriteRune(r)
		case r < 0x20 || (r >= 0x7f && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.Is(unicode.Cf, r):
			fmt.Fprintf(&b, "⟨U+%04X⟩", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
