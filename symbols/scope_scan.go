package symbols

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A small JavaScript tokenizer that finds function scopes. It understands
// enough of the language to never lose track of braces: strings, template
// literals with nested ${}, comments, regular expression literals (decided
// from the previous token, as a parser would) and identifiers. It is not a
// parser: it recognises the shapes minifiers and people write functions in —
// `function NAME(`, methods `NAME(...){`, `NAME=function(`, `NAME:function(`,
// `NAME=(...)=>`, `NAME=x=>` — and gives up quietly on anything else.

type tokenKind uint8

const (
	tokIdent tokenKind = iota
	tokPunct
	tokString
	tokTemplate
	tokRegex
	tokNumber
)

type jsToken struct {
	start, end int
	kind       tokenKind
	match      int // for ')' and ']': index of the matching opener, else -1
}

// funcScope is one function body: [open, close) in bytes. head is the byte
// offset of the token that names the function (its name, the identifier it
// is assigned to, or for anonymous functions the `function` keyword or the
// parameter list); kind tells which.
type funcScope struct {
	open, close int
	head        int
	kind        nameKind
}

type nameKind uint8

const (
	anonymous nameKind = iota
	declared           // function NAME(, or a method NAME(
	assigned           // NAME = function / NAME: function / NAME = () =>
)

func (s funcScope) named() bool { return s.kind != anonymous }

// scopeIndex is the result of scanning one file.
type scopeIndex struct {
	scopes     []funcScope // in order of open
	lineStarts []int
	src        string
}

type scopeScanner struct {
	src    string
	toks   []jsToken
	scopes []funcScope
	// openers holds token indices of unclosed '(' and '['.
	openers []int
	braces  []braceFrame
	arrows  []arrowFrame
	depth   int
	// pendingArrow is the scope of an `=>` whose body starts at the next token.
	pendingArrow int
	// pendingBlock is the scope of an arrow whose body is the next '{'.
	pendingBlock int
	// noRegexBefore is the end of a line where a regex scan already failed.
	noRegexBefore int
}

type braceFrame struct {
	scope    int // function scope this brace opens, or -1
	template bool
}

type arrowFrame struct{ scope, depth int }

func scanScopes(src string) *scopeIndex {
	s := &scopeScanner{src: src, pendingArrow: -1, pendingBlock: -1}
	s.run()
	for i := range s.scopes {
		if s.scopes[i].close == 0 {
			s.scopes[i].close = len(src)
		}
		if s.scopes[i].kind == assigned && invokedAt(src, s.scopes[i].close) {
			// `x = function(){…}()` stores what the function returns: the
			// function itself is anonymous, as JavaScript names it.
			s.scopes[i].kind = anonymous
		}
	}
	sort.SliceStable(s.scopes, func(i, j int) bool { return s.scopes[i].open < s.scopes[j].open })
	return &scopeIndex{scopes: s.scopes, lineStarts: lineStarts(src), src: src}
}

// invokedAt reports a call right after a function body that ends at end
// (`}()`, `})()`, `}.call(`, `}.apply(`).
func invokedAt(src string, end int) bool {
	if end < 1 || end > len(src) || src[end-1] != '}' {
		return false
	}
	for end = skipSpace(src, end); end < len(src) && src[end] == ')'; {
		end = skipSpace(src, end+1)
	}
	rest := src[end:]
	return strings.HasPrefix(rest, "(") || strings.HasPrefix(rest, ".call(") || strings.HasPrefix(rest, ".apply(")
}

func (s *scopeScanner) run() {
	src := s.src
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			i++
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			i = skipLineComment(src, i)
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return
			}
			i += end + 4
		case c == '"' || c == '\'':
			end := skipString(src, i)
			s.emit(i, end, tokString)
			i = end
		case c == '`':
			i = s.template(i, i+1)
		case c == '#' || c == '$' || c == '_' || c == '\\' || isASCIILetter(c):
			end := skipIdent(src, i+1)
			s.emit(i, end, tokIdent)
			i = end
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			end := skipNumber(src, i)
			s.emit(i, end, tokNumber)
			i = end
		case c == '/' && i >= s.noRegexBefore && s.regexAllowed():
			end, ok := skipRegex(src, i)
			if !ok {
				// Treat the rest of the line as regex-free, so junk full of
				// slashes costs linear, not quadratic, time.
				s.noRegexBefore = lineEnd(src, i)
				s.emit(i, i+1, tokPunct)
				i++
				continue
			}
			s.emit(i, end, tokRegex)
			i = end
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(src[i:])
			if unicode.IsSpace(r) || r == '\ufeff' {
				i += size
				continue
			}
			end := skipIdent(src, i+size)
			s.emit(i, end, tokIdent)
			i = end
		case c == '=' && i+1 < len(src) && src[i+1] == '>':
			s.emit(i, i+2, tokPunct)
			s.arrow()
			i += 2
		case c == '}':
			i = s.closeBrace(i)
		default:
			s.punct(i)
			i++
		}
	}
}

