package views

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Symbol-set status filters (SymbolSetsView.Status) and sorts (Sort).
const (
	SymbolSetsMissing = "missing"
	SymbolSetsStored  = "stored"
	SymbolSetsAll     = "all"

	SortLastUsed = "last_used"
	SortCreated  = "created"
)

// Flash is the message a page shows after an action (carried in the
// redirect's query so forms work without JavaScript), with the issues it
// concerns.
type Flash struct {
	Message string
	Error   bool
	Issues  []IssueLink
}

// IssueLink points at an issue.
type IssueLink struct {
	ID          int64
	Name        string
	Description string
	URL         string
}

// SymbolSetsView is /settings/symbol-sets: a filtered, searched, sorted
// page of symbol sets. The filter form GETs status, q and sort.
type SymbolSetsView struct {
	Status  string
	Search  string
	Sort    string
	Rows    []SymbolSetRow
	Total   int
	First   int // 1-based index of the first row shown
	PrevURL string
	NextURL string
	Flash   Flash
	Missing int // missing sets in the project, for the bulk-upload hint
}

// SymbolSetRow is one line of the symbol-set list.
type SymbolSetRow struct {
	ID        int64
	URL       string
	Ref       string
	KindLabel string // "URL", "chunk id", "debug id"
	// MinifiedURL names the minified file of an uploaded set ("~/app.js"
	// for sentry-cli's), Release the release it was uploaded for.
	MinifiedURL string
	Release     string
	// SeenFile is the file frames that used the set were sent with, for
	// sets named by an id (shown when MinifiedURL is unknown).
	SeenFile  string
	Stored    bool
	Origin    string // fetched | uploaded, when stored
	Failure   string // a sentence, when missing
	Frames    int
	Issues    int
	LastUsed  time.Time
	Created   time.Time
	SizeBytes int64
}

// SymbolSetView is /settings/symbol-sets/{id}: the diagnosis and the
// actions. The upload form POSTs multipart to UploadURL with `source_map`,
// optional `minified`, optional `confirm_mismatch` and `_csrf`.
type SymbolSetView struct {
	ID          int64
	Ref         string
	KindLabel   string // "URL", "chunk id", "debug id"
	Stored      bool
	Origin      string
	MinifiedURL string
	MapURL      string
	Release     string
	SizeBytes   int64
	Created     time.Time
	Updated     time.Time
	LastUsed    time.Time

	FailureCode    string
	FailureMessage string
	Advice         string
	Steps          []FetchStep

	Frames []SymbolSetFrame
	Issues []IssueLink

	CanRetry       bool
	UploadURL      string
	RetryURL       string
	DeleteURL      string
	DownloadMapURL string
	DownloadJSURL  string // empty when no minified file is stored
	MaxUploadBytes int64

	Flash Flash
	// UploadError says why the last upload was refused; Mismatch what the
	// match check found (then the form shows the confirm checkbox).
	UploadError      string
	Mismatch         string
	MismatchExamples []string
	// Sentry explains a debug-id symbol set (nil for other kinds).
	Sentry *SentryDebugID
}

// SentryDebugID is the diagnosis of a symbol set keyed by a debug id
// (sentry-cli sourcemaps inject): which files the events named with it,
// whether a map was uploaded, and the commands that upload one here.
type SentryDebugID struct {
	DebugID   string
	CodeFiles []string // the files the events' debug_meta gave this id
	Uploaded  bool
	// Env are the environment lines sentry-cli needs, InjectCommand and
	// UploadCommand what to run in the build's folder.
	Env           []string
	InjectCommand string
	UploadCommand string
	APIKeysURL    string
}

// FetchStep is one thing the fetcher tried.
type FetchStep struct {
	Action string
	URL    string
	Status int
	Found  string
	Bytes  int64
	Error  string
}

// SymbolSetFrame is a frame that uses a symbol set: as sent, and what it
// resolves to now.
type SymbolSetFrame struct {
	Function   string
	Location   string
	Resolved   bool
	ResolvedAs string
	Failure    string
}

// BulkUploadView is /settings/symbol-sets/upload. Without Batch it shows
// the file form (POST multipart `files`, many); with Batch it shows the
// pairing found, and a form that POSTs `batch` (and `confirm_mismatch`) to
// ConfirmURL to store the pairs.
type BulkUploadView struct {
	Missing    int
	Error      string
	Batch      string
	ConfirmURL string
	Pairs      []BulkPair
	Unpaired   []string
	Flash      Flash
}

// BulkPair is a map matched to a missing symbol set.
type BulkPair struct {
	SymbolSetID  int64
	URL          string
	Ref          string
	MapName      string
	MinifiedName string
	MatchedBy    string
	Problem      string // why it will not be stored
	Mismatch     string // match-check warning: stored only when confirmed
}

// APIKeysView is the personal API keys section of /settings/project.
// NewKey is shown once, right after it was created.
type APIKeysView struct {
	Keys      []APIKeyRow
	CreateURL string
	NewKey    string
	NewLabel  string
	Error     string
	Revoked   bool
}

// APIKeyRow is one key; RevokeURL takes a POST with `_csrf`.
type APIKeyRow struct {
	ID        int64
	Label     string
	Mask      string
	Created   time.Time
	LastUsed  time.Time
	RevokeURL string
}

// shortRef shortens a long ref from the left so its end (the file name)
// stays visible.
func shortRef(ref string, max int) string {
	r := []rune(ref)
	if len(r) <= max {
		return ref
	}
	return "…" + string(r[len(r)-max+1:])
}

// byteSize writes a size for people: "2.4 MiB".
func byteSize(n int64) string {
	switch {
	case n <= 0:
		return "—"
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func originLabel(origin string) string {
	switch origin {
	case "fetched":
		return "Fetched"
	case "uploaded":
		return "Uploaded"
	}
	return "Stored"
}

func symbolSetsURL(status, search, sort string) string {
	u := "/settings/symbol-sets?status=" + status
	if search != "" {
		u += "&q=" + url.QueryEscape(search)
	}
	if sort != "" && sort != SortLastUsed {
		u += "&sort=" + sort
	}
	return u
}

func symbolSetFilterLabel(status string) string {
	switch status {
	case SymbolSetsMissing:
		return "Missing"
	case SymbolSetsStored:
		return "Resolved"
	}
	return "All"
}

func hasMismatch(pairs []BulkPair) bool {
	for _, p := range pairs {
		if p.Problem == "" && p.Mismatch != "" {
			return true
		}
	}
	return false
}

// sentryCommands is the shell session that uploads a debug-id build here.
func sentryCommands(v SentryDebugID) string {
	lines := append([]string{}, v.Env...)
	lines = append(lines, "# once per build, before deploying it (skip if your build already injects debug ids):",
		v.InjectCommand, v.UploadCommand)
	return strings.Join(lines, "\n")
}
