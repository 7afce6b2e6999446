// Package promtext checks and reads Prometheus's text exposition format,
// for tests of GET /metrics: every sample line is `name{labels} value`, and
// every metric has its # HELP and # TYPE lines before its samples.
package promtext

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Samples are a scrape's values keyed by the sample as written before its
// value: `name` or `name{a="x",b="y"}` (labels in the order sent).
type Samples map[string]float64

// Sum adds the values of every sample of metric name whose labels include
// all of want (e.g. Sum("x_total", `reason="throttled"`)).
func (s Samples) Sum(name string, want ...string) float64 {
	var total float64
	for key, v := range s {
		n, labels, _ := strings.Cut(key, "{")
		if n != name {
			continue
		}
		ok := true
		for _, w := range want {
			if !strings.Contains(","+strings.TrimSuffix(labels, "}")+",", ","+w+",") {
				ok = false
			}
		}
		if ok {
			total += v
		}
	}
	return total
}

var (
	metricName = `[a-zA-Z_:][a-zA-Z0-9_:]*`
	labelPair  = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"`
	sampleLine = regexp.MustCompile(`^(` + metricName + `)(\{(?:` + labelPair + `(?:,` + labelPair + `)*)?\})? (\S+)( -?[0-9]+)?$`)
	helpLine   = regexp.MustCompile(`^# HELP (` + metricName + `) .*$`)
	typeLine   = regexp.MustCompile(`^# TYPE (` + metricName + `) (counter|gauge|histogram|summary|untyped)$`)
)

// Parse checks text line by line and returns its samples. It fails on a
// line that is neither a comment nor a well-formed sample, on a sample of
// a metric without HELP and TYPE before it, on a value that is not a
// number, and on a sample written twice.
func Parse(text string) (Samples, error) {
	out := Samples{}
	helped, typed := map[string]bool{}, map[string]string{}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		where := fmt.Sprintf("line %d %q", i+1, line)
		switch {
		case line == "":
			return nil, fmt.Errorf("%s: empty line", where)
		case strings.HasPrefix(line, "# HELP "):
			m := helpLine.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("%s: malformed HELP", where)
			}
			helped[m[1]] = true
		case strings.HasPrefix(line, "# TYPE "):
			m := typeLine.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("%s: malformed TYPE", where)
			}
			if _, dup := typed[m[1]]; dup {
				return nil, fmt.Errorf("%s: second TYPE for %s", where, m[1])
			}
			typed[m[1]] = m[2]
		case strings.HasPrefix(line, "#"):
			// other comments are allowed
		default:
			m := sampleLine.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("%s: not `name{labels} value`", where)
			}
			family := m[1]
			if kind := typed[family]; kind == "" {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if base, ok := strings.CutSuffix(m[1], suffix); ok && typed[base] == "histogram" {
						family = base
					}
				}
			}
			if typed[family] == "" || !helped[family] {
				return nil, fmt.Errorf("%s: no HELP and TYPE for %s before its sample", where, family)
			}
			v, err := strconv.ParseFloat(m[3], 64)
			if err != nil && m[3] != "+Inf" && m[3] != "-Inf" && m[3] != "NaN" {
				return nil, fmt.Errorf("%s: value %q is not a number", where, m[3])
			}
			key := m[1] + m[2]
			if _, dup := out[key]; dup {
				return nil, fmt.Errorf("%s: sample written twice", where)
			}
			out[key] = v
		}
	}
	return out, nil
}