// emit records a token and starts the expression body of a pending arrow.
func (s *scopeScanner) emit(start, end int, kind tokenKind) {
	if n := len(s.arrows); n > 0 && s.arrows[n-1].depth == s.depth && kind == tokIdent && len(s.toks) > 0 {
		prevEnd := s.toks[len(s.toks)-1].end
		if strings.IndexByte(s.src[prevEnd:start], '\n') >= 0 && statementStarters[s.src[start:end]] {
			s.closeArrows(prevEnd)
		}
	}
	if s.pendingArrow >= 0 {
		scope := s.pendingArrow
		s.pendingArrow = -1
		if !(kind == tokPunct && s.src[start] == '{') {
			s.scopes[scope].open = start
			s.arrows = append(s.arrows, arrowFrame{scope: scope, depth: s.depth})
		} else {
			s.pendingBlock = scope
		}
	}
	s.toks = append(s.toks, jsToken{start: start, end: end, kind: kind, match: -1})
}

func (s *scopeScanner) punct(i int) {
	c := s.src[i]
	switch c {
	case ',', ';', ')', ']':
		s.closeArrows(i)
	}
	s.emit(i, i+1, tokPunct)
	k := len(s.toks) - 1
	switch c {
	case '(', '[':
		s.openers = append(s.openers, k)
		s.depth++
	case ')', ']':
		if n := len(s.openers); n > 0 {
			s.toks[k].match = s.openers[n-1]
			s.openers = s.openers[:n-1]
		}
		s.depth--
	case '{':
		scope := s.pendingBlock
		s.pendingBlock = -1
		if scope < 0 {
			scope = s.functionBefore(k)
		}
		if scope >= 0 {
			s.scopes[scope].open = i
		}
		s.braces = append(s.braces, braceFrame{scope: scope})
		s.depth++
	}
}

func (s *scopeScanner) closeBrace(i int) int {
	s.closeArrows(i)
	n := len(s.braces)
	if n == 0 {
		s.emit(i, i+1, tokPunct)
		return i + 1
	}
	top := s.braces[n-1]
	s.braces = s.braces[:n-1]
	s.depth--
	if top.template {
		return s.template(i, i+1)
	}
	s.emit(i, i+1, tokPunct)
	if top.scope >= 0 {
		s.scopes[top.scope].close = i + 1
	}
	return i + 1
}

// closeArrows ends the expression-bodied arrows whose body cannot extend
// past a ',' or ';' at the current depth or a closer leaving it.
func (s *scopeScanner) closeArrows(at int) {
	for n := len(s.arrows); n > 0 && s.arrows[n-1].depth >= s.depth; n = len(s.arrows) {
		s.scopes[s.arrows[n-1].scope].close = at
		s.arrows = s.arrows[:n-1]
	}
}

// template scans template text from i (just after '`' or the '}' closing a
// substitution) up to the closing '`' or the next "${".
func (s *scopeScanner) template(tokStart, i int) int {
	src := s.src
	for i < len(src) {
		switch src[i] {
		case '\\':
			i += 2
			continue
		case '`':
			s.emit(tokStart, i+1, tokTemplate)
			return i + 1
		case '$':
			if i+1 < len(src) && src[i+1] == '{' {
				s.emit(tokStart, i+2, tokTemplate)
				s.braces = append(s.braces, braceFrame{scope: -1, template: true})
				s.depth++
				return i + 2
			}
		}
		i++
	}
	return len(src)
}

// regexAllowed tells a regular expression literal from a division by the
// previous token, as the grammar does.
func (s *scopeScanner) regexAllowed() bool {
	if len(s.toks) == 0 {
		return true
	}
	t := s.toks[len(s.toks)-1]
	switch t.kind {
	case tokNumber, tokString, tokRegex:
		return false
	case tokTemplate:
		return s.src[t.end-1] == '{' // after "${"
	case tokIdent:
		return regexKeywords[s.src[t.start:t.end]]
	}
	c := s.src[t.start]
	return c != ')' && c != ']'
}

var regexKeywords = map[string]bool{
	"return": true, "typeof": true, "instanceof": true, "in": true, "of": true, "new": true,
	"delete": true, "void": true, "throw": true, "case": true, "do": true, "else": true,
	"yield": true, "await": true,
}

// arrow records the function scope of the `=>` just emitted.
func (s *scopeScanner) arrow() {
	k := len(s.toks) - 1
	p := k - 1
	if p < 0 {
		return
	}
	start := -1
	if close := s.skipReturnType(p); close >= 0 {
		start = s.toks[close].match // (a: T): R => in TypeScript
	} else if s.isPunct(p, ')') {
		start = s.toks[p].match
	} else if s.toks[p].kind == tokIdent {
		start = p
	}
	if start < 0 {
		return
	}
	if start > 0 && s.isIdent(start-1, "async") {
		start--
	}
	kind := anonymous
	head, ok := s.assignedName(start)
	if ok {
		kind = assigned
	} else {
		head = s.toks[start].start
	}
	s.scopes = append(s.scopes, funcScope{open: s.toks[k].end, head: head, kind: kind})
	s.pendingArrow = len(s.scopes) - 1
}

