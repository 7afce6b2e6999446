package symbols

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// EnclosingFunction returns the original name of the function containing a
// generated position (line 1-based, column 0-based), or "" when it cannot
// tell (the caller then shows the minified name).
//
// The name a mapping carries at a frame's position is usually the callee's
// (the frame points at a call), so it is not used. Instead, with the
// minified source, we find the innermost function scope around the position
// and map the position of that scope's name token: its mapping name, or the
// identifier at its original position, is the original function name.
// Without minified source (or when that fails) we find the innermost
// function around the original position in sourcesContent.
func (m *SourceMap) EnclosingFunction(minified string, line, column int) string {
	fromMinified, kind := "", anonymous
	if minified != "" {
		fromMinified, kind = m.functionNameFromMinified(minified, line, column)
		if kind == declared && fromMinified != "" {
			// A declared name token maps precisely to the original name.
			return fromMinified
		}
	}
	// A name the minified code assigned (often a property the bundler
	// inlined the function into) is second best to the original source.
	if name := m.functionNameFromOriginal(line, column); name != "" {
		return name
	}
	return fromMinified
}

// functionNameFromMinified maps the name token of the innermost function
// around the position in the minified source.
func (m *SourceMap) functionNameFromMinified(minified string, line, column int) (string, nameKind) {
	idx := m.minifiedScopes(minified)
	off, ok := idx.offset(line, column)
	if !ok {
		return "", anonymous
	}
	scope, ok := idx.innermost(off)
	if !ok {
		return "", anonymous
	}
	headLine, headColumn := idx.position(scope.head)
	seg, ok := m.segmentAt(headLine, headColumn)
	// A segment that starts before the head belongs to some other token.
	if !ok || seg.Source < 0 || int(seg.GenColumn) != headColumn {
		return "", scope.kind
	}
	// The head of an anonymous function is its `function` keyword or its
	// parameters: a name mapped there would be a parameter's.
	if seg.Name >= 0 && scope.named() {
		return m.names[seg.Name], scope.kind
	}
	orig := m.originalScopes(int(seg.Source))
	if orig == nil {
		return "", scope.kind
	}
	at, ok := orig.offset(int(seg.OrigLine)+1, int(seg.OrigColumn))
	if !ok {
		return "", scope.kind
	}
	if !scope.named() {
		// Only `function NAME(` in the original names an anonymous head.
		if !hasFunctionKeyword(orig.src, at) {
			return "", anonymous
		}
		return functionNameAt(orig.src, at), declared
	}
	return functionNameAt(orig.src, at), scope.kind
}

func hasFunctionKeyword(src string, off int) bool {
	off = skipSpace(src, off)
	if end := identEnd(src, off); src[off:end] == "async" {
		off = skipSpace(src, end)
	}
	return src[off:identEnd(src, off)] == "function"
}

func (m *SourceMap) functionNameFromOriginal(line, column int) string {
	seg, ok := m.segmentAt(line, column)
	if !ok || seg.Source < 0 {
		return ""
	}
	orig := m.originalScopes(int(seg.Source))
	if orig == nil {
		return ""
	}
	off, ok := orig.offset(int(seg.OrigLine)+1, int(seg.OrigColumn))
	if !ok {
		return ""
	}
	scope, ok := orig.innermost(off)
	if !ok || !scope.named() {
		return ""
	}
	return nameTokenAt(orig.src, scope.head)
}

func (m *SourceMap) minifiedScopes(minified string) *scopeIndex {
	c := &m.scopes
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.minScopes == nil || c.minified != minified {
		c.minified, c.minScopes = minified, scanScopes(minified)
	}
	return c.minScopes
}

