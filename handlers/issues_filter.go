package handlers

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/triage"
	"github.com/stacklens/stacklens/views"
)

// maxFilterLen caps free-text filter values (search, release, library).
const maxFilterLen = 500

// seenWithin are the time ranges of the list's "seen" filter.
var seenWithin = map[string]time.Duration{"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}

// badFilter is a filter value the list cannot use; its message is the sentence shown.
type badFilter string

func (b badFilter) Error() string { return string(b) }

// parseIssueFilter reads the issue list's query parameters (shared by the
// page and the API) into the view's filter and the database query.
// defaultStatus applies when status is absent.
func parseIssueFilter(get func(string) string, defaultStatus string, now time.Time) (views.IssueFilter, db.IssueQuery, error) {
	f := views.IssueFilter{
		Status:  strings.TrimSpace(get("status")),
		Query:   strings.TrimSpace(get("q")),
		Range:   get("range"),
		Release: strings.TrimSpace(get("release")),
		Lib:     strings.TrimSpace(get("lib")),
		Env:     strings.TrimSpace(get("environment")),
		Tag:     strings.TrimSpace(get("tag")),
		Sort:    get("sort"),
		Spark:   get("spark"),
	}
	if f.Status == "" {
		f.Status = defaultStatus
	}
	if f.Status != "" && f.Status != views.StatusAll && !triage.ValidStatus(f.Status) {
		return f, db.IssueQuery{}, badFilter("Unknown status filter " + strconv.Quote(f.Status) + ": use active, resolved, suppressed or all.")
	}
	if !db.ValidSort(f.Sort) {
		return f, db.IssueQuery{}, badFilter("Unknown sort " + strconv.Quote(f.Sort) + ": use last_seen, first_seen, occurrences or users.")
	}
	if f.Sort == "" {
		f.Sort = db.SortLastSeen
	}
	if _, ok := seenWithin[f.Range]; f.Range != "" && !ok {
		return f, db.IssueQuery{}, badFilter("Unknown time range " + strconv.Quote(f.Range) + ": use 24h, 7d or 30d.")
	}
	if f.Spark != "" && f.Spark != "24h" && f.Spark != "14d" {
		return f, db.IssueQuery{}, badFilter("Unknown trend span " + strconv.Quote(f.Spark) + ": use 24h or 14d.")
	}
	if len(f.Query) > maxFilterLen || len(f.Release) > maxFilterLen || len(f.Lib) > maxFilterLen ||
		len(f.Env) > maxFilterLen || len(f.Tag) > maxFilterLen {
		return f, db.IssueQuery{}, badFilter("Search and filter values are limited to 500 characters.")
	}
	// tag=key:value, split at the first colon (values, like URLs, hold
	// colons; keys rarely do); tag=key alone keeps any value of the tag.
	tagKey, tagValue, _ := strings.Cut(f.Tag, ":")
	if f.Tag != "" && strings.TrimSpace(tagKey) == "" {
		return f, db.IssueQuery{}, badFilter("Tag filter " + strconv.Quote(f.Tag) + " names no tag: write tag=key:value, e.g. tag=route:/cart.")
	}
	q := db.IssueQuery{Status: f.Status, Search: f.Query, Release: f.Release, Lib: f.Lib, Sort: f.Sort,
		Environment: f.Env, TagKey: strings.TrimSpace(tagKey), TagValue: strings.TrimSpace(tagValue),
		After: db.ParseIssueCursor(f.Sort, get("after")), Before: db.ParseIssueCursor(f.Sort, get("before"))}
	if d, ok := seenWithin[f.Range]; ok {
		q.Since = now.Add(-d)
	}
	return f, q, nil
}

// filterValues is the URL query of a filter, defaults left out (but status kept).
func filterValues(f views.IssueFilter) url.Values {
	v := url.Values{}
	set := func(k, val, def string) {
		if val != "" && val != def {
			v.Set(k, val)
		}
	}
	set("status", f.Status, "")
	set("q", f.Query, "")
	set("range", f.Range, "")
	set("release", f.Release, "")
	set("lib", f.Lib, "")
	set("environment", f.Env, "")
	set("tag", f.Tag, "")
	set("sort", f.Sort, db.SortLastSeen)
	set("spark", f.Spark, "")
	return v
}

func listURL(v url.Values) string {
	if len(v) == 0 {
		return "/issues"
	}
	return "/issues?" + v.Encode()
}

// sparkBuckets are what a row's sparkline spans: 24 hours or 14 days.
func sparkBuckets(spark string, now time.Time) (db.Buckets, string) {
	if spark == "14d" {
		return db.BucketsEndingAt(now, 24*time.Hour, 14), "14 days"
	}
	return db.BucketsEndingAt(now, time.Hour, 24), "24 hours"
}

// chartRanges are the issue page's chart ranges and their buckets.
var chartRanges = []struct {
	Key, Label string
	Step       time.Duration
	N          int
}{
	{"24h", "24 hours", time.Hour, 24},
	{"7d", "7 days", 6 * time.Hour, 28},
	{"30d", "30 days", 24 * time.Hour, 30},
}

func toSeries(b db.Buckets, counts []int64) views.Series {
	if counts == nil {
		counts = make([]int64, b.N)
	}
	return views.Series{Start: b.Start, Step: b.Step, Counts: counts}
}

// countUnderFilter makes the issues' event and user counts those of the
// events f keeps (release 1.0.0: the events of 1.0.0). Without a filter the
// issues' own counters stand and nothing is read.
func (h *Handlers) countUnderFilter(ctx context.Context, projectID int64, issues []db.Issue, f db.EventFilter) error {
	if !f.Any() || len(issues) == 0 {
		return nil
	}
	ids := make([]int64, len(issues))
	for i, is := range issues {
		ids[i] = is.ID
	}
	counts, err := h.issues.IssuesEventCounts(ctx, projectID, ids, f)
	if err != nil {
		return err
	}
	for i := range issues {
		c := counts[issues[i].ID]
		issues[i].Occurrences, issues[i].UsersAffected = c.Events, c.Users
	}
	return nil
}

// issueFilterValues is the part of a list filter that picks events, as the
// query of an issue page's URL: the issue page then counts and shows the
// events of that release, library, environment or tag.
func issueFilterValues(f views.IssueFilter) url.Values {
	v := url.Values{}
	for k, val := range map[string]string{"release": f.Release, "lib": f.Lib, "environment": f.Env, "tag": f.Tag} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

// linkWith is path with query q, and no "?" when q is empty.
func linkWith(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