// functionBefore decides whether the '{' at token k opens a function body
// and records the scope; it returns the scope index or -1.
func (s *scopeScanner) functionBefore(k int) int {
	p := k - 1
	if p < 0 {
		return -1
	}
	if close := s.skipReturnType(p); close >= 0 {
		p = close // function f(a: T): R { in TypeScript
	}
	if !s.isPunct(p, ')') {
		return -1
	}
	q := s.toks[p].match
	if q < 1 {
		return -1
	}
	b := q - 1
	t := s.toks[b]
	var head int
	kind := anonymous
	switch {
	case s.isIdent(b, "function") || s.isPunct(b, '*') && b > 0 && s.isIdent(b-1, "function"):
		start := b
		if s.isPunct(b, '*') {
			start--
		}
		if start > 0 && s.isIdent(start-1, "async") {
			start--
		}
		var ok bool
		if head, ok = s.assignedName(start); ok {
			kind = assigned
		} else {
			head = s.toks[start].start
		}
	case t.kind == tokIdent:
		if controlKeywords[s.src[t.start:t.end]] {
			return -1
		}
		// `function NAME(` or a method `NAME(`.
		head, kind = t.start, declared
	case t.kind == tokString:
		head, kind = t.start, declared
	case s.isPunct(b, ']'):
		head = s.toks[q].start // computed method name: anonymous
	default:
		return -1
	}
	s.scopes = append(s.scopes, funcScope{head: head, kind: kind})
	return len(s.scopes) - 1
}

var controlKeywords = map[string]bool{
	"if": true, "for": true, "while": true, "switch": true, "catch": true, "with": true,
	"return": true, "typeof": true, "void": true, "await": true, "yield": true, "new": true,
}

// assignedName finds `NAME =` or `NAME:` (in an object literal) right
// before token start: anonymous functions take the name they are stored in.
func (s *scopeScanner) assignedName(start int) (int, bool) {
	// `x = (function(){…})` names the function x as well.
	for start >= 1 && s.isPunct(start-1, '(') {
		start--
	}
	if start < 2 {
		return 0, false
	}
	op := s.toks[start-1]
	if op.kind != tokPunct {
		return 0, false
	}
	name := s.toks[start-2]
	if name.kind != tokIdent && name.kind != tokString {
		return 0, false
	}
	switch s.src[op.start] {
	case '=':
		if name.kind != tokIdent {
			return 0, false
		}
		if typed, ok := s.typedDeclaration(start - 2); ok {
			return typed, true
		}
	case ':':
		// Only a property, not the middle of `cond ? a : b`.
		if start < 3 || !(s.isPunct(start-3, '{') || s.isPunct(start-3, ',')) {
			return 0, false
		}
	default:
		return 0, false
	}
	return name.start, true
}

func (s *scopeScanner) isPunct(k int, c byte) bool {
	t := s.toks[k]
	return t.kind == tokPunct && t.end-t.start == 1 && s.src[t.start] == c
}

func (s *scopeScanner) isIdent(k int, word string) bool {
	t := s.toks[k]
	return t.kind == tokIdent && s.src[t.start:t.end] == word
}

// typeTokens may appear in a simple TypeScript type annotation.
func (s *scopeScanner) isTypeToken(k int) bool {
	t := s.toks[k]
	if t.kind == tokIdent {
		return true
	}
	if t.kind != tokPunct || t.end-t.start != 1 {
		return false
	}
	return strings.IndexByte(".<>[]|&,?", s.src[t.start]) >= 0
}

// skipReturnType recognises `) : Type` ending at token p (a TypeScript
// return type) and returns the index of that ')', or -1.
func (s *scopeScanner) skipReturnType(p int) int {
	for k := p; k > 0 && p-k < 24; k-- {
		if s.isPunct(k, ':') {
			if k < p && s.isPunct(k-1, ')') {
				return k - 1
			}
			return -1
		}
		if !s.isTypeToken(k) {
			return -1
		}
	}
	return -1
}

// typedDeclaration recognises `const NAME: Type =` where last is the last
// token of the type, and returns NAME's offset.
func (s *scopeScanner) typedDeclaration(last int) (int, bool) {
	for k := last; k > 1 && last-k < 24; k-- {
		if s.isPunct(k, ':') {
			if k == last || s.toks[k-1].kind != tokIdent {
				return 0, false
			}
			if k >= 2 && !declarationStarters[s.src[s.toks[k-2].start:s.toks[k-2].end]] {
				return 0, false
			}
			return s.toks[k-1].start, true
		}
		if !s.isTypeToken(k) {
			return 0, false
		}
	}
	return 0, false
}

var declarationStarters = map[string]bool{
	"const": true, "let": true, "var": true, "readonly": true, "private": true,
	"public": true, "protected": true, "static": true, ";": true, "{": true, "}": true,
}

// statementStarters begin a new statement after a line break, which ends an
// expression-bodied arrow written without a semicolon.
var statementStarters = map[string]bool{
	"const": true, "let": true, "var": true, "function": true, "class": true, "export": true,
	"import": true, "return": true, "if": true, "for": true, "while": true, "do": true,
	"switch": true, "try": true, "throw": true, "interface": true, "type": true,
}