// originalScopes scans the content of source i once; nil without content.
func (m *SourceMap) originalScopes(i int) *scopeIndex {
	c := &m.scopes
	c.mu.Lock()
	defer c.mu.Unlock()
	if idx, ok := c.originals[i]; ok {
		return idx
	}
	var idx *scopeIndex
	if content, ok := m.SourceContent(i); ok {
		idx = scanScopes(content)
	}
	if c.originals == nil {
		c.originals = make(map[int]*scopeIndex)
	}
	c.originals[i] = idx
	return idx
}

// declarationWords may stand between the start of a declaration and its name.
var declarationWords = map[string]bool{
	"export": true, "default": true, "async": true, "function": true, "static": true,
	"get": true, "set": true, "public": true, "private": true, "protected": true, "override": true,
}

// functionNameAt reads a function name at off in original source: an
// identifier, possibly after `export default async function*` and the like.
func functionNameAt(src string, off int) string {
	for range 6 {
		off = skipSpace(src, off)
		if off >= len(src) {
			return ""
		}
		if src[off] == '*' {
			off++
			continue
		}
		end := identEnd(src, off)
		if end == off {
			return nameTokenAt(src, off) // maybe a quoted method name
		}
		word := src[off:end]
		if !declarationWords[word] {
			if reservedWords[word] {
				return ""
			}
			return word
		}
		off = end
	}
	return ""
}

// nameTokenAt returns the identifier or quoted string at off.
func nameTokenAt(src string, off int) string {
	if off >= len(src) {
		return ""
	}
	if c := src[off]; c == '"' || c == '\'' {
		end := skipString(src, off)
		if end-off >= 2 && src[end-1] == c {
			return src[off+1 : end-1]
		}
		return ""
	}
	return src[off:identEnd(src, off)]
}

func identEnd(src string, off int) int {
	if off >= len(src) {
		return off
	}
	c := src[off]
	if c == '#' || c == '$' || c == '_' || isASCIILetter(c) || c >= utf8.RuneSelf {
		return skipIdent(src, off+1)
	}
	return off
}

func skipSpace(src string, off int) int {
	for off < len(src) && strings.IndexByte(" \t\r\n\v\f", src[off]) >= 0 {
		off++
	}
	return off
}

var reservedWords = map[string]bool{
	"class": true, "new": true, "return": true, "if": true, "for": true, "while": true, "var": true,
	"let": true, "const": true, "this": true, "super": true, "throw": true, "typeof": true, "void": true,
	"await": true, "yield": true, "import": true, "switch": true, "case": true, "try": true, "catch": true,
}

// innermost returns the function scope with the latest start containing off.
func (x *scopeIndex) innermost(off int) (funcScope, bool) {
	// scopes are ordered by open; nested scopes open later than their parent.
	i := sort.Search(len(x.scopes), func(i int) bool { return x.scopes[i].open > off })
	for i--; i >= 0; i-- {
		if s := x.scopes[i]; s.open <= off && off < s.close {
			return s, true
		}
	}
	return funcScope{}, false
}

// offset converts a 1-based line and a 0-based UTF-16 column (what source
// maps and JS engines count) to a byte offset.
func (x *scopeIndex) offset(line, column int) (int, bool) {
	if line < 1 || line > len(x.lineStarts) || column < 0 {
		return 0, false
	}
	off := x.lineStarts[line-1]
	for units := 0; units < column; {
		if off >= len(x.src) || x.src[off] == '\n' {
			return 0, false
		}
		c := x.src[off]
		if c < utf8.RuneSelf {
			off++
			units++
			continue
		}
		r, size := utf8.DecodeRuneInString(x.src[off:])
		off += size
		units++
		if r >= 0x10000 {
			units++
		}
	}
	return off, true
}

// position converts a byte offset to a 1-based line and 0-based UTF-16 column.
func (x *scopeIndex) position(off int) (line, column int) {
	line = sort.Search(len(x.lineStarts), func(i int) bool { return x.lineStarts[i] > off })
	for _, r := range x.src[x.lineStarts[line-1]:off] {
		column++
		if r >= 0x10000 {
			column++
		}
	}
	return line, column
}
