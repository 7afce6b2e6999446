package db

import "github.com/stacklens/stacklens/triage"

// CompareReleases orders two release names; the rule is
// triage.CompareReleases, kept here for db's callers.
func CompareReleases(a, b string) int { return triage.CompareReleases(a, b) }

// ReopensResolved tells whether an event of release eventRelease reopens an
// issue resolved in release resolvedIn; the rule is triage.ReopensResolved.
func ReopensResolved(eventRelease, resolvedIn string) bool {
	return triage.ReopensResolved(eventRelease, resolvedIn)
}
