package mappings

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	// Line 0: column 0 → source 0 1:0 named 0, then column 5 mapping to
	// nothing; line 1 empty; line 2: column 2 → source 1 0:3 (relative
	// fields carry over lines, the generated column does not).
	m, err := Decode("AAAAA,K;;ECCG", 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]Segment{
		{{0, 0, 0, 0, 0}, {5, -1, 0, 0, -1}},
		nil,
		{{2, 1, 1, 3, -1}},
	}
	if m.Lines() != len(want) {
		t.Fatalf("%d lines, want %d", m.Lines(), len(want))
	}
	for i, w := range want {
		got := m.Line(i)
		if len(got) != len(w) {
			t.Fatalf("line %d: %v, want %v", i, got, w)
		}
		for j := range w {
			if got[j] != w[j] {
				t.Errorf("line %d segment %d: %+v, want %+v", i, j, got[j], w[j])
			}
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, c := range []string{
		"AA",        // 2 fields
		"AAA",       // 3 fields
		"AAAAAA",    // 6 fields
		"ACAA",      // source 1 of 1
		"AAAAC",     // name 1 of 0
		"A!",        // not base64
		"g",         // ends inside a number
		"D",         // generated column -1
		"AADA",      // original line -1
		"AAAD",      // original column -1
		"ggggggggA", // a value too large for 32 bits
	} {
		if _, err := Decode(c, 1, 0); err == nil {
			t.Errorf("%q decoded without error", c)
		}
	}
}

// Encode is Decode's inverse on random in-range tables, large values and
// negative deltas included, and Decode accepts every string Encode writes.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const nSources, nNames = 7, 5
	for round := range 300 {
		var m Mappings
		m.LineStart = []uint32{0}
		for range 1 + rng.IntN(6) { // Decode always gives at least one line
			col := int32(0)
			for range rng.IntN(5) {
				if rng.IntN(10) == 0 {
					col += rng.Int32N(MaxValue/8) + 1
				} else {
					col += rng.Int32N(40)
				}
				s := Segment{GenColumn: col, Source: -1, Name: -1}
				if rng.IntN(4) > 0 {
					s.Source = rng.Int32N(nSources)
					s.OrigLine = rng.Int32N(1 << uint(rng.IntN(31)))
					s.OrigColumn = rng.Int32N(200)
					if rng.IntN(2) == 0 {
						s.Name = rng.Int32N(nNames)
					}
				}
				m.Segments = append(m.Segments, s)
			}
			m.LineStart = append(m.LineStart, uint32(len(m.Segments)))
		}
		enc := Encode(m)
		got, err := Decode(enc, nSources, nNames)
		if err != nil {
			t.Fatalf("round %d: Decode(Encode(m)) = %v for %q", round, err, enc)
		}
		if got.Lines() != m.Lines() || len(got.Segments) != len(m.Segments) {
			t.Fatalf("round %d: %d lines/%d segments back, want %d/%d (%q)", round, got.Lines(), len(got.Segments), m.Lines(), len(m.Segments), enc)
		}
		for i := range m.Segments {
			if got.Segments[i] != m.Segments[i] {
				t.Fatalf("round %d segment %d: %+v back, want %+v (%q)", round, i, got.Segments[i], m.Segments[i], enc)
			}
		}
		if again := Encode(got); again != enc {
			t.Fatalf("round %d: re-encoded %q, want %q", round, again, enc)
		}
	}
}

func TestEncodeKeepsEmptyLines(t *testing.T) {
	for _, s := range []string{"", ";", "AAAA;;", ";;AAAA,CAAC;E"} {
		m, err := Decode(s, 1, 0)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if got := Encode(m); got != s {
			t.Errorf("Encode(Decode(%q)) = %q", s, got)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"AAAAA,K;;ECCG", "ggggggggA", ";;", "A,CAAAA,AAAAA;EACAC;;IAAAC"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Decode(s, 3, 3)
		if err != nil {
			return
		}
		if m.Lines() != strings.Count(s, ";")+1 {
			t.Fatalf("%d lines for %d separators", m.Lines(), strings.Count(s, ";"))
		}
		// Whatever decodes re-encodes to an equivalent table.
		back, err := Decode(Encode(m), 3, 3)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(%q))): %v", s, err)
		}
		if len(back.Segments) != len(m.Segments) {
			t.Fatalf("%d segments back, want %d", len(back.Segments), len(m.Segments))
		}
		for i := range m.Segments {
			if back.Segments[i] != m.Segments[i] {
				t.Fatalf("segment %d: %+v back, want %+v", i, back.Segments[i], m.Segments[i])
			}
		}
	})
}
