package symbols

import (
	"strings"
	"testing"
)

// FuzzSourceMap: parsing, lookups, function names and context never panic
// on junk, and a recovered panic (reported as "parser panic") is a bug too.
// The seed corpus runs in every `go test`; explore with
// `go test -run '^$' -fuzz FuzzSourceMap ./symbols`.
func FuzzSourceMap(f *testing.F) {
	seeds := []string{
		smallMap,
		`{"version":3,"sections":[{"offset":{"line":0,"column":7},"map":{"version":3,"sources":["two.js"],"names":["g"],"mappings":"AAAAA,EAAE;EACA"}}]}`,
		`{"version":3,"sources":[null],"sourcesContent":["function a(){return b=>{throw 1}}"],"names":[],"mappings":"AAAA,UAAU,QAAQ"}`,
		`{"version":3,"sources":["a"],"names":[],"mappings":"gggggggggggggB"}`,
		`{"version":3,"sources":["a"],"names":[],"mappings":";;;;A;;;"}`,
		`{"version":3,"sections":[{"offset":{"line":0,"column":0},"map":{"version":3,"sections":[]}}]}`,
		`[]`, `null`, `{"version":3}`,
	}
	for i, s := range seeds {
		f.Add([]byte(s), 1, i*3, "function a(){x(`${`}`}/re/`);return {b(){}}}\nvar c=d=>e/2/f")
	}
	f.Fuzz(func(t *testing.T, data []byte, line, column int, minified string) {
		m, err := ParseSourceMap(data)
		if err != nil {
			if strings.Contains(err.Error(), "parser panic") {
				t.Fatalf("ParseSourceMap panicked: %v", err)
			}
			return
		}
		m.Lookup(line, column)
		m.EnclosingFunction(minified, line, column)
		m.EnclosingFunction("", line, column)
		for i, s := range m.Sources() {
			m.Ignored(i)
			m.FindSource(s, i)
			if content, ok := m.SourceContent(i); ok {
				ContextLines(content, line, 15, 40)
			}
		}
		scanScopes(minified).innermost(column)
	})
}
