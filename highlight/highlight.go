// Package highlight turns source code into syntax-highlighted HTML, one
// balanced HTML fragment per source line, using chroma's lexers and CSS
// classes (the colours live in static/app.css, see CSS).
//
// A file is tokenised as a whole, never as a window of lines: a window that
// starts inside a block comment or template literal would be mis-tokenised.
package highlight

import (
	"html/template"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/lexers"
)

// MaxLineRunes is the longest line rendered; longer lines (minified bundles)
// are cut and end with an ellipsis.
const MaxLineRunes = 500

// ellipsis marks a line cut at MaxLineRunes.
const ellipsis = "…"

// Lines highlights a whole source file and returns one HTML fragment per
// line. A trailing newline does not start an extra line. The fragments are
// safe as element content (not as attribute values). The lexer is chosen
// from filename (a path or URL), else from the content, else plain text.
func Lines(filename, source string) []template.HTML {
	if source == "" {
		return nil
	}
	source = strings.ReplaceAll(source, "\r\n", "\n")
	source = strings.TrimSuffix(source, "\n")
	return render(filename, strings.Split(source, "\n"))
}

// Snippet highlights lines sent by a client as context around a frame. It
// returns exactly one fragment per element of lines.
func Snippet(filename string, lines []string) []template.HTML {
	if len(lines) == 0 {
		return nil
	}
	clean := make([]string, len(lines))
	for i, l := range lines {
		// A line must not contain a line break, or the output would no
		// longer line up with the input.
		clean[i] = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(l)
	}
	return render(filename, clean)
}

// render tokenises lines joined by "\n" and splits the tokens back into
// lines. It always returns len(lines) fragments.
func render(filename string, lines []string) []template.HTML {
	for i, l := range lines {
		lines[i] = cut(l)
	}
	source := strings.Join(lines, "\n")
	out := make([]template.HTML, 0, len(lines))

	var line strings.Builder
	flush := func() {
		out = append(out, template.HTML(line.String()))
		line.Reset()
	}
	it, err := lexerFor(filename, source).Tokenise(nil, source)
	if err != nil {
		return plain(lines)
	}
	for tok := it(); tok != chroma.EOF; tok = it() {
		class := className(tok.Type)
		for i, part := range strings.Split(tok.Value, "\n") {
			if i > 0 {
				flush()
			}
			writeSpan(&line, class, part)
		}
	}
	if line.Len() > 0 || len(out) < len(lines) {
		flush()
	}
	// Lexers may add a final newline (EnsureNL); drop what lies beyond the
	// input and pad if a lexer swallowed text.
	for len(out) > len(lines) && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	if len(out) != len(lines) {
		return plain(lines)
	}
	return out
}

func writeSpan(b *strings.Builder, class, text string) {
	if text == "" {
		return
	}
	if class == "" {
		b.WriteString(escapeText(text))
		return
	}
	b.WriteString(`<span class="`)
	b.WriteString(class)
	b.WriteString(`">`)
	b.WriteString(escapeText(text))
	b.WriteString(`</span>`)
}

// escapeText escapes text for element content: quotes stay as they are so
// the code reads the same in the page source as on screen. The fragments
// are never meant for attribute values.
func escapeText(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// plain escapes lines without highlighting: the fallback when a lexer fails.
func plain(lines []string) []template.HTML {
	out := make([]template.HTML, len(lines))
	for i, l := range lines {
		out[i] = template.HTML(escapeText(l))
	}
	return out
}

// cut shortens a line to MaxLineRunes runes plus an ellipsis.
func cut(line string) string {
	if utf8.RuneCountInString(line) <= MaxLineRunes {
		return line
	}
	n := 0
	for i := range line {
		if n == MaxLineRunes {
			return line[:i] + ellipsis
		}
		n++
	}
	return line
}

// lexerFor picks a lexer by file name, then by content, then plain text.
func lexerFor(filename, source string) chroma.Lexer {
	var lexer chroma.Lexer
	if name := baseName(filename); name != "" {
		lexer = lexers.Match(name)
	}
	if lexer == nil {
		lexer = shebangLexer(source)
	}
	if lexer == nil {
		lexer = lexers.Analyse(source)
	}
	if lexer == nil {
		lexer = lexers.Fallback
	}
	return chroma.Coalesce(lexer)
}

// shebangLexer picks a lexer from a "#!" first line: "#!/usr/bin/env
// python3" → Python, "#!/usr/bin/node" → JavaScript. Few chroma lexers
// analyse content, so this catches extensionless scripts.
func shebangLexer(source string) chroma.Lexer {
	first, _, _ := strings.Cut(source, "\n")
	rest, ok := strings.CutPrefix(first, "#!")
	if !ok {
		return nil
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return nil
	}
	interp := path.Base(fields[0])
	if interp == "env" && len(fields) > 1 {
		interp = fields[1]
	}
	interp = strings.TrimRight(interp, "0123456789.")
	if interp == "node" || interp == "deno" || interp == "bun" {
		interp = "javascript"
	}
	return lexers.Get(interp)
}

// baseName reduces a path or URL ("webpack:///src/app.js?v=3#x") to its last
// element ("app.js").
func baseName(filename string) string {
	if i := strings.IndexAny(filename, "?#"); i >= 0 {
		filename = filename[:i]
	}
	filename = strings.TrimRight(filename, "/")
	if filename == "" {
		return ""
	}
	return path.Base(filename)
}

// className is chroma's short CSS class for a token type, walking up to the
// parent category when the type has none of its own ("" for plain text).
func className(t chroma.TokenType) string {
	for t != 0 {
		if cls, ok := chroma.StandardTypes[t]; ok {
			return cls
		}
		t = t.Parent()
	}
	return chroma.StandardTypes[t]
}
