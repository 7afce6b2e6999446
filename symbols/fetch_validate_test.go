package symbols

import "testing"

func TestMapHasSourcesContent(t *testing.T) {
	cases := []struct {
		name string
		data string
		want bool
	}{
		{"with content", validMap, true},
		{"none", `{"version":3,"sources":["a.js"],"mappings":"AAAA"}`, false},
		{"all null", `{"version":3,"sources":["a.js","b.js"],"sourcesContent":[null,null],"mappings":"AAAA"}`, false},
		{"all empty", `{"version":3,"sources":["a.js"],"sourcesContent":[""],"mappings":"AAAA"}`, false},
		{"one of two", `{"version":3,"sources":["a.js","b.js"],"sourcesContent":[null,"x"],"mappings":"AAAA"}`, true},
		{"index map", `{"version":3,"sections":[{"offset":{"line":0,"column":0},"map":` + validMap + `}]}`, true},
		{"index map without", `{"version":3,"sections":[{"offset":{"line":0,"column":0},"map":{"version":3,"mappings":""}}]}`, false},
		{"xssi prefix", ")]}'\n" + validMap, true},
		{"not json", `nope`, false},
	}
	for _, c := range cases {
		if got := MapHasSourcesContent([]byte(c.data)); got != c.want {
			t.Errorf("%s: MapHasSourcesContent = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestMapRefFromComment(t *testing.T) {
	cases := []struct {
		name, src, ref, found string
	}{
		{"plain", "a()\n//# sourceMappingURL=a.js.map", "a.js.map", FoundComment},
		{"trailing newline", "a()\n//# sourceMappingURL=a.js.map\n", "a.js.map", FoundComment},
		{"crlf", "a()\r\n//# sourceMappingURL=a.js.map\r\n", "a.js.map", FoundComment},
		{"legacy", "a()\n//@ sourceMappingURL=a.js.map", "a.js.map", FoundLegacyComment},
		{"no space", "a()\n//#sourceMappingURL=a.js.map", "a.js.map", FoundComment},
		{"last wins", "//# sourceMappingURL=1.map\n//# sourceMappingURL=2.map\n", "2.map", FoundComment},
		{"same line as code", "a();//# sourceMappingURL=a.js.map", "a.js.map", FoundComment},
		{"string literal ignored", "//# sourceMappingURL=real.map\nx = '//# sourceMappingURL=' + y;", "real.map", FoundComment},
		{"block comment ignored", "/*# sourceMappingURL=css.map */", "", ""},
		{"empty URL ignored", "a()\n//# sourceMappingURL=\n", "", ""},
		{"none", "a()", "", ""},
	}
	for _, c := range cases {
		ref, found := mapRefFromComment([]byte(c.src))
		if ref != c.ref || found != c.found {
			t.Errorf("%s: got (%q, %q), want (%q, %q)", c.name, ref, found, c.ref, c.found)
		}
	}
}

func TestDecodeDataURL(t *testing.T) {
	cases := []struct {
		ref, want string
		ok        bool
	}{
		{"data:application/json;base64,eyJhIjoxfQ==", `{"a":1}`, true},
		{"DATA:application/json;BASE64,eyJhIjoxfQ", `{"a":1}`, true},
		{"data:application/json;base64,eyJh%0AIjoxfQ==", `{"a":1}`, true},
		{"data:,%7B%22a%22%3A1%7D", `{"a":1}`, true},
		{"data:application/json;charset=utf-8,{\"a\":1}", `{"a":1}`, true},
		{"data:application/json;base64", "", false},
		{"data:application/json;base64,@@@", "", false},
		{"data:application/json,%zz", "", false},
	}
	for _, c := range cases {
		got, err := decodeDataURL(c.ref)
		if (err == nil) != c.ok || string(got) != c.want {
			t.Errorf("decodeDataURL(%q) = (%q, %v), want (%q, ok=%v)", c.ref, got, err, c.want, c.ok)
		}
	}
}
