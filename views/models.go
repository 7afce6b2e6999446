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
	ProjectID   int64
	ProjectName string
	// Projects are every project, for the switcher.
	Projects  []ProjectOption
	UserEmail string
	CSRF      string
	Active    string
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

// IssuesView is the issue list. Status is the current status filter;
// StatusTabs link to each status keeping the other filters. PrevURL/NextURL
// are empty when there is no such page. Setup is shown when there are no
// issues at all.
type IssuesView struct {
	Status     string
	StatusTabs []Link
	Rows       []IssueRow
	PrevURL    string
	NextURL    string
	Total      int
	Setup      SetupHint
	// Filter is the query as the URL holds it; Releases and Libs are the
	// choices of the release and library filters.
	Filter   IssueFilter
	Releases []string
	Libs     []string
	// Environments and Tags ("key:value") are the choices of the
	// environment filter and the tag filter's suggestions.
	Environments []string
	Tags         []string
	// BulkURL receives the bulk form (fields ids, action, into, return, _csrf);
	// ReturnURL is this list with its query, where bulk actions come back to.
	BulkURL   string
	ReturnURL string
	CSRF      string
	// SparkLabel says what the sparklines span ("24 hours").
	SparkLabel string
	// Notice is a one-line confirmation of the last bulk action.
	Notice string
}

// IssueFilter is the issue list's query: each field is a URL parameter of
// the same name (q is Query). Empty means "any".
type IssueFilter struct {
	Status  string
	Query   string // q
	Range   string // 24h | 7d | 30d: seen within
	Release string
	Lib     string
	Env     string // environment
	Tag     string // key:value, or key for any value
	Sort    string // last_seen | first_seen | occurrences | users
	Spark   string // 24h | 14d: what the sparklines span
}

// Link is a labelled URL; Active marks the current one of a group.
type Link struct {
	Label  string
	URL    string
	Active bool
}

// IssueRow is one line of the issue list. Name and Description may be
// only the first characters of the issue's (the list shows ListChars);
// NameChars and DescriptionChars are then the lengths of the whole text.
type IssueRow struct {
	ID               int64
	Name             string
	Description      string
	NameChars        int
	DescriptionChars int
	Status           string
	Occurrences      int64
	UsersAffected    int64
	FirstSeen        time.Time
	LastSeen         time.Time
	RegressedAt      time.Time // zero unless it came back after being resolved
	Assignee         string
	URL              string
	Spark            Series
	Culprit          Culprit
}

// IssueFilterNote says which events an issue page shows, and links to all of them.
type IssueFilterNote struct {
	Text   string
	AllURL string
}

// Culprit is where an issue's latest event crashed: the enclosing function
// and file, original ones when a source map resolved the frame.
type Culprit struct {
	Function string
	File     string
	Line     int
	Minified bool // the frame needed a source map and has none (yet)
}

// Series is a count per time bucket: Counts[i] covers [Start+i*Step, Start+(i+1)*Step).
type Series struct {
	Start  time.Time
	Step   time.Duration
	Counts []int64
}

// SetupHint is what a user needs to point an SDK at this server: the
// project's public token, the server's base URL ("http://host:8000") and
// the DSN Sentry SDKs take ("http://<token>@host:8000/<project id>").
type SetupHint struct {
	Token string
	Host  string
	DSN   string
}

// IssueView is one issue with its latest (or chosen) event.
//
// StatusURL, when set, shows buttons that POST a form with fields `status`,
// `resolved_in_release` and `_csrf` (from Nav.CSRF) to it. EditURL takes
// `name` and `description`; AssignURL takes `assignee` (a user id, or empty).
type IssueView struct {
	ID                int64
	Name              string
	Description       string
	Status            string
	ResolvedInRelease string
	RegressedAt       time.Time
	Occurrences       int64
	UsersAffected     int64
	FirstSeen         time.Time
	LastSeen          time.Time
	Releases          []string // newest first
	Event             EventView
	StatusURL         string
	EditURL           string
	AssignURL         string
	AssigneeID        int64
	Users             []UserOption
	// Filtered, when set, says the counts, chart, values and events are
	// those of the events a filter from the list keeps.
	Filtered IssueFilterNote
	// Chart is the occurrences over ChartRanges' active range.
	Chart       Series
	ChartRanges []Link
	TopValues   []ValueGroup
	// Events lists the issue's events, newest first; EventNav steps through them.
	Events         []EventRow
	OlderEventsURL string
	EventNav       EventNav
	Timeline       []TimelineEntry
	Merged         []MergedIssue
}

// UserOption is a person an issue can be assigned to.
type UserOption struct {
	ID    int64
	Email string
}

// ValueGroup is the most frequent values of one property (URL, browser…)
// over an issue's events; Total counts the events that had the property.
type ValueGroup struct {
	Title  string
	Total  int64
	Values []ValueCount
}

// ValueCount is one value and how many events had it.
type ValueCount struct {
	Value string
	Count int64
}

// EventRow is one line of the issue's event list; Current marks the event shown.
type EventRow struct {
	UUID      string
	Timestamp time.Time
	URL       string
	User      string
	Release   string
	Link      string
	Current   bool
}

// EventNav links to the oldest, the next older, the next newer and the
// newest event; empty when that is the event shown (or there is none).
type EventNav struct {
	First, Previous, Next, Latest string
}

// TimelineEntry is one change of the issue. Kind is status, regression,
// assignee, rename or merge; From/To/Detail as db.Activity.
type TimelineEntry struct {
	At                time.Time
	Actor             string
	Kind              string
	From, To, Detail  string
	MergedIssueID     int64
	MergedOccurrences int64
}

