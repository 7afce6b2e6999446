package highlight

import (
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// lineText checks that one line's HTML is balanced (it parses as XML inside
// a wrapper element) and returns its text with the markup removed.
func lineText(t *testing.T, h template.HTML) string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader("<line>" + string(h) + "</line>"))
	dec.Strict = true
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return text.String()
		}
		if err != nil {
			t.Fatalf("line HTML is not balanced: %v\n%s", err, h)
		}
		switch tok := tok.(type) {
		case xml.CharData:
			text.Write(tok)
		case xml.StartElement:
			if tok.Name.Local != "line" && tok.Name.Local != "span" {
				t.Fatalf("unexpected element <%s> in %s", tok.Name.Local, h)
			}
		}
	}
}

// assertFaithful checks every line is balanced and shows exactly the source.
func assertFaithful(t *testing.T, want []string, got []template.HTML) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if text := lineText(t, got[i]); text != want[i] {
			t.Errorf("line %d text = %q, want %q (html %s)", i+1, text, want[i], got[i])
		}
	}
}

const jsSource = "// Application code\n" +
	"/* a block comment\n" +
	"   const notCode = 1;\n" +
	"   <b>still comment</b> */\n" +
	"function level3(tag) {\n" +
	"  const msg = `boom\n" +
	"<script>alert(\"x\")</script> ${tag}\n" +
	"end`;\n" +
	"  throw new Error('boom ' + tag && 1 < 2);\n" +
	"}\n" +
	"\n" +
	"\texport default level3;\n"

func TestLinesJavaScriptIsBalancedAndFaithful(t *testing.T) {
	got := Lines("http://127.0.0.1:8790/src/orders.js?v=3#top", jsSource)
	assertFaithful(t, strings.Split(strings.TrimSuffix(jsSource, "\n"), "\n"), got)
}

func TestLinesBlockCommentContinuesAcrossLines(t *testing.T) {
	got := Lines("orders.js", jsSource)
	for _, i := range []int{1, 2, 3} {
		if !strings.HasPrefix(string(got[i]), `<span class="cm">`) {
			t.Errorf("line %d should be all comment, got %s", i+1, got[i])
		}
		if strings.Contains(string(got[i]), `class="kd"`) || strings.Contains(string(got[i]), `class="kr"`) {
			t.Errorf("line %d inside a comment was tokenised as code: %s", i+1, got[i])
		}
	}
	if !strings.Contains(string(got[4]), `class="kd">function</span>`) {
		t.Errorf("line 5 should start a function declaration, got %s", got[4])
	}
}

func TestLinesTemplateLiteralContinuesAcrossLines(t *testing.T) {
	got := Lines("orders.js", jsSource)
	line7 := string(got[6])
	if !strings.HasPrefix(line7, `<span class="sb">&lt;script&gt;`) {
		t.Errorf("line 7 should continue the template literal, got %s", line7)
	}
	if !strings.Contains(string(got[7]), `<span class="sb">end`) {
		t.Errorf("line 8 should end the template literal, got %s", got[7])
	}
}

func TestLinesEscapesScript(t *testing.T) {
	for _, name := range []string{"page.html", "notes.txt", "orders.js", ""} {
		src := `<script>alert("x")</script> & <img src=x onerror=alert(1)>`
		got := Lines(name, src)
		assertFaithful(t, []string{src}, got)
		if strings.Contains(string(got[0]), "<script") || strings.Contains(string(got[0]), "<img") {
			t.Errorf("%q: markup not escaped: %s", name, got[0])
		}
	}
}

func TestLinesPython(t *testing.T) {
	src := "import os\n\n\ndef handler(event):\n    \"\"\"Process one\n    event.\"\"\"\n    raise ValueError(f\"bad {event!r}\")\n"
	got := Lines("app/handlers.py", src)
	assertFaithful(t, strings.Split(strings.TrimSuffix(src, "\n"), "\n"), got)
	if !strings.Contains(string(got[3]), `<span class="k">def</span>`) {
		t.Errorf("def not a keyword: %s", got[3])
	}
	if !strings.HasPrefix(string(got[5]), `<span class="s`) {
		t.Errorf("docstring continuation not a doc string: %s", got[5])
	}
}

func TestLinesGo(t *testing.T) {
	src := "package main\n\nfunc main() {\n\tpanic(fmt.Errorf(\"open %s: %w\", name, err))\n}\n"
	got := Lines("cmd/stacklens/main.go", src)
	assertFaithful(t, strings.Split(strings.TrimSuffix(src, "\n"), "\n"), got)
	if !strings.Contains(string(got[2]), `<span class="kd">func</span>`) {
		t.Errorf("func not a declaration keyword: %s", got[2])
	}
}

