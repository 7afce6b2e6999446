package uploadcli

import (
	"testing"

	"github.com/stacklens/stacklens/symbols/mappings"
)

// The rules of rust-sourcemap's re-encoding that the shift reproduces: only
// line 0 moves; mappings past the file's last line are dropped; a segment
// equal to the one before it is written once; 1-field segments survive; the
// output keys replace the input's and unknown keys stay; debugId and
// release_id keep their place in front.
func TestShiftForPrependFollowsRustSourcemap(t *testing.T) {
	in := `{"x_google_ignoreList":[0],"debugId":"ABC","release_id":"r1","names":["f",7,null],` +
		`"sources":["a.js",null],"sourcesContent":[null,"y"],"file":{"odd":1},"version":3,` +
		`"mappings":"A,CAAAA,AAAAA;EACAC;;IAAAC;AACA;AACA"}`
	m, err := ParseSourceMap([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	// A file of four lines: the mappings on lines 4 and 5 are beyond it.
	if err := m.shiftForPrepend(10, 4); err != nil {
		t.Fatal(err)
	}
	id := "c1"
	m.ChunkID = &id
	got := string(m.Bytes())
	// Line 0: "A" (col 0→10), "CAAAA" (col 1→11, src 0:0, name f), then
	// "AAAAA", the same token again, written once.
	want := `{"release_id":"r1","chunk_id":"c1","debugId":"ABC",` +
		`"file":"<invalid>","mappings":"U,CAAAA;EACAC;;IAAAC","names":["f","7",""],` +
		`"sources":["a.js",""],"sourcesContent":[null,"y"],"version":3,"x_google_ignoreList":[0]}`
	if got != want {
		t.Errorf("shifted map:\n got %s\nwant %s", got, want)
	}
}

func TestShiftDropsRepeatedSegmentAndTrailingLines(t *testing.T) {
	for _, c := range []struct {
		in    string
		lines int
		want  string
	}{
		{"AAAA,AAAA,CAAC", 1, "AAAA,CAAC"}, // the repeated segment is written once
		{"AAAA;;;", 4, "AAAA"},             // no ";" after the last segment
		{"AAAA;CAAC;EAAE", 2, "AAAA;CAAC"}, // lines past the file's end are dropped
		{"C,D", 1, "A,C"},                  // a line is sorted by column
		{";;", 3, ""},
	} {
		m, err := mappings.Decode(c.in, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		shifted, err := shiftMappings(m, 0, c.lines)
		if err != nil {
			t.Fatal(err)
		}
		if got := mappings.Encode(shifted); got != c.want {
			t.Errorf("shift of %q over %d lines = %q, want %q", c.in, c.lines, got, c.want)
		}
	}
}

func TestSerdeJSONWriting(t *testing.T) {
	v, err := decodeJSON([]byte(`{"b":"é\u2028<>&/\u0001\"\\\n\t","a":[1,-2,1.5,1e21,100.0,0.00001,1e-7,18446744073709551615,true,null],"c":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	w := &byteWriter{&b}
	writeJSONValue(w, v)
	want := "{\"a\":[1,-2,1.5,1e21,100.0,0.00001,1e-7,18446744073709551615,true,null],\"b\":\"é\u2028<>&/\\u0001\\\"\\\\\\n\\t\",\"c\":{}}"
	if string(b) != want {
		t.Errorf("serde JSON:\n got %s\nwant %s", b, want)
	}
}

type byteWriter struct{ b *[]byte }

func (w *byteWriter) WriteString(s string) (int, error) {
	*w.b = append(*w.b, s...)
	return len(s), nil
}
func (w *byteWriter) WriteByte(c byte) error { *w.b = append(*w.b, c); return nil }

func TestChunkIDOfReadsTheLastCommentLine(t *testing.T) {
	for _, c := range []struct {
		src, id string
		ok      bool
	}{
		{"a()\n//# chunkId=abc", "abc", true},
		{"a()\n//# chunkId=old\n//# chunkId=new\n", "new", true},
		{"a()\r\n//# chunkId=abc\r\n", "abc", true},
		{"a() //# chunkId=abc", "", false},
		{"", "", false},
	} {
		id, ok := ChunkIDOf(c.src)
		if id != c.id || ok != c.ok {
			t.Errorf("ChunkIDOf(%q) = %q, %v; want %q, %v", c.src, id, ok, c.id, c.ok)
		}
	}
}

// The CLI reads a map with a BOM or the ")]}'" line as the server does, and
// writes it back without them (inject rewrites the map, upload sends Bytes).
func TestParseSourceMapSkipsPrefixes(t *testing.T) {
	const plain = `{"version":3,"sources":["a.js"],"names":[],"mappings":"AAAA"}`
	for _, prefix := range []string{"\xef\xbb\xbf", ")]}'\n", "\xef\xbb\xbf)]}'\n"} {
		m, err := ParseSourceMap([]byte(prefix + plain))
		if err != nil {
			t.Fatalf("%q: %v", prefix, err)
		}
		if got := string(m.Bytes()); got != `{"mappings":"AAAA","names":[],"sources":["a.js"],"version":3}` {
			t.Errorf("%q: Bytes = %s", prefix, got)
		}
	}
}
