package triage

import (
	"strings"
	"testing"
)

func TestGroup(t *testing.T) {
	for _, c := range []struct {
		name    string
		cur     Current
		release string
		want    Outcome
	}{
		{"no issue has the fingerprint", Current{}, "1.0", Outcome{NewIssue: true}},
		{"no issue, even with a suppressed-looking status", Current{Status: StatusSuppressed}, "", Outcome{NewIssue: true}},
		{"active issue: only counted", Current{Exists: true, Status: StatusActive}, "1.0", Outcome{}},
		{"suppressed issue", Current{Exists: true, Status: StatusSuppressed}, "9.9", Outcome{Suppressed: true}},
		{"resolved, no release", Current{Exists: true, Status: StatusResolved}, "", Outcome{Regression: true}},
		{"resolved, event without release", Current{Exists: true, Status: StatusResolved, ResolvedInRelease: "2.0"}, "", Outcome{Regression: true}},
		{"resolved in 2.0, event of 1.9", Current{Exists: true, Status: StatusResolved, ResolvedInRelease: "2.0"}, "1.9", Outcome{}},
		{"resolved in 2.0, event of 2.0", Current{Exists: true, Status: StatusResolved, ResolvedInRelease: "2.0"}, "v2.0.0", Outcome{Regression: true}},
		{"resolved in 2.0, event of 2.0.1", Current{Exists: true, Status: StatusResolved, ResolvedInRelease: "2.0"}, "2.0.1", Outcome{Regression: true}},
		{"resolved in 2.0, event of its release candidate", Current{Exists: true, Status: StatusResolved, ResolvedInRelease: "2.0.0"}, "2.0.0-rc.1", Outcome{}},
	} {
		if got := Group(c.cur, c.release); got != c.want {
			t.Errorf("%s: Group(%+v, %q) = %+v, want %+v", c.name, c.cur, c.release, got, c.want)
		}
	}
}

func TestOutcomeNotifiesAndKeeps(t *testing.T) {
	for _, c := range []struct {
		o               Outcome
		notifies, keeps bool
	}{
		{Outcome{}, false, true},
		{Outcome{NewIssue: true}, true, true},
		{Outcome{Regression: true}, true, true},
		{Outcome{Suppressed: true}, false, false},
	} {
		if c.o.Notifies() != c.notifies || c.o.KeepsEvent() != c.keeps {
			t.Errorf("%+v: Notifies %v KeepsEvent %v, want %v %v", c.o, c.o.Notifies(), c.o.KeepsEvent(), c.notifies, c.keeps)
		}
	}
}

func TestCheckStatusChange(t *testing.T) {
	for _, c := range []struct {
		status, release, want string
	}{
		{StatusResolved, "  2.1.0 ", "2.1.0"},
		{StatusResolved, "", ""},
		{StatusActive, "2.1.0", ""},
		{StatusSuppressed, "2.1.0", ""},
	} {
		if got, err := CheckStatusChange(c.status, c.release); err != nil || got != c.want {
			t.Errorf("CheckStatusChange(%q, %q) = %q, %v; want %q", c.status, c.release, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "all", "Resolved", "open"} {
		if _, err := CheckStatusChange(bad, ""); err == nil {
			t.Errorf("CheckStatusChange(%q) accepted an unknown status", bad)
		}
	}
}

func TestStatusChanges(t *testing.T) {
	if StatusChanges(StatusResolved, "2.0", StatusResolved, "2.0") {
		t.Error("setting the status and release an issue has counted as a change")
	}
	if !StatusChanges(StatusResolved, "2.0", StatusResolved, "2.1") {
		t.Error("a new release to be resolved in did not count as a change")
	}
	if !StatusChanges(StatusActive, "", StatusSuppressed, "") {
		t.Error("suppressing an active issue did not count as a change")
	}
}

func TestCompareReleases(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.9", "2.0.0", -1}, {"2.0.1", "2.0.0", 1}, {"2.0", "2.0.0", 0}, {"v2.0.0", "2.0.0", 0}, {"V2.0.0", "2.0.0", 0},
		{"1.10.0", "1.9.3", 1}, {"2.0.0-rc.1", "2.0.0", -1}, {"2.0.0", "2.0.0-rc.1", 1}, {"2.0.0-rc.2", "2.0.0-rc.10", -1},
		{"2.0.0-alpha", "2.0.0-beta", -1}, {"2.0.0-alpha.1", "2.0.0-alpha", 1}, {"2.0.0-1", "2.0.0-alpha", -1},
		{"2.0.0+build.7", "2.0.0", 0}, {" 2.0 ", "2.0", 0},
		{"abc123", "abd000", -1}, {"2024-05-01", "2024-06-01", -1}, {"1.x", "1.9", 1}, {"-1", "1", -1},
	} {
		if got := CompareReleases(c.a, c.b); got != c.want {
			t.Errorf("CompareReleases(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := CompareReleases(c.b, c.a); got != -c.want {
			t.Errorf("CompareReleases(%q, %q) = %d, want %d (the reverse order)", c.b, c.a, got, -c.want)
		}
	}
}

func TestValidStatus(t *testing.T) {
	for _, s := range []string{StatusActive, StatusResolved, StatusSuppressed} {
		if !ValidStatus(s) {
			t.Errorf("ValidStatus(%q) = false", s)
		}
	}
	if ValidStatus("all") || ValidStatus("") {
		t.Error("ValidStatus accepts what is not a status")
	}
}

func TestCheckReleaseVersion(t *testing.T) {
	long := strings.Repeat("a", 200)
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"web@1.0.0", "web@1.0.0", true},
		{"  web@1.0.0+b/7 \n", "web@1.0.0+b/7", true},
		{long, long, true},
		{strings.Repeat("é", 200), strings.Repeat("é", 200), true}, // characters, not bytes
		{"a" + long, "", false},
		{"", "", false},
		{"   ", "", false},
		{".", "", false},
		{"..", "", false},
		{"latest", "", false},
		{"latest2", "latest2", true},
		{"...", "...", true},
		{"web\t1", "", false},
		{"web\n1", "", false},
		{"web\r1", "", false},
	} {
		got, err := CheckReleaseVersion(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("CheckReleaseVersion(%q) = %q, %v; want %q, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestCheckReleaseStatus(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{ReleaseOpen, true}, {ReleaseArchived, true}, {"", false}, {"Open", false}, {"gone", false}, {"resolved", false},
	} {
		if err := CheckReleaseStatus(c.in); (err == nil) != c.ok {
			t.Errorf("CheckReleaseStatus(%q) = %v, want ok %v", c.in, err, c.ok)
		}
	}
}