func TestLinesPicksLexerByContentWithoutExtension(t *testing.T) {
	src := "#!/usr/bin/env python3\ndef main():\n    pass\n"
	got := Lines("node:internal/bin", src)
	if !strings.Contains(string(got[1]), `<span class="k">def</span>`) {
		t.Errorf("python not detected from content: %s", got[1])
	}
	got = Lines("bin/serve", "#!/usr/bin/env node\nconst port = 8000;\n")
	if !strings.Contains(string(got[1]), `">const</span>`) {
		t.Errorf("node script not detected from its shebang: %s", got[1])
	}
}

func TestLinesPlainTextFallback(t *testing.T) {
	got := Lines("README", "just words\nand more")
	assertFaithful(t, []string{"just words", "and more"}, got)
}

func TestLinesLineCountEdgeCases(t *testing.T) {
	cases := []struct {
		src  string
		want []string
	}{
		{"", nil},
		{"\n", []string{""}},
		{"a", []string{"a"}},
		{"a\n\n", []string{"a", ""}},
		{"a\r\nb\r\n", []string{"a", "b"}},
		{"\n\nx", []string{"", "", "x"}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%q", c.src), func(t *testing.T) {
			assertFaithful(t, c.want, Lines("x.js", c.src))
		})
	}
}

func TestLinesCutsLongLines(t *testing.T) {
	long := "var a=" + strings.Repeat("x", 1000) + ";"
	got := Lines("bundle.min.js", long+"\nvar b=1;")
	text := lineText(t, got[0])
	if n := utf8.RuneCountInString(text); n != MaxLineRunes+1 {
		t.Errorf("cut line has %d runes, want %d", n, MaxLineRunes+1)
	}
	if !strings.HasSuffix(text, "…") || !strings.HasPrefix(text, "var a=xxx") {
		t.Errorf("cut line = %q…", text[:20])
	}
	if lineText(t, got[1]) != "var b=1;" {
		t.Errorf("line after a long line = %s", got[1])
	}
	// Multi-byte runes are not split.
	wide := strings.Repeat("é", 600)
	if text := lineText(t, Lines("x.txt", wide)[0]); !utf8.ValidString(text) || utf8.RuneCountInString(text) != MaxLineRunes+1 {
		t.Errorf("multi-byte cut is wrong: %d runes", utf8.RuneCountInString(text))
	}
}

func TestSnippetKeepsOneLinePerInput(t *testing.T) {
	in := []string{"function a() {", "", "  /* open", "  still */ return `x", "y`;", "}", ""}
	got := Snippet("a.js", in)
	assertFaithful(t, in, got)
	if !strings.Contains(string(got[3]), `class="cm"`) {
		t.Errorf("comment not carried into the next line: %s", got[3])
	}

	broken := []string{"a\nb", "c"}
	got = Snippet("a.js", broken)
	assertFaithful(t, []string{"a b", "c"}, got)
	if broken[0] != "a\nb" {
		t.Error("Snippet modified its input")
	}
	if Snippet("a.js", nil) != nil {
		t.Error("empty snippet should be nil")
	}
}

// BenchmarkLines3000 highlights a 3,000-line JavaScript file.
func BenchmarkLines3000(b *testing.B) {
	src := syntheticJS(3000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if n := len(Lines("app.js", src)); n != 3000 {
			b.Fatalf("got %d lines", n)
		}
	}
}

// syntheticJS builds n lines of varied, realistic JavaScript.
func syntheticJS(n int) string {
	block := []string{
		"/**",
		" * Validates order %[1]d before it is charged.",
		" */",
		"export async function validateOrder%[1]d(order, { strict = true } = {}) {",
		"  const amount = Number(order?.amount ?? 0) * 1.%[1]d;",
		"  if (strict && !Number.isFinite(amount)) {",
		"    throw new TypeError(`amount must be a number, got ${typeof order.amount}`);",
		"  }",
		"  // retry up to three times on network errors",
		"  for (let i = 0; i < 3; i++) {",
		"    try { return await fetch('/api/orders/' + order.id, { method: 'POST' }); }",
		"    catch (err) { if (!/network/i.test(err.message)) throw err; }",
		"  }",
		"  return null;",
		"}",
		"",
	}
	lines := make([]string, 0, n)
	for i := 0; len(lines) < n; i++ {
		for _, l := range block {
			if len(lines) == n {
				break
			}
			if strings.Contains(l, "%[1]d") {
				l = fmt.Sprintf(l, i)
			}
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n") + "\n"
}
