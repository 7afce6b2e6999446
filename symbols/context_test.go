package symbols

import (
	"reflect"
	"strings"
	"testing"
)

func TestContextLines(t *testing.T) {
	src := "one\ntwo\r\nthree\nfour\nfive\n"
	cases := []struct {
		line, radius, maxLen int
		first                int
		lines                []string
	}{
		{3, 1, 0, 2, []string{"two", "three", "four"}},
		{1, 2, 0, 1, []string{"one", "two", "three"}},
		{5, 2, 0, 3, []string{"three", "four", "five"}},
		{5, 0, 0, 5, []string{"five"}},
		{6, 1, 0, 0, nil}, // the empty text after the final newline is not a line
		{0, 1, 0, 0, nil},
		{9, 1, 0, 0, nil},
		{2, 1, 3, 1, []string{"one", "two", "thr" + Ellipsis}},
	}
	for _, c := range cases {
		first, lines := ContextLines(src, c.line, c.radius, c.maxLen)
		if first != c.first || !reflect.DeepEqual(lines, c.lines) {
			t.Errorf("ContextLines(line %d, radius %d, max %d) = %d %q, want %d %q", c.line, c.radius, c.maxLen, first, lines, c.first, c.lines)
		}
	}
}

func TestContextLinesCutsOnCharacterBoundary(t *testing.T) {
	_, lines := ContextLines("é"+strings.Repeat("ü", 10), 1, 0, 4)
	if len(lines) != 1 || lines[0] != "éü"+Ellipsis {
		t.Fatalf("got %q", lines)
	}
}

func TestContextLinesOfFixtureSource(t *testing.T) {
	m, _ := loadBundle(t, "posthog-browser")
	pos, ok := m.Lookup(5, 38321)
	if !ok {
		t.Fatal("no mapping")
	}
	content, ok := m.SourceContent(pos.SourceIndex)
	if !ok {
		t.Fatal("no sourcesContent")
	}
	first, lines := ContextLines(content, pos.Line, 15, 200)
	if first != pos.Line-15 || len(lines) != 15+1+7 { // orders.js has 41 lines
		t.Fatalf("first %d, %d lines", first, len(lines))
	}
	if got := lines[pos.Line-first]; strings.TrimSpace(got) != "throw new Error('boom ' + tag);" {
		t.Fatalf("line %d is %q", pos.Line, got)
	}
}
