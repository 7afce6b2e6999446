package triage

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CompareReleases orders two release names: -1 when a is older than b, 0
// when they are the same, 1 when a is newer. Semver-like names ("v2.0.1",
// "1.9", "2.0.0-beta.2+build5") compare by their numeric segments (missing
// ones count as 0, a pre-release comes before its release, build metadata
// is ignored); anything else compares as strings.
func CompareReleases(a, b string) int {
	va, okA := parseRelease(a)
	vb, okB := parseRelease(b)
	if !okA || !okB {
		return strings.Compare(a, b)
	}
	for i := range max(len(va.core), len(vb.core)) {
		x, y := segment(va.core, i), segment(vb.core, i)
		if x != y {
			return cmpInt(x, y)
		}
	}
	switch {
	case va.pre == "" && vb.pre == "":
		return 0
	case va.pre == "":
		return 1 // 2.0.0 is newer than 2.0.0-rc.1
	case vb.pre == "":
		return -1
	}
	return comparePrerelease(va.pre, vb.pre)
}

// ReopensResolved tells whether an event of release eventRelease reopens an
// issue resolved in release resolvedIn: always, unless both are known and
// the event's release is older.
func ReopensResolved(eventRelease, resolvedIn string) bool {
	if resolvedIn == "" || eventRelease == "" {
		return true
	}
	return CompareReleases(eventRelease, resolvedIn) >= 0
}

type release struct {
	core []int64
	pre  string
}

func parseRelease(s string) (release, bool) {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "v"), "V")
	s, _, _ = strings.Cut(s, "+")
	core, pre, _ := strings.Cut(s, "-")
	if core == "" {
		return release{}, false
	}
	var r release
	for _, part := range strings.Split(core, ".") {
		n, err := strconv.ParseInt(part, 10, 64)
		if err != nil || n < 0 {
			return release{}, false
		}
		r.core = append(r.core, n)
	}
	r.pre = pre
	return r, true
}

func segment(s []int64, i int) int64 {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// comparePrerelease compares dot-separated identifiers as semver does:
// numbers numerically and before words, words as strings, fewer first.
func comparePrerelease(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range min(len(pa), len(pb)) {
		x, errX := strconv.ParseInt(pa[i], 10, 64)
		y, errY := strconv.ParseInt(pb[i], 10, 64)
		switch {
		case errX == nil && errY == nil:
			if x != y {
				return cmpInt(x, y)
			}
		case errX == nil:
			return -1
		case errY == nil:
			return 1
		default:
			if c := strings.Compare(pa[i], pb[i]); c != 0 {
				return c
			}
		}
	}
	return cmpInt(int64(len(pa)), int64(len(pb)))
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Release statuses, as sentry-cli sets them.
const (
	ReleaseOpen     = "open"
	ReleaseArchived = "archived"
)

// maxReleaseVersion is the longest release version, in characters, that
// Sentry accepts; stacklens accepts the same so a CI job moving between the
// two needs no change.
const maxReleaseVersion = 200

// CheckReleaseVersion checks the version of a release being created and
// returns it trimmed: 1 to 200 characters without tabs or line breaks, and
// not ".", ".." or "latest" (which read as paths or as "the newest" in the
// URLs and commands that name a release).
func CheckReleaseVersion(version string) (string, error) {
	v := strings.TrimSpace(version)
	if v == "" || utf8.RuneCountInString(v) > maxReleaseVersion || strings.ContainsAny(v, "\n\r\t") ||
		v == "." || v == ".." || v == "latest" {
		return "", fmt.Errorf("A release version is 1 to %d characters with no tabs or line breaks, and not \".\", \"..\" or \"latest\".", maxReleaseVersion)
	}
	return v, nil
}

// CheckReleaseStatus checks the status a release is set to: open or archived.
func CheckReleaseStatus(status string) error {
	if status != ReleaseOpen && status != ReleaseArchived {
		return fmt.Errorf("A release's status is %q or %q, not %q.", ReleaseOpen, ReleaseArchived, status)
	}
	return nil
}
