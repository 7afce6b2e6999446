package symbols

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// EnclosingFunction returns the original name of the function containing a
// generated position (line 1-based, column 0-based), or "" when it cannot
// tell or the function is anonymous (the caller then shows the minified name).
//
// The name a mapping carries at a frame's position is usually the callee's
// (the frame points at a call), so it is not used. Two views are combined:
//
//   - the original source (sourcesContent): the innermost function around
//     the frame's original position, named as that source declares it;
//   - the minified file: the innermost function around the frame there,
//     named by where its name token maps (the mapping's name, the original
//     text there, or, when the map has neither, the minified text).
//
// The original source's own declaration wins when it is there: minifiers
// inline functions into others (the minified function is then the outer
// one, or not in that file at all) and bundlers map names they made up
// (`arrayAggregator_default` for `function arrayAggregator(`). The minified
// view wins only where the original scan found nothing, or where the
// minified function is declared inside the original one before the frame
// (a nested function the scan did not recognise, e.g. behind a Flow or
// TypeScript generic).
func (m *SourceMap) EnclosingFunction(minified string, line, column int) string {
	frame, ok := m.segmentAt(line, column)
	if !ok || frame.Source < 0 {
		return ""
	}
	var mf minifiedFunction
	if minified != "" {
		mf = m.minifiedFunctionAt(minified, line, column)
	}
	orig, at, haveOriginal := m.originalOffset(frame)
	if !haveOriginal {
		// No original text: only the minified view, unless the function it
		// finds is not where the frame is in the original (inlined).
		if !mf.found || mf.inlinedAt(frame) {
			return ""
		}
		return m.minifiedName(mf, true)
	}
	scope, inside := orig.innermost(at)
	if mf.found && mf.mapped && !mf.inlinedAt(frame) {
		head, ok := orig.offset(int(mf.head.OrigLine)+1, int(mf.head.OrigColumn))
		if ok && (!inside || scope.open < head && head < scope.close) {
			return m.minifiedName(mf, false)
		}
	}
	if !inside || !scope.named() {
		return ""
	}
	return nameTokenAt(orig.src, scope.head)
}

// minifiedFunction is the innermost function scope around a position of a
// minified file, and where its name token maps.
type minifiedFunction struct {
	found bool
	kind  nameKind
	text  string // the name token as written in the minified file; "" if anonymous
	// mapped: a segment starts at the name token (or, for an anonymous
	// function, at its head) and maps into a source; head is that segment.
	mapped bool
	head   segment
}

func (m *SourceMap) minifiedFunctionAt(minified string, line, column int) minifiedFunction {
	idx := m.minifiedScopes(minified)
	off, ok := idx.offset(line, column)
	if !ok {
		return minifiedFunction{}
	}
	scope, ok := idx.innermost(off)
	if !ok {
		return minifiedFunction{}
	}
	f := minifiedFunction{found: true, kind: scope.kind}
	if scope.named() {
		f.text = nameTokenAt(minified, scope.head)
	}
	headLine, headColumn := idx.position(scope.head)
	// A segment that starts before the head belongs to some other token.
	if seg, ok := m.segmentAt(headLine, headColumn); ok && seg.Source >= 0 && int(seg.GenColumn) == headColumn {
		f.mapped, f.head = true, seg
	}
	return f
}

// inlinedAt reports that the minified function cannot be the one the frame
// is in originally: its name maps into another source, or after the frame.
// A minifier moved the frame's code into it.
func (f minifiedFunction) inlinedAt(frame segment) bool {
	if !f.mapped {
		return false
	}
	if f.head.Source != frame.Source {
		return true
	}
	return f.head.OrigLine > frame.OrigLine || f.head.OrigLine == frame.OrigLine && f.head.OrigColumn > frame.OrigColumn
}

// minifiedName is the original name of a minified function: the original
// text at its name token's mapped position (the source's own declaration),
// else the mapping's name. Without either, and when minifiedText allows it
// (the map has no text for the frame's source), the minified name token
// itself: minifiers map the names they rename, so one without a mapped
// name is as the source wrote it (`t.polyline=function(` → polyline).
func (m *SourceMap) minifiedName(f minifiedFunction, minifiedText bool) string {
	if f.mapped {
		if orig := m.originalScopes(int(f.head.Source)); orig != nil {
			if at, ok := orig.offset(int(f.head.OrigLine)+1, int(f.head.OrigColumn)); ok {
				if !f.kindNamed() {
					// The head of an anonymous function is its `function`
					// keyword or its parameters: only `function NAME(` in the
					// original names it (a minifier dropped the name).
					if !hasFunctionKeyword(orig.src, at) {
						return ""
					}
					return functionNameAt(orig.src, at)
				}
				if name := functionNameAt(orig.src, at); name != "" {
					return name
				}
			}
		}
		// A name mapped at an anonymous head would be a parameter's.
		if f.kindNamed() && f.head.Name >= 0 {
			return m.names[f.head.Name]
		}
	}
	if minifiedText && f.kindNamed() && !reservedWords[f.text] {
		return f.text
	}
	return ""
}

func (f minifiedFunction) kindNamed() bool { return f.kind != anonymous }

// functionNameFromMinified is the minified view alone (see
// EnclosingFunction), for tests that check it holds on its own.
func (m *SourceMap) functionNameFromMinified(minified string, line, column int) (string, nameKind) {
	f := m.minifiedFunctionAt(minified, line, column)
	if !f.found {
		return "", anonymous
	}
	frame, ok := m.segmentAt(line, column)
	if ok && frame.Source >= 0 && f.inlinedAt(frame) {
		return "", f.kind
	}
	_, _, haveOriginal := m.originalOffset(frame)
	return m.minifiedName(f, !haveOriginal), f.kind
}

func hasFunctionKeyword(src string, off int) bool {
	off = skipSpace(src, off)
	if end := identEnd(src, off); src[off:end] == "async" {
		off = skipSpace(src, end)
	}
	return src[off:identEnd(src, off)] == "function"
}

// originalOffset finds the frame's original position in its source's
// text; ok is false when the map carries no text for that source.
func (m *SourceMap) originalOffset(frame segment) (orig *scopeIndex, at int, ok bool) {
	if frame.Source < 0 {
		return nil, 0, false
	}
	orig = m.originalScopes(int(frame.Source))
	if orig == nil {
		return nil, 0, false
	}
	at, ok = orig.offset(int(frame.OrigLine)+1, int(frame.OrigColumn))
	return orig, at, ok
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
