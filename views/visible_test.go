package views

import (
	"html/template"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestControlEscapeShowsWhatCanSpoofOrActOnText(t *testing.T) {
	cases := []struct {
		r          rune
		multi, one string
		why        string
	}{
		{'a', "", "", "plain ASCII"},
		{'é', "", "", "a letter"},
		{'中', "", "", "a letter"},
		{'😀', "", "", "an emoji"},
		{'\t', "", `\t`, "a tab is layout in text, suspect in a name"},
		{'\n', "", `\n`, "a line break likewise"},
		{'\r', "", `\r`, "a carriage return likewise"},
		{0x1b, `\x1b`, `\x1b`, "ESC starts ANSI escapes"},
		{0x07, `\x07`, `\x07`, "BEL"},
		{0x00, `\x00`, `\x00`, "NUL"},
		{0x7f, `\x7f`, `\x7f`, "DEL"},
		{0x9b, `\x9b`, `\x9b`, "C1 CSI"},
		{0x202a, "⟨U+202A⟩", "⟨U+202A⟩", "LRE"},
		{0x202e, "⟨U+202E⟩", "⟨U+202E⟩", "RLO"},
		{0x2066, "⟨U+2066⟩", "⟨U+2066⟩", "LRI"},
		{0x2069, "⟨U+2069⟩", "⟨U+2069⟩", "PDI"},
		{0x200e, "⟨U+200E⟩", "⟨U+200E⟩", "LRM"},
		{0x200f, "⟨U+200F⟩", "⟨U+200F⟩", "RLM"},
		{0x061c, "⟨U+061C⟩", "⟨U+061C⟩", "ALM"},
		{0x200b, "⟨U+200B⟩", "⟨U+200B⟩", "zero-width space"},
		{0xfeff, "⟨U+FEFF⟩", "⟨U+FEFF⟩", "BOM / zero-width no-break space"},
		{0xe0041, "⟨U+E0041⟩", "⟨U+E0041⟩", "a tag character"},
		{0x200d, "", "⟨U+200D⟩", "ZWJ joins emoji in text, is invisible in a name"},
		{0x2028, "", "⟨U+2028⟩", "line separator"},
	}
	for _, c := range cases {
		if got := controlEscape(c.r, multiLine); got != c.multi {
			t.Errorf("%U (%s) in text: %q, want %q", c.r, c.why, got, c.multi)
		}
		if got := controlEscape(c.r, oneLine); got != c.one {
			t.Errorf("%U (%s) in a name: %q, want %q", c.r, c.why, got, c.one)
		}
	}
}

func TestClipCountsEscapesAtTheirWidth(t *testing.T) {
	cases := []struct {
		s      string
		max    int
		shown  string
		hidden int
	}{
		{"abcdef", 10, "abcdef", 0},
		{"abcdef", 6, "abcdef", 0},
		{"abcdef", 3, "abc", 3},
		{"ééééé", 2, "éé", 3},
		{"a\u202Ebc", 8, "a", 3}, // the escape takes 8 characters: it does not fit after "a"
		{"a\u202Ebc", 9, "a\u202E", 2},
		{"", 5, "", 0},
	}
	for _, c := range cases {
		shown, hidden := clip(c.s, c.max, oneLine)
		if shown != c.shown || hidden != c.hidden {
			t.Errorf("clip(%q, %d) = %q, %d; want %q, %d", c.s, c.max, shown, hidden, c.shown, c.hidden)
		}
	}
}

func TestVisibleTextEscapesCutsAndSaysHowMuch(t *testing.T) {
	long := "<b>" + strings.Repeat("x", 48213+997) + "\x1b"
	html := render(t, visibleText(long, 1000, "/issues/1/events/u/raw"))
	if strings.Contains(html, "<b>") || !strings.Contains(html, "&lt;b&gt;") {
		t.Errorf("markup in a value is not escaped: %.80s", html)
	}
	if strings.Contains(html, "\x1b") {
		t.Errorf("an ESC past the cut still reaches the page")
	}
	want := `<a class="clip-more" href="/issues/1/events/u/raw">… 48,214 more characters</a>`
	if !strings.HasSuffix(html, want) {
		t.Errorf("the cut value ends %q, want %q", html[max(len(html)-120, 0):], want)
	}
	if n := utf8.RuneCountInString(html); n > 1000+len("&lt;b&gt;")+len(want) {
		t.Errorf("a value cut at 1,000 characters renders %d", n)
	}

	html = render(t, visibleText("red \x1b[31mtext\u202E", 100, ""))
	for _, want := range []string{`red <span class="ctl"`, `>\x1b</span>[31mtext`, `>⟨U+202E⟩</span>`} {
		if !strings.Contains(html, want) {
			t.Errorf("%q lacks %q", html, want)
		}
	}
	if strings.ContainsAny(html, "\x1b\u202E") || strings.Contains(html, "more character") {
		t.Errorf("%q: raw control characters or a cut marker on a short value", html)
	}
	if html := render(t, visibleName("ab", 1)); !strings.HasSuffix(html, `a<span class="clip-more">… 1 more character</span>`) {
		t.Errorf("one character cut: %q", html)
	}
}

func TestVisiblePrefixCountsWhatTheQueryCut(t *testing.T) {
	// The list query returns the first 200 characters and the full length.
	html := render(t, visiblePrefix(strings.Repeat("y", 200), 1900000, 200))
	if !strings.Contains(html, "… 1,899,800 more characters") {
		t.Errorf("prefix of a 1.9 M-character value: %q", html[len(html)-80:])
	}
	if html := render(t, visibleNamePrefix("short", 5, 200)); html != "short" {
		t.Errorf("a whole short name renders %q", html)
	}
}

func TestPlainNameForAttributes(t *testing.T) {
	if got := plainName("app/\u202Esj.nimda\u200B.js", 100); got != "app/⟨U+202E⟩sj.nimda⟨U+200B⟩.js" {
		t.Errorf("plainName = %q", got)
	}
	if got := plainName("abcdef", 3); got != "abc…" {
		t.Errorf("plainName cut = %q", got)
	}
	if got := plainName("a\nb", 10); got != `a\nb` {
		t.Errorf("a line break in a name: %q", got)
	}
}

func TestVisibleHTMLKeepsMarkupAndEscapesText(t *testing.T) {
	in := `<span class="s">'` + "\u2067\x1b[1m" + `'</span>`
	got := string(visibleHTML(template.HTML(in)))
	want := `<span class="s">'<span class="ctl" title="an invisible control character, shown escaped">⟨U+2067⟩</span>` +
		`<span class="ctl" title="an invisible control character, shown escaped">\x1b</span>[1m'</span>`
	if got != want {
		t.Errorf("visibleHTML(%q)\n got %q\nwant %q", in, got, want)
	}
	if plain := template.HTML(`<span class="k">const</span> a`); visibleHTML(plain) != plain {
		t.Errorf("code without control characters changed")
	}
}

func TestFormValueKeepsTheValueWithoutRawControls(t *testing.T) {
	got := formValue("a\u202Eb\"<&'\x1b\nc", 100)
	want := "a&#x202E;b&#34;&lt;&amp;&#39;&#x1B;\nc"
	if got != want {
		t.Errorf("formValue = %q, want %q", got, want)
	}
	// Cut at a byte limit, never inside a character.
	if got := formValue("aé", 2); got != "a" {
		t.Errorf("formValue cut inside é: %q", got)
	}
}

func TestSplitFramesKeepsBothEnds(t *testing.T) {
	cases := []struct{ n, keep, head, tail int }{
		{10, 50, 10, 0},
		{50, 50, 50, 0},
		{1000, 50, 25, 25},
		{1000, 51, 26, 25},
		{1000, 1, 1, 0},
		{1000, 0, 0, 0},
		{3, -5, 0, 0},
	}
	for _, c := range cases {
		if h, tl := SplitFrames(c.n, c.keep); h != c.head || tl != c.tail {
			t.Errorf("SplitFrames(%d, %d) = %d, %d; want %d, %d", c.n, c.keep, h, tl, c.head, c.tail)
		}
	}
}
