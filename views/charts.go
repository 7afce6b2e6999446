package views

import (
	"strconv"
	"time"
)

// bar is one bucket of a bar chart, in SVG user units. Every bucket gets a
// bar (an empty one is a hairline) so the chart reads as a time axis.
type bar struct {
	X, Y, W, H string
	Count      int64
	Title      string
}

// chartBars lays out a series as bars filling width × height with gap
// between them; the tallest bar is full height.
func chartBars(s Series, width, height, gap float64) []bar {
	n := len(s.Counts)
	if n == 0 {
		return nil
	}
	var top int64
	for _, c := range s.Counts {
		top = max(top, c)
	}
	w := (width - gap*float64(n-1)) / float64(n)
	out := make([]bar, n)
	for i, c := range s.Counts {
		h := 1.0 // a hairline marks an empty bucket
		if c > 0 {
			h = max(2, height*float64(c)/float64(top))
		}
		from := s.Start.Add(time.Duration(i) * s.Step)
		out[i] = bar{
			X: svgNum(float64(i) * (w + gap)), Y: svgNum(height - h), W: svgNum(w), H: svgNum(h),
			Count: c, Title: plural(c, "event") + " · " + bucketLabel(from, s.Step),
		}
	}
	return out
}

func svgNum(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// bucketLabel names a bucket's span in UTC: "May 2, 14:00–15:00" or "May 2".
func bucketLabel(from time.Time, step time.Duration) string {
	from = from.UTC()
	if step >= 24*time.Hour && step%(24*time.Hour) == 0 {
		if step == 24*time.Hour {
			return from.Format("Jan 2")
		}
		return from.Format("Jan 2") + "–" + from.Add(step-24*time.Hour).Format("Jan 2")
	}
	return from.Format("Jan 2, 15:04") + "–" + from.Add(step).Format("15:04") + " UTC"
}

// seriesTotal is the number of events a series counts.
func seriesTotal(s Series) int64 {
	var n int64
	for _, c := range s.Counts {
		n += c
	}
	return n
}

func seriesMax(s Series) int64 {
	var n int64
	for _, c := range s.Counts {
		n = max(n, c)
	}
	return n
}

// seriesEdges labels the chart's first and last moments.
func seriesEdges(s Series) (string, string) {
	if len(s.Counts) == 0 {
		return "", ""
	}
	end := s.Start.Add(time.Duration(len(s.Counts)) * s.Step)
	layout := "Jan 2, 15:04"
	if s.Step >= 24*time.Hour {
		layout = "Jan 2"
	}
	return s.Start.UTC().Format(layout), end.UTC().Format(layout)
}

// percentOf is count as a share of total, for horizontal bars (0–100).
func percentOf(count, total int64) string {
	if total <= 0 {
		return "0"
	}
	return svgNum(100 * float64(count) / float64(total))
}

func percentLabel(count, total int64) string {
	if total <= 0 {
		return "0%"
	}
	p := 100 * float64(count) / float64(total)
	if p < 1 && p > 0 {
		return "<1%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// countAttr is a count for a data- attribute: plain digits.
func countAttr(n int64) string { return strconv.FormatInt(n, 10) }
