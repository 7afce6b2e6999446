package symbols

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSourceMapRejectsInvalidMaps(t *testing.T) {
	cases := map[string]string{
		"not json":              `{"version":3,`,
		"no version":            `{"sources":[],"names":[],"mappings":""}`,
		"version 2":             `{"version":2,"sources":[],"names":[],"mappings":""}`,
		"no mappings":           `{"version":3,"sources":[],"names":[]}`,
		"bad base64":            `{"version":3,"sources":["a.js"],"names":[],"mappings":"AA!A"}`,
		"truncated vlq":         `{"version":3,"sources":["a.js"],"names":[],"mappings":"AAAg"}`,
		"two fields":            `{"version":3,"sources":["a.js"],"names":[],"mappings":"AA"}`,
		"six fields":            `{"version":3,"sources":["a.js"],"names":["x"],"mappings":"AAAAAA"}`,
		"source out of range":   `{"version":3,"sources":["a.js"],"names":[],"mappings":"ACAA"}`,
		"no sources":            `{"version":3,"sources":[],"names":[],"mappings":"AAAA"}`,
		"name out of range":     `{"version":3,"sources":["a.js"],"names":[],"mappings":"AAAAA"}`,
		"negative column":       `{"version":3,"sources":["a.js"],"names":[],"mappings":"D"}`,
		"negative orig line":    `{"version":3,"sources":["a.js"],"names":[],"mappings":"AADA"}`,
		"huge vlq":              `{"version":3,"sources":["a.js"],"names":[],"mappings":"gggggggggggggB"}`,
		"section without map":   `{"version":3,"sections":[{"offset":{"line":0,"column":0}}]}`,
		"section url":           `{"version":3,"sections":[{"offset":{"line":0,"column":0},"url":"x.map"}]}`,
		"trailing data":         `{"version":3,"sources":[],"names":[],"mappings":""} x`,
		"bad content escape":    `{"version":3,"sources":["a"],"sourcesContent":["\q"],"names":[],"mappings":""}`,
		"control char":          "{\"version\":3,\"sources\":[\"a\"],\"sourcesContent\":[\"a\nb\"],\"names\":[],\"mappings\":\"\"}",
		"invalid utf-8":         "{\"version\":3,\"sources\":[\"a\"],\"sourcesContent\":[\"\xff\"],\"names\":[],\"mappings\":\"\"}",
		"content not a string":  `{"version":3,"sources":["a"],"sourcesContent":[1],"names":[],"mappings":""}`,
		"unterminated":          `{"version":3,"sources":["a"],"sourcesContent":["abc`,
		"bad literal":           `{"version":3,"sources":[],"names":[],"mappings":"","x":nul}`,
		"section bad inner map": `{"version":3,"sections":[{"offset":{"line":0,"column":0},"map":{"version":3,"sources":[],"names":[],"mappings":"AAAA"}}]}`,
	}
	for name, data := range cases {
		if _, err := ParseSourceMap([]byte(data)); !errors.Is(err, ErrInvalidSourceMap) {
			t.Errorf("%s: err = %v, want ErrInvalidSourceMap", name, err)
		}
	}
}

// One source "a.js"; line 1 has segments at columns 5 (→ a.js 1:0, name
// "f") and 10 (→ a.js 2:4); line 2 has none; line 3 starts with a 1-field
// segment at 0 then maps column 3 to a.js 3:0.
const smallMap = `{"version":3,"sourceRoot":"","sources":["./lib/../a.js","b.js"],"sourcesContent":["x\ny\nz",null],
"names":["f"],"mappings":"KAAAA,KACI;;A,GACJ","ignoreList":[1]}`

func TestParseSourceMapReadsJSONFaithfully(t *testing.T) {
	m, err := ParseSourceMap([]byte(" {\"unknown\": {\"a\": [1, -2.5e3, true, null]}, \"version\" : 3,\n" +
		`"sources": ["a\u002ejs"], "sourcesContent": ["caf\u00e9\n\"q\"\t\ud83d\ude00"], "names": [],` +
		`"mappings": "AA\u0041A"} `))
	if err != nil {
		t.Fatal(err)
	}
	if content, ok := m.SourceContent(0); !ok || content != "café\n\"q\"\t😀" {
		t.Fatalf("content %q %v", content, ok)
	}
	if pos, ok := m.Lookup(1, 0); !ok || pos.Source != "a.js" {
		t.Fatalf("Lookup = %+v %v", pos, ok)
	}
}

