// Package triage owns the rules of an issue's life: its statuses, what a
// new event does to the issue its fingerprint belongs to (opens one,
// reopens a resolved one as a regression, is only counted on a suppressed
// one), what a person's status change means, how releases compare, and
// which versions and statuses a release may have.
// Storage engines ask these rules and persist the outcome; they decide
// nothing themselves, so a second engine implements persistence only.
package triage

import (
	"fmt"
	"strings"
)

// Issue statuses.
const (
	StatusActive     = "active"
	StatusResolved   = "resolved"
	StatusSuppressed = "suppressed"
)

// ValidStatus tells whether s is an issue status.
func ValidStatus(s string) bool {
	return s == StatusActive || s == StatusResolved || s == StatusSuppressed
}

// Current is what storage holds, inside the transaction that stores an
// event, about the issue the event's fingerprint belongs to.
type Current struct {
	Exists            bool   // some issue has the fingerprint
	Status            string // its status
	ResolvedInRelease string // with StatusResolved: the release that fixed it, or ""
}

// Outcome is what one new (not duplicate) event does to its issue.
type Outcome struct {
	NewIssue   bool // no issue has the fingerprint: open one, active
	Regression bool // the issue is resolved and this event reopens it
	Suppressed bool // the issue is suppressed: count the event, do not keep it
}

// Group decides what an event of release eventRelease does to the issue
// of its fingerprint. Every event is counted on its issue; the outcome says
// what else happens.
func Group(cur Current, eventRelease string) Outcome {
	if !cur.Exists {
		return Outcome{NewIssue: true}
	}
	switch cur.Status {
	case StatusResolved:
		// Resolved "in release X": an event of an older release is the old
		// bug still running somewhere, not a regression.
		return Outcome{Regression: ReopensResolved(eventRelease, cur.ResolvedInRelease)}
	case StatusSuppressed:
		return Outcome{Suppressed: true}
	}
	return Outcome{}
}

// Notifies tells whether the outcome is worth a notification: a new issue
// or a regression.
func (o Outcome) Notifies() bool { return o.NewIssue || o.Regression }

// KeepsEvent tells whether the event itself is stored (its values counted,
// its text searchable), not only counted on its issue.
func (o Outcome) KeepsEvent() bool { return !o.Suppressed }

// CheckStatusChange checks a person's change of an issue to status and
// returns the release to keep with it: trimmed, and only with
// StatusResolved (no other status is "in a release").
func CheckStatusChange(status, resolvedInRelease string) (string, error) {
	if !ValidStatus(status) {
		return "", fmt.Errorf("unknown status %q", status)
	}
	if status != StatusResolved {
		return "", nil
	}
	return strings.TrimSpace(resolvedInRelease), nil
}

// StatusChanges tells whether setting (status, release) on an issue that
// has (fromStatus, fromRelease) changes anything: setting what it already
// has is not a change and is not recorded.
func StatusChanges(fromStatus, fromRelease, status, release string) bool {
	return fromStatus != status || fromRelease != release
}
