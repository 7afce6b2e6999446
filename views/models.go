// Package views renders stacklens's pages with templ. The structs here are
// plain view models: handlers fill them, views only display them and never
// query anything.
package views

import (
	"html/template"
	"time"
)

// Nav is what the page chrome needs: who is signed in, in which project,
// and which section is current (Active is one of the Section* constants).
type Nav struct {
	ProjectName string
	UserEmail   string
	CSRF        string
	Active      string
}

// Sections of the navigation, for Nav.Active.
const (
	SectionIssues     = "issues"
	SectionSymbolSets = "symbol-sets"
	SectionProject    = "project"
)

// LoginView is the sign-in form. Next is where to go after signing in.
type LoginView struct {
	Email, Error, CSRF, Next string
}

// SetupView is the one-time form that creates the first admin.
type SetupView struct {
	Email, Error, CSRF string
}

// Issue statuses, also the values of IssuesView.Status (with StatusAll).
const (
	StatusActive     = "active"
	StatusResolved   = "resolved"
	StatusSuppressed = "suppressed"
	StatusAll        = "all"
)

// IssuesView is the issue list. Status is the current filter; the filter
// links point at /issues?status=<status>. PrevURL/NextURL are empty when
// there is no such page. Setup is shown when there are no issues at all.
type IssuesView struct {
	Status  string
	Rows    []IssueRow
	PrevURL string
	NextURL string
	Total   int
	Setup   SetupHint
}

// IssueRow is one line of the issue list.
type IssueRow struct {
	ID          int64
	Name        string
	Description string
	Status      string
	Occurrences int64
	FirstSeen   time.Time
	LastSeen    time.Time
	URL         string
}

// SetupHint is what a user needs to point an SDK at this server: the
// project's public token and the server's base URL ("http://host:8000").
type SetupHint struct {
	Token string
	Host  string
}

// IssueView is one issue with its latest (or chosen) event.
//
// StatusURL, when set, shows buttons that POST a form with fields `status`
// and `_csrf` (from Nav.CSRF) to it.
type IssueView struct {
	ID          int64
	Name        string
	Description string
	Status      string
	Occurrences int64
	FirstSeen   time.Time
	LastSeen    time.Time
	Event       EventView
	StatusURL   string
}

// EventView is one stored event.
type EventView struct {
	UUID       string
	Timestamp  time.Time
	Exceptions []ExceptionView
	Properties []Property
	RawJSON    string
}

// Property is one row of the event's properties table.
type Property struct {
	Key, Value string
}

// ExceptionView is one exception of an event's chain. The first is the
// one thrown; those with IsCause are shown as "Caused by".
type ExceptionView struct {
	Type      string
	Value     string
	Handled   *bool
	Mechanism string
	Frames    []FrameView // crash site first
	IsCause   bool
}

// FrameView is one stack frame as resolved. When Resolved, the Raw* fields
// hold the minified frame it came from. When resolution failed, Failure is
// a one-line reason and FailureURL where to learn more or fix it.
type FrameView struct {
	Function    string
	File        string
	Line        int
	Column      int
	InApp       bool
	Platform    string
	Code        []CodeLine
	Resolved    bool
	RawFunction string
	RawFile     string
	RawLine     int
	RawColumn   int
	Failure     string
	FailureURL  string
}

// CodeLine is one highlighted line of a frame's source context.
type CodeLine struct {
	Number      int
	HTML        template.HTML
	IsErrorLine bool
}
