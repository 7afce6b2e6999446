package uploadcli

import (
	"fmt"
	"slices"

	"github.com/stacklens/stacklens/symbols/mappings"
)

// shiftMappings moves mappings as posthog-cli's composition with its edit
// map does for text of shift columns prepended on the first line, then
// re-encoded by rust-sourcemap: columns on line 0 move right by shift;
// lines past the file's last line are dropped, and so are empty lines at the
// end (rust-sourcemap writes ";" only up to the last segment); each line is
// sorted by column (rust-sourcemap sorts unstably, a stable sort gives the
// same order whenever no two segments share a column); and a segment equal
// to the one before it on its line is written once.
func shiftMappings(m mappings.Mappings, shift uint32, lines int) (mappings.Mappings, error) {
	out := mappings.Mappings{
		Segments:  make([]mappings.Segment, 0, len(m.Segments)),
		LineStart: []uint32{0},
	}
	for i := range min(lines, m.Lines()) {
		start := len(out.Segments)
		for _, s := range m.Line(i) {
			if i == 0 {
				col := int64(s.GenColumn) + int64(shift)
				if col > mappings.MaxValue {
					return mappings.Mappings{}, fmt.Errorf("mappings: column %d out of range after the shift", col)
				}
				s.GenColumn = int32(col)
			}
			out.Segments = append(out.Segments, s)
		}
		line := out.Segments[start:]
		slices.SortStableFunc(line, func(a, b mappings.Segment) int { return int(a.GenColumn) - int(b.GenColumn) })
		out.Segments = out.Segments[:start+len(slices.Compact(line))]
		out.LineStart = append(out.LineStart, uint32(len(out.Segments)))
	}
	// Drop empty lines at the end; an empty map keeps one empty line.
	for len(out.LineStart) > 2 && out.LineStart[len(out.LineStart)-2] == out.LineStart[len(out.LineStart)-1] {
		out.LineStart = out.LineStart[:len(out.LineStart)-1]
	}
	if len(out.LineStart) == 1 {
		out.LineStart = append(out.LineStart, 0)
	}
	return out, nil
}
