package symbols

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/symbols/mappings"
)

// handMap builds a map of one source from segments written as
// [generated column, original line (0-based), original column, name index or -1],
// all on generated line 1.
func handMap(t *testing.T, content *string, names []string, segs ...[4]int) *SourceMap {
	t.Helper()
	var m mappings.Mappings
	for _, s := range segs {
		m.Segments = append(m.Segments, mappings.Segment{GenColumn: int32(s[0]), Source: 0, OrigLine: int32(s[1]), OrigColumn: int32(s[2]), Name: int32(s[3])})
	}
	m.LineStart = []uint32{0, uint32(len(m.Segments))}
	doc := map[string]any{"version": 3, "sources": []string{"src/app.js"}, "names": names, "mappings": mappings.Encode(m)}
	if names == nil {
		doc["names"] = []string{}
	}
	if content != nil {
		doc["sourcesContent"] = []string{*content}
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	sm, err := ParseSourceMap(data)
	if err != nil {
		t.Fatal(err)
	}
	return sm
}

// Without sourcesContent and without a mapped name, the minified text
// names the function: minifiers map the names they rename, so an unmapped
// one is as the source wrote it.
func TestNameFromMinifiedTextWithoutSourcesContent(t *testing.T) {
	minified := "t.polyline=function(a){boom(a)};o={foo:function(a){boom(a)}};var bar=function(a){boom(a)};" +
		"function baz(a){boom(a)}class K{qux(a){boom(a)}};var ready=function(){boom()}();"
	calls := []string{"polyline", "foo", "bar", "baz", "qux", ""} // "" for the IIFE: ready holds its result
	var segs [][4]int
	at := 0
	for i := range calls {
		at += strings.Index(minified[at:], "boom(")
		segs = append(segs, [4]int{at, 10 * i, 2, -1})
		at++
	}
	// The head of bar is mapped (to its declaration, before the call) without a name.
	barHead := strings.Index(minified, "bar=")
	segs = append(segs[:2], append([][4]int{{barHead, 19, 4, -1}}, segs[2:]...)...)
	m := handMap(t, nil, nil, segs...)
	at = 0
	for _, want := range calls {
		at += strings.Index(minified[at:], "boom(")
		if got := m.EnclosingFunction(minified, 1, at); got != want {
			t.Errorf("call at %d (%s…): function %q, want %q", at, minified[max(0, at-24):at], got, want)
		}
		at++
	}
}

// A function whose name maps after the frame (or into another file) is
// not the frame's function in the original: the minifier inlined the
// frame's code into it. Without the original text, say nothing.
func TestInlinedFunctionIsNotNamedAfterItsHost(t *testing.T) {
	minified := "function host(a){boom(a)}"
	head, call := strings.Index(minified, "host"), strings.Index(minified, "boom")
	m := handMap(t, nil, []string{"host"}, [4]int{head, 40, 9, 0}, [4]int{call, 12, 2, -1})
	if got := m.EnclosingFunction(minified, 1, call); got != "" {
		t.Errorf("inlined frame named %q, want none", got)
	}
	m = handMap(t, nil, []string{"host"}, [4]int{head, 10, 9, 0}, [4]int{call, 12, 2, -1})
	if got := m.EnclosingFunction(minified, 1, call); got != "host" {
		t.Errorf("frame named %q, want host", got)
	}
}

// The original source's own declaration beats a name a bundler mapped
// there (esbuild's `arrayAggregator_default`), a minifier's parameter
// name (popper's `fn`), and an outer function that a callback was inlined
// into.
func TestOriginalDeclarationWins(t *testing.T) {
	t.Run("bundler name", func(t *testing.T) {
		src := "function arrayAggregator(array, setter) {\n  boom(array);\n}\n"
		minified := "function X(e,t){boom(e)}"
		m := handMap(t, &src, []string{"arrayAggregator_default"},
			[4]int{0, 0, 0, -1}, [4]int{9, 0, 9, 0}, [4]int{16, 1, 2, -1})
		if got := m.EnclosingFunction(minified, 1, 16); got != "arrayAggregator" {
			t.Errorf("function %q, want arrayAggregator", got)
		}
	})
	t.Run("parameter name", func(t *testing.T) {
		// debounce(fn) inlined: the minified `i=function(){…}` is the
		// anonymous arrow passed as fn, and `i` maps to the parameter.
		src := "function debounce(fn) {\n  return fn;\n}\nconst instance = {\n  update: debounce(() => {\n    boom();\n  }),\n};\n"
		minified := "var a={update:(i=function(){boom()},i)}"
		m := handMap(t, &src, []string{"fn"},
			[4]int{15, 0, 18, 0}, [4]int{28, 5, 4, -1})
		if got := m.EnclosingFunction(minified, 1, 28); got != "" {
			t.Errorf("function %q, want none: the source's function is anonymous", got)
		}
	})
	t.Run("inlined callback", func(t *testing.T) {
		src := "export function outer(items) {\n  items.forEach(function (x) {\n    boom(x);\n  });\n}\n"
		minified := "function outer(e){for(const o of e)boom(o)}"
		call := strings.Index(minified, "boom")
		m := handMap(t, &src, nil, [4]int{9, 0, 16, -1}, [4]int{call, 2, 4, -1})
		if got := m.EnclosingFunction(minified, 1, call); got != "" {
			t.Errorf("function %q, want none: the call is in an anonymous callback", got)
		}
	})
}
