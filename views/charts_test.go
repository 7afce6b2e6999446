package views

import (
	"strings"
	"testing"
	"time"
)

func TestChartBarsOnePerBucketScaledToTheTallest(t *testing.T) {
	start := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	bars := chartBars(Series{Start: start, Step: time.Hour, Counts: []int64{0, 4, 2, 0}}, 100, 40, 4)
	if len(bars) != 4 {
		t.Fatalf("%d bars, want 4", len(bars))
	}
	want := []struct{ x, y, h string }{{"0.00", "39.00", "1.00"}, {"26.00", "0.00", "40.00"}, {"52.00", "20.00", "20.00"}, {"78.00", "39.00", "1.00"}}
	for i, w := range want {
		if b := bars[i]; b.X != w.x || b.Y != w.y || b.H != w.h || b.W != "22.00" {
			t.Errorf("bar %d = %+v, want x %s y %s h %s w 22.00", i, b, w.x, w.y, w.h)
		}
	}
	if bars[1].Title != "4 events · May 2, 01:00–02:00 UTC" {
		t.Errorf("title %q", bars[1].Title)
	}
	html := render(t, occurrencesChart(Series{Start: start, Step: 24 * time.Hour, Counts: make([]int64, 30)}))
	if n := strings.Count(html, `<rect class="bar bar-empty"`); n != 30 {
		t.Errorf("an empty 30-day chart has %d empty bars, want 30", n)
	}
}

func TestValueBarsShareOfTotal(t *testing.T) {
	html := render(t, valueBars(ValueGroup{Title: "Release", Total: 8, Values: []ValueCount{{"2.0.0", 6}, {"1.9", 2}}}))
	for _, want := range []string{`width="75.00" height="6" data-count="6"`, "75%", `width="25.00" height="6" data-count="2"`, "25%"} {
		if !strings.Contains(html, want) {
			t.Errorf("value bars lack %s", want)
		}
	}
}
