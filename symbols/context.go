package symbols

import (
	"strings"
	"unicode/utf8"
)

// Ellipsis marks a context line that was cut.
const Ellipsis = "…"

// ContextLines returns up to radius lines on each side of line (1-based) of
// source, and the number of the first line returned. Lines longer than
// maxLineLen bytes (when maxLineLen > 0) are cut on a character boundary
// and end with Ellipsis, so a minified original cannot blow up an event.
// A line outside the source gives (0, nil).
func ContextLines(source string, line, radius, maxLineLen int) (first int, lines []string) {
	if line < 1 || radius < 0 {
		return 0, nil
	}
	first = max(1, line-radius)
	last := line + radius
	rest := source
	for n := 1; n < first; n++ {
		i := strings.IndexByte(rest, '\n')
		if i < 0 {
			return 0, nil
		}
		rest = rest[i+1:]
	}
	for n := first; n <= last; n++ {
		text, after, more := strings.Cut(rest, "\n")
		if !more && text == "" && n > first && rest == "" {
			break // the source ends with a newline: there is no line after it
		}
		lines = append(lines, cutLine(strings.TrimSuffix(text, "\r"), maxLineLen))
		if !more {
			break
		}
		rest = after
	}
	if line-first >= len(lines) {
		return 0, nil
	}
	return first, lines
}

func cutLine(text string, maxLen int) string {
	if maxLen <= 0 || len(text) <= maxLen {
		return text
	}
	end := maxLen
	for end > 0 && !utf8.RuneStart(text[end]) {
		end--
	}
	return text[:end] + Ellipsis
}
