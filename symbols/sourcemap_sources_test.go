package symbols

import (
	"strings"
	"testing"

	"github.com/stacklens/stacklens/symbols/mappings"
)

// Two sources may share a name (two "a.js" from different folders after a
// bundler flattened them), or have none (null or ""). Everything about a
// resolved position — its content, its scopes, whether it is ignored — must
// come from the source at its index, not from the first source of its name.
func TestSourcesWithTheSameNameAreKeptApart(t *testing.T) {
	for _, c := range []struct{ name, sources string }{
		{"same name", `["a.js","a.js"]`},
		{"both null", `[null,null]`},
		{"both empty", `["",""]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The example: line 1 maps into the first source, line 2 into the second.
			data := `{"version":3,"sources":` + c.sources + `,"names":[],` +
				`"sourcesContent":["function first() {\n  boom();\n}\n","function second() {\n  boom();\n}\n"],` +
				`"mappings":"AACE;ACAA","ignoreList":[1]}`
			m, err := ParseSourceMap([]byte(data))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []struct {
				line     int
				index    int
				function string
				ignored  bool
			}{{1, 0, "first", false}, {2, 1, "second", true}} {
				pos, ok := m.Lookup(want.line, 0)
				if !ok || pos.SourceIndex != want.index || pos.Line != 2 {
					t.Fatalf("line %d: Lookup = %+v %v, want source %d line 2", want.line, pos, ok, want.index)
				}
				content, ok := m.SourceContent(pos.SourceIndex)
				if !ok || !strings.HasPrefix(content, "function "+want.function+"(") {
					t.Errorf("line %d: content %q, want the file of %s", want.line, content, want.function)
				}
				if got := m.EnclosingFunction("", want.line, 0); got != want.function {
					t.Errorf("line %d: function %q, want %q", want.line, got, want.function)
				}
				if got := m.Ignored(pos.SourceIndex); got != want.ignored {
					t.Errorf("line %d: ignored %v, want %v", want.line, got, want.ignored)
				}
				// What a stored resolution carries finds the same file.
				if i, ok := m.FindSource(pos.Source, pos.SourceIndex); !ok || i != want.index {
					t.Errorf("line %d: FindSource(%q, %d) = %d %v", want.line, pos.Source, pos.SourceIndex, i, ok)
				}
			}
			// A minified file around the frames: the scope scan must also
			// read the second source for line 2.
			minified := "function f(){boom()}\nfunction g(){boom()}\n"
			// Each line: `function` → 1:0, the name → 1:9, boom → 2:2 of its source.
			seg := func(gen, source, line, column int32) mappings.Segment {
				return mappings.Segment{GenColumn: gen, Source: source, OrigLine: line, OrigColumn: column, Name: -1}
			}
			encoded := mappings.Encode(mappings.Mappings{
				Segments:  []mappings.Segment{seg(0, 0, 0, 0), seg(9, 0, 0, 9), seg(13, 0, 1, 2), seg(0, 1, 0, 0), seg(9, 1, 0, 9), seg(13, 1, 1, 2)},
				LineStart: []uint32{0, 3, 6},
			})
			mm, err := ParseSourceMap([]byte(`{"version":3,"sources":` + c.sources + `,"names":[],` +
				`"sourcesContent":["function first() {\n  boom();\n}\n","function second() {\n  boom();\n}\n"],` +
				`"mappings":"` + encoded + `"}`))
			if err != nil {
				t.Fatal(err)
			}
			for line, want := range map[int]string{1: "first", 2: "second"} {
				if got := mm.EnclosingFunction(minified, line, 13); got != want {
					t.Errorf("minified line %d: function %q, want %q", line, got, want)
				}
			}
		})
	}
}

// A resolution stored before indexes were recorded reads as index 0: it
// must find its source by name, as it did then.
func TestFindSourceOfOldResolutions(t *testing.T) {
	m, err := ParseSourceMap([]byte(`{"version":3,"sources":["x.js","./lib/../y.js","y.js"],"names":[],"mappings":"AAAA"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		index int
		want  int
		ok    bool
	}{
		{"x.js", 0, 0, true},
		{"./y.js", 0, 1, true},        // old resolution: by name
		{"y.js", 0, 2, true},          // old resolution: by name
		{"y.js", 2, 2, true},          // by index
		{"./y.js", 2, 1, true},        // the index names another file: by name
		{"y.js", 9, 2, true},          // an index past the end: by name
		{"z.js", 0, 0, false},         // no such source
		{"./lib/../y.js", 0, 1, true}, // as written in the map
	} {
		if got, ok := m.FindSource(c.name, c.index); got != c.want || ok != c.ok {
			t.Errorf("FindSource(%q, %d) = %d %v, want %d %v", c.name, c.index, got, ok, c.want, c.ok)
		}
	}
}