func TestLookupSemantics(t *testing.T) {
	m, err := ParseSourceMap([]byte(smallMap))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		line, column int
		want         Position
		ok           bool
	}{
		{1, 4, Position{}, false}, // before the first segment
		{1, 5, Position{Source: "./a.js", Line: 1, Column: 0, Name: "f"}, true},
		{1, 9, Position{Source: "./a.js", Line: 1, Column: 0, Name: "f"}, true},
		{1, 10, Position{Source: "./a.js", Line: 2, Column: 4}, true},
		{1, 999, Position{Source: "./a.js", Line: 2, Column: 4}, true},
		{2, 0, Position{}, false}, // a line without segments
		{3, 1, Position{}, false}, // a segment that maps nowhere
		{3, 3, Position{Source: "./a.js", Line: 3, Column: 0}, true},
		{4, 0, Position{}, false}, // past the last line
		{0, 0, Position{}, false},
		{1, -1, Position{}, false},
	}
	for _, c := range cases {
		got, ok := m.Lookup(c.line, c.column)
		if ok != c.ok || got != c.want {
			t.Errorf("Lookup(%d, %d) = %+v %v, want %+v %v", c.line, c.column, got, ok, c.want, c.ok)
		}
	}
	if got := m.Sources(); strings.Join(got, ",") != "./a.js,b.js" {
		t.Errorf("Sources() = %q", got)
	}
	if content, ok := m.SourceContent(0); !ok || content != "x\ny\nz" {
		t.Errorf("SourceContent(0) = %q %v", content, ok)
	}
	if i, ok := m.FindSource("./a.js", 0); !ok || i != 0 {
		t.Errorf("FindSource(./a.js) = %d %v", i, ok)
	}
	if i, ok := m.FindSource("./lib/../a.js", 1); !ok || i != 0 {
		t.Errorf("FindSource by raw name = %d %v", i, ok)
	}
	if _, ok := m.SourceContent(1); ok {
		t.Error("b.js has null content")
	}
	if _, ok := m.SourceContent(2); ok {
		t.Error("there is no source 2")
	}
	if !m.HasSourcesContent() {
		t.Error("HasSourcesContent() = false")
	}
	if m.Ignored(0) || !m.Ignored(1) || m.Ignored(2) || m.Ignored(-1) {
		t.Error("ignoreList [1] must mark b.js only")
	}
	if m.SizeBytes() <= int64(len("x\ny\nz")) {
		t.Errorf("SizeBytes() = %d", m.SizeBytes())
	}
}

func TestXGoogleIgnoreListAndSourceRoot(t *testing.T) {
	m, err := ParseSourceMap([]byte(`{"version":3,"sourceRoot":"webpack://app/","sources":["./src/a.js","node_modules/x.js"],
		"names":[],"mappings":"ACAA,CAAA","x_google_ignoreList":[1]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Sources(), ","); got != "webpack://app/src/a.js,webpack://app/node_modules/x.js" {
		t.Errorf("Sources() = %s", got)
	}
	if !m.Ignored(1) || m.Ignored(0) {
		t.Error("x_google_ignoreList not applied")
	}
}

// An index map whose second section starts at column 7 of line 1: the
// inner map's first line is shifted by 7 columns, its later lines are not,
// and the first section's segments from that column on are dropped.
func TestIndexMapColumnOffsets(t *testing.T) {
	m, err := ParseSourceMap([]byte(`{"version":3,"sections":[
		{"offset":{"line":0,"column":0},"map":{"version":3,"sources":["one.js"],"names":[],"mappings":"AAAA,SAAE"}},
		{"offset":{"line":0,"column":7},"map":{"version":3,"sources":["two.js"],"names":["g"],"mappings":"AAAAA,EAAE;EACA"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		line, column int
		want         Position
	}{
		{1, 0, Position{"one.js", 1, 0, "", 0}},
		{1, 6, Position{"one.js", 1, 0, "", 0}},
		{1, 7, Position{"two.js", 1, 0, "g", 1}},
		{1, 9, Position{"two.js", 1, 2, "", 1}},
		{1, 20, Position{"two.js", 1, 2, "", 1}}, // one.js's segment at column 9 is dropped
		{2, 2, Position{"two.js", 2, 2, "", 1}},
	}
	for _, c := range cases {
		if got, ok := m.Lookup(c.line, c.column); !ok || got != c.want {
			t.Errorf("Lookup(%d, %d) = %+v %v, want %+v", c.line, c.column, got, ok, c.want)
		}
	}
}

func TestResolveSourceNameLikeResolveURI(t *testing.T) {
	// Expected values printed by @jridgewell/resolve-uri resolve(input, "").
	cases := map[string]string{
		"../src/orders.js":         "../src/orders.js",
		"./a/../b.js":              "./b.js",
		"webpack://app/./src/x.js": "webpack://app/src/x.js",
		"a//b.js":                  "a/b.js",
		"/abs/x.js":                "/abs/x.js",
		"x/./y/../z.js":            "x/z.js",
		"root/../../x.js?q=1#h":    "../x.js?q=1#h",
		"root/":                    "root/",
		"file:///home/u/a/../b.ts": "file:///home/u/b.ts",
		"webpack:///./src/app.js":  "webpack:///src/app.js",
		"//cdn.example/x/../y.js":  "//cdn.example/y.js",
		"":                         "",
	}
	for in, want := range cases {
		if got := resolveSourceName(in); got != want {
			t.Errorf("resolveSourceName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIndexMapWithHugeOffsetIsRejected(t *testing.T) {
	_, err := ParseSourceMap([]byte(`{"version":3,"sections":[{"offset":{"line":2000000000,"column":0},"map":{"version":3,"sources":[],"names":[],"mappings":""}}]}`))
	if !errors.Is(err, ErrInvalidSourceMap) {
		t.Fatalf("err = %v", err)
	}
}

func TestPlainASCII8(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"abcdefgh", true}, {"function", true}, {"abc\"efgh", false}, {"abcdefg\\", false},
		{"abc\x1fefgh", false}, {"\x00bcdefgh", false}, {"abcdéfg", false}, {"~~~~~~~~", true}, {"        ", true},
	} {
		x := uint64(0)
		for i := 7; i >= 0; i-- {
			x = x<<8 | uint64(c.s[i])
		}
		if got := plainASCII8(x); got != c.want {
			t.Errorf("plainASCII8(%q) = %v", c.s, got)
		}
	}
}
