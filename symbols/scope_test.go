package symbols

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/internal/testkit"
)

func loadBundle(t testing.TB, dir string) (*SourceMap, string) {
	t.Helper()
	base := filepath.Join(testkit.Fixtures(t), "bundles", dir)
	data, err := os.ReadFile(filepath.Join(base, "app.js.map"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join(base, "app.js"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseSourceMap(data)
	if err != nil {
		t.Fatalf("parse %s: %v", dir, err)
	}
	return m, string(js)
}

// The frames posthog-js recorded (1-based colno) and the functions of
// bundles/src/app.js and orders.js they lie in.
var posthogFrames = []struct {
	minifiedName string
	line, colno  int
	function     string
	source       string
	origLine     int
}{
	{"Og", 5, 38322, "level3", "src/orders.js", 34},
	{"Ig", 5, 38365, "level2", "src/orders.js", 37},
	{"Yo", 5, 38393, "level1", "src/orders.js", 40},
	{"HTMLButtonElement.Ag", 5, 38843, "runManual", "src/app.js", 28},
	{"HTMLButtonElement.Ag", 5, 38908, "runManual", "src/app.js", 33},
	{"Tg", 5, 38077, "parseAmount", "src/orders.js", 12},
	{"Rg", 5, 38166, "validateOrder", "src/orders.js", 18},
	{"Pg", 5, 38198, "processOrder", "src/orders.js", 23},
	{"Pg", 5, 38219, "processOrder", "src/orders.js", 25},
	{"Jo", 5, 38295, "checkout", "src/orders.js", 30},
	{"?", 5, 39030, "onTimer", "src/app.js", 41},
	{"?", 5, 39097, "onThen", "src/app.js", 47},
}

func TestEnclosingFunctionPosthogBundle(t *testing.T) {
	m, js := loadBundle(t, "posthog-browser")
	for _, f := range posthogFrames {
		pos, ok := m.Lookup(f.line, f.colno-1)
		if !ok {
			t.Errorf("%s %d:%d: no mapping", f.minifiedName, f.line, f.colno)
			continue
		}
		if pos.Source != "../"+f.source || pos.Line != f.origLine {
			t.Errorf("%s %d:%d: at %s:%d, want ../%s:%d", f.minifiedName, f.line, f.colno, pos.Source, pos.Line, f.source, f.origLine)
		}
		if got := m.EnclosingFunction(js, f.line, f.colno-1); got != f.function {
			t.Errorf("%s %d:%d with minified source: function %q, want %q", f.minifiedName, f.line, f.colno, got, f.function)
		}
		if got, _ := m.functionNameFromMinified(js, f.line, f.colno-1); got != f.function {
			t.Errorf("%s %d:%d from the minified scope alone: function %q, want %q", f.minifiedName, f.line, f.colno, got, f.function)
		}
		if got := m.EnclosingFunction("", f.line, f.colno-1); got != f.function {
			t.Errorf("%s %d:%d from sourcesContent: function %q, want %q", f.minifiedName, f.line, f.colno, got, f.function)
		}
	}
}

func TestScanScopesShapes(t *testing.T) {
	src := "var a=function(){x(`${1}}`)},b={m(){return /}{/.test(y)/2},n:function(){}},c=async e=>{},d=(e,f)=>e+f;" +
		"class K{static s(){}#p(){}}function g(){'}';/*}*/h(()=>{})}"
	names := map[string]bool{}
	for _, s := range scanScopes(src).scopes {
		end := identEnd(src, s.head)
		if s.named() {
			names[src[s.head:end]] = true
		}
	}
	for _, want := range []string{"a", "m", "n", "c", "d", "s", "#p", "g"} {
		if !names[want] {
			t.Errorf("scope %q not found; found %v", want, names)
		}
	}
	idx := scanScopes(src)
	at := strings.Index(src, "h(()")
	if s, ok := idx.innermost(at); !ok || src[s.head:s.head+1] != "g" {
		t.Errorf("innermost scope at h( is %+v", s)
	}
}

// A line where every '/' starts a regex that never closes (the '[' opens a
// class that hides later slashes) must cost linear time: a quadratic scan
// of this 600 KB line would take minutes, not milliseconds.
func TestScanScopesUnclosedRegexesAreLinear(t *testing.T) {
	src := strings.Repeat("(/[", 200000) + "\nfunction late(){}"
	idx := scanScopes(src)
	if len(idx.scopes) != 1 {
		t.Fatalf("want the one function after the junk line, got %d scopes", len(idx.scopes))
	}
}

// TypeScript sources (sourcesContent of TS libraries) use return types and
// typed declarations; the original-source fallback must still see the
// functions.
func TestScanScopesTypeScript(t *testing.T) {
	src := "const defaultRegExp: RegExpEngine = (str, flags) => new RegExp(str, flags)\n" +
		"export function parse(input: string, opts?: Options): Promise<Result[]> {\n  return run(input)\n}\n" +
		"class A { private load = async (id: Id): Promise<void> => { go(id) } }\n"
	idx := scanScopes(src)
	cases := map[string]string{"new RegExp": "defaultRegExp", "run(input)": "parse", "go(id)": "load"}
	for at, want := range cases {
		s, ok := idx.innermost(strings.Index(src, at))
		if got := nameTokenAt(src, s.head); !ok || got != want {
			t.Errorf("at %q: function %q, want %q", at, got, want)
		}
	}
	// The arrow's expression body ends with its line, before `export`.
	if s, ok := idx.innermost(strings.Index(src, "export")); ok {
		t.Errorf("`export` lies in scope %q", nameTokenAt(src, s.head))
	}
}