// MergedIssue is an issue that was merged into this one.
type MergedIssue struct {
	ID          int64
	Name        string
	Occurrences int64
	At          time.Time
	By          string
}

// EventView is one stored event, as much of it as EventLimits let a page
// show. RawURL downloads the whole event as JSON. ShowAllURL shows this
// page with ShowAllLimits; empty when it already does (ShowingAll).
type EventView struct {
	UUID       string
	Timestamp  time.Time
	Exceptions []ExceptionView
	Properties []Property
	RawJSON    string
	RawURL     string
	ShowAllURL string
	ShowingAll bool
	// HiddenExceptions and HiddenProperties count what the limits left out.
	HiddenExceptions int
	HiddenProperties int
	// Failures are the reasons shared by several unresolved frames, said
	// once above the stack instead of under each frame.
	Failures []FailureGroup
	// Facts are the event's environment, user, contexts, tags, SDK and
	// breadcrumbs (Sentry's; a PostHog event's same facts from its properties).
	Facts EventFacts
}

// EventFacts are what an event says about where and to whom it happened.
// EnvironmentURL and each tag's URL are the issue list filtered by them.
type EventFacts struct {
	Environment    string
	EnvironmentURL string
	Level          string
	Release        string
	SDK            string // name and version
	URL            string
	User           []Property
	Contexts       []ContextCard
	Tags           []TagChip
	More           []Property // server, transaction, dist, session
	// Breadcrumbs are what the SDK recorded before the error, oldest
	// first, ending with the error itself (Crash).
	Breadcrumbs []BreadcrumbRow
}

// Empty tells whether the event has none of the facts the cards show.
func (f EventFacts) Empty() bool {
	return !hasHighlights(f) && len(f.User) == 0 && len(f.Contexts) == 0 && len(f.Tags) == 0
}

// ContextCard is one context of an event (browser, OS, runtime, device…).
type ContextCard struct {
	Name   string // as the client keyed it: browser, os…
	Title  string
	Fields []Property
}

// TagChip is one tag; URL lists the issues with an event carrying it.
type TagChip struct {
	Key, Value, URL string
}

// BreadcrumbRow is one line of the breadcrumb timeline. Data is the
// breadcrumb's data as compact JSON; Crash marks the error itself.
type BreadcrumbRow struct {
	Time     time.Time
	Category string
	Level    string
	Message  string
	Data     string
	Crash    bool
}

// FailureGroup is one reason frames are not resolved (mostly: one symbol
// set's failure) and the frames it covers.
type FailureGroup struct {
	Sentence string
	URL      string // the symbol set's page, "" when there is none
	Frames   []SentFrame
}

// SentFrame names a frame as the client sent it.
type SentFrame struct {
	Function, File string
	Line, Column   int
}

// EventLimits bound how much of one event the issue page renders, so that
// no event (10,000 exceptions, 50 KB lines) makes a page of megabytes.
// Values are cut too (see MessageChars and the other limits).
type EventLimits struct {
	Exceptions  int // exceptions shown, the thrown one first
	Frames      int // frames per exception: the first half and the last half of them
	TotalFrames int // frames over all exceptions
	CodeBytes   int // HTML of code context over all frames
	Properties  int // rows of the properties table
}

// DefaultLimits are what the issue page shows as it opens.
func DefaultLimits() EventLimits {
	return EventLimits{Exceptions: 10, Frames: 50, TotalFrames: 250, CodeBytes: 256 << 10, Properties: 200}
}

// ShowAllLimits are what "show all" shows: still a ceiling, beyond which
// the raw JSON download is the way to see everything.
func ShowAllLimits() EventLimits {
	return EventLimits{Exceptions: 100, Frames: 1000, TotalFrames: 2000, CodeBytes: 1 << 20, Properties: 1000}
}

// SplitFrames says which of n frames a page shows when it may show keep of
// them: the first head (from the crash site) and the last tail (the oldest
// calls), hiding those between.
func SplitFrames(n, keep int) (head, tail int) {
	if n <= keep {
		return n, 0
	}
	keep = max(keep, 0)
	head = (keep + 1) / 2
	return head, keep - head
}

// Property is one row of the event's properties table.
type Property struct {
	Key, Value string
}

// ExceptionView is one exception of an event's chain. The first is the
// one thrown; those with IsCause are shown as "Caused by".
//
// Frames are the first frames shown, crash site first; when HiddenFrames
// is not 0 that many follow that are not shown, then TailFrames.
type ExceptionView struct {
	Type         string
	Value        string
	Handled      *bool
	Mechanism    string
	Frames       []FrameView
	HiddenFrames int
	TailFrames   []FrameView
	IsCause      bool
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
	// FailureShared says Failure is said once above the stack (in
	// EventView.Failures) rather than under this frame.
	FailureShared bool
	// FromSourceMap says a source map resolved the frame, so the frame as
	// sent (RawFunction, RawFile…) is the minified one.
	FromSourceMap bool
	// CodeHidden says the frame has code context that the page left out to
	// stay small (EventLimits.CodeBytes).
	CodeHidden bool
}

// CodeLine is one highlighted line of a frame's source context.
// Hidden is how many characters of the line were cut off.
type CodeLine struct {
	Number      int
	HTML        template.HTML
	IsErrorLine bool
	Hidden      int
}

// MergeView asks which of the ticked issues the others merge into. The form
// posts ids (every issue), into (the one kept), return and _csrf to ActionURL.
type MergeView struct {
	Issues    []IssueRow
	Keep      int // index in Issues of the issue chosen to keep by default
	ActionURL string
	ReturnURL string
	CSRF      string
}
