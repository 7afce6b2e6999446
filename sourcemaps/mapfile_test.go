package sourcemaps

import (
	"testing"
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

func TestEncodeMappingsDropsRepeatedSegment(t *testing.T) {
	toks, err := decodeMappings("AAAA,AAAA,CAAC", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := encodeMappings(shiftForPrepend(toks, 0, 1)); got != "AAAA,CAAC" {
		t.Errorf("encoded = %q, want AAAA,CAAC", got)
	}
}

func TestDecodeMappingsRejectsWhatRustSourcemapRejects(t *testing.T) {
	for _, c := range []struct{ mappings string }{
		{"AA"},     // 2 fields
		{"AAAAAA"}, // 6 fields
		{"ACAA"},   // source 1 of 1
		{"AAAAC"},  // name 1 of 0
		{"A!"},     // not base64
		{"g"},      // ends inside a number
	} {
		if _, err := decodeMappings(c.mappings, 1, 0); err == nil {
			t.Errorf("%q decoded without error", c.mappings)
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
