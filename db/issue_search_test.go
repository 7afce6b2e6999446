package db

import (
	"strings"
	"testing"
)

// FuzzSearchTerm: a search term is its text lower-cased with white space
// collapsed, whether or not the fast path that keeps most names as they are
// takes it.
func FuzzSearchTerm(f *testing.F) {
	for _, s := range []string{"", " ", "handleClick", "src/app.js", "a  b", " a", "a ", "a\tb", "TypeError", "x\u00a0y",
		"Ünïcode", "a\x01b", "?", "http://x.test/a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if got, want := searchTerm(v), strings.ToLower(strings.Join(strings.Fields(v), " ")); got != want {
			t.Fatalf("searchTerm(%q) = %q, want %q", v, got, want)
		}
	})
}
