package symbols

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

func isASCIILetter(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentByte(c byte) bool {
	return isASCIILetter(c) || c >= '0' && c <= '9' || c == '$' || c == '_' || c == '\\'
}

// skipIdent returns the end of an identifier whose rest starts at i.
// Non-ASCII letters and \u escapes are part of identifiers.
func skipIdent(src string, i int) int {
	for i < len(src) {
		c := src[i]
		if c < utf8.RuneSelf {
			if !isIdentByte(c) {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(src[i:])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) || r == '\u200c' || r == '\u200d') {
			return i
		}
		i += size
	}
	return i
}

func skipLineComment(src string, i int) int {
	end := strings.IndexByte(src[i:], '\n')
	if end < 0 {
		return len(src)
	}
	return i + end
}

// skipString returns the end of the quoted string starting at i. An
// unescaped newline ends a broken string, so one bad quote cannot swallow
// the rest of the file.
func skipString(src string, i int) int {
	quote := src[i]
	i++
	for i < len(src) {
		switch src[i] {
		case '\\':
			i += 2
			continue
		case quote:
			return i + 1
		case '\n':
			return i
		}
		i++
	}
	return len(src)
}

func skipNumber(src string, i int) int {
	start := i
	for i < len(src) {
		c := src[i]
		switch {
		case c >= '0' && c <= '9' || isASCIILetter(c) || c == '_' || c == '.':
			i++
		case (c == '+' || c == '-') && (src[i-1] == 'e' || src[i-1] == 'E') && !isHexPrefix(src[start:i]):
			i++
		default:
			return i
		}
	}
	return i
}

func isHexPrefix(num string) bool {
	return len(num) > 1 && num[0] == '0' && (num[1] == 'x' || num[1] == 'X')
}

// skipRegex returns the end of the regular expression literal starting at
// i (with its flags); ok is false when the line ends first, meaning the '/'
// was a division after all.
func skipRegex(src string, i int) (end int, ok bool) {
	inClass := false
	for i++; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case '\n', '\r':
			return 0, false
		case '[':
			inClass = true
		case ']':
			inClass = false
		case '/':
			if !inClass {
				return skipIdent(src, i+1), true
			}
		}
	}
	return 0, false
}

func lineStarts(src string) []int {
	starts := make([]int, 1, 1+strings.Count(src, "\n"))
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

func lineEnd(src string, i int) int {
	if end := strings.IndexByte(src[i:], '\n'); end >= 0 {
		return i + end
	}
	return len(src)
}
