package symbols

import (
	"bytes"
	"fmt"

	"github.com/stacklens/stacklens/event"
)

// DefaultMaxUploadBytes caps an uploaded source map and its minified file
// together, as PostHog caps a symbol set (100 MiB).
const DefaultMaxUploadBytes int64 = 100 << 20

// maxMappingGap is how far past the start of its mapping segment a frame's
// column may lie and still count as mapped. A call site is a token and
// bundlers emit a segment per token or so (esbuild's frames land exactly on
// one), while a frame of another build typically lands thousands of columns
// past the last segment of a short line.
const maxMappingGap = 100

// UploadProblem is why an upload was refused, as a sentence for people.
type UploadProblem struct {
	Message string
	// Code is a stable name for scripts ("content_hash_mismatch"); "" for
	// the browser's validation problems.
	Code string
	// Kind says what sort of refusal it is (ProblemInvalid by default).
	Kind ProblemKind
}

func (p *UploadProblem) Error() string { return p.Message }

func problemf(format string, args ...any) *UploadProblem {
	return &UploadProblem{Message: fmt.Sprintf(format, args...)}
}

// CheckedUpload is an upload that passed validation, with what the match
// check found: how many of the frames that use the symbol set map to
// nothing in the new map.
type CheckedUpload struct {
	Map       *SourceMap
	Frames    int
	Unmatched int
	// Examples describes up to three unmatched frames ("Og at app.js:5:38322").
	Examples []string
}

// Mismatch reports whether some frames map to nothing: the map probably
// belongs to another build.
func (c CheckedUpload) Mismatch() bool { return c.Unmatched > 0 }

// MismatchSentence says what the match check found, "" when all frames map.
func (c CheckedUpload) MismatchSentence() string {
	if !c.Mismatch() {
		return ""
	}
	verb := "map"
	if c.Frames == 1 {
		verb = "maps"
	}
	noun := "frames"
	if c.Frames == 1 {
		noun = "frame"
	}
	return fmt.Sprintf("%d of %d %s %s to nothing in this map: it is probably from another build.", c.Unmatched, c.Frames, noun, verb)
}

// ValidateUpload checks an uploaded source map (and, when given, the
// minified file it belongs to) before anything is replaced: size within
// maxBytes (0 means DefaultMaxUploadBytes), a parseable version 3 map with
// decodable mappings, and a match check against the frames that use the
// symbol set. A refusal is an *UploadProblem.
func ValidateUpload(sourceMap, minified []byte, frames []event.Frame, maxBytes int64) (CheckedUpload, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxUploadBytes
	}
	if len(bytes.TrimSpace(sourceMap)) == 0 {
		return CheckedUpload{}, problemf("The source map file is empty.")
	}
	if total := int64(len(sourceMap) + len(minified)); total > maxBytes {
		return CheckedUpload{}, problemf("The files are %s together; the limit is %s.", byteSize(total), byteSize(maxBytes))
	}
	m, err := ParseSourceMap(sourceMap)
	if err != nil {
		if looksLikeSourceMap(minified) && !looksLikeSourceMap(sourceMap) {
			return CheckedUpload{}, problemf("The two files seem swapped: the minified file field holds a source map. Choose the .map file as the source map.")
		}
		return CheckedUpload{}, problemf("This file is not a usable source map (%v). Upload the .map file your bundler wrote beside the minified file.", err)
	}
	if len(minified) > 0 && looksLikeSourceMap(minified) {
		return CheckedUpload{}, problemf("The minified file is a source map, not JavaScript. Choose the .js file the map belongs to, or leave that field empty.")
	}
	out := CheckedUpload{Map: m}
	lines := minifiedLines(minified)
	for _, f := range frames {
		if f.Lineno <= 0 {
			continue
		}
		out.Frames++
		if mapsToSomething(m, lines, f.Lineno, max(f.Colno-1, 0)) {
			continue
		}
		out.Unmatched++
		if len(out.Examples) < 3 {
			out.Examples = append(out.Examples, fmt.Sprintf("%s at %s:%d:%d", orUnknown(f.Function), orUnknown(firstOf(f.Filename, f.AbsPath)), f.Lineno, f.Colno))
		}
	}
	return out, nil
}

// mapsToSomething: the position has a mapping segment at or shortly before
// it that names a source, and lies within the minified file when one is given.
func mapsToSomething(m *SourceMap, lines [][]byte, line, column int) bool {
	if lines != nil && (line > len(lines) || column >= len(lines[line-1])) {
		return false
	}
	seg, ok := m.segmentAt(line, column)
	return ok && seg.Source >= 0 && column-int(seg.GenColumn) <= maxMappingGap
}

func minifiedLines(src []byte) [][]byte {
	if len(src) == 0 {
		return nil
	}
	lines := bytes.Split(src, []byte("\n"))
	for i, l := range lines {
		lines[i] = bytes.TrimSuffix(l, []byte("\r"))
	}
	return lines
}

// looksLikeSourceMap is a cheap sniff: a JSON object naming mappings.
func looksLikeSourceMap(b []byte) bool {
	t := bytes.TrimSpace(StripMapPrefix(bytes.TrimSpace(b)))
	return bytes.HasPrefix(t, []byte("{")) && (bytes.Contains(t, []byte(`"mappings"`)) || bytes.Contains(t, []byte(`"sections"`)))
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
