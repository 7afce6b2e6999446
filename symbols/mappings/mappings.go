// Package mappings is the one codec for a source map's "mappings" field
// (base64 VLQ segments, ";" between generated lines, "," between segments).
// The server decodes with it to resolve frames (package symbols); the upload
// CLI decodes, shifts and re-encodes with it when it injects a chunk id
// (package uploadcli).
package mappings

import (
	"errors"
	"fmt"
	"strings"
)

// Segment is one decoded mapping, with absolute values (0-based). Source is
// -1 for a segment that maps to nothing (1 field); Name is -1 when the
// segment carries no name (4 fields).
type Segment struct {
	GenColumn  int32
	Source     int32
	OrigLine   int32
	OrigColumn int32
	Name       int32
}

// Mappings holds every segment in one array: generated line i (0-based) is
// Segments[LineStart[i]:LineStart[i+1]], so LineStart has one entry more
// than there are lines.
type Mappings struct {
	Segments  []Segment
	LineStart []uint32
}

// Lines is the number of generated lines, empty ones included.
func (m Mappings) Lines() int { return len(m.LineStart) - 1 }

// Line is generated line i's segments; appending to it cannot overwrite the
// next line.
func (m Mappings) Line(i int) []Segment {
	return m.Segments[m.LineStart[i]:m.LineStart[i+1]:m.LineStart[i+1]]
}

// MaxValue bounds every column, line and index a Segment holds.
const MaxValue = 1<<31 - 1

// maxSegments keeps line offsets within uint32.
const maxSegments = 1<<32 - 1

// Decode decodes a mappings string and checks every field: generated
// columns and original positions must not be negative or above MaxValue,
// source and name indices must be below nSources and nNames, and a segment
// has 1, 4 or 5 fields. Source, original line/column and name are relative
// to the previous segment of the whole map; the generated column resets at
// each line. Empty segments (",,") are skipped.
func Decode(mappings string, nSources, nNames int) (Mappings, error) {
	lineStart := make([]uint32, 1, 2+strings.Count(mappings, ";"))
	// One backing array for all lines keeps allocation count low on big maps;
	// the separators give a close upper bound on the number of segments.
	backing := make([]Segment, 0, strings.Count(mappings, ",")+strings.Count(mappings, ";")+1)
	var source, origLine, origColumn, name int64
	pos, n := 0, len(mappings)
	for {
		var genColumn int64
		for pos < n && mappings[pos] != ';' {
			if mappings[pos] == ',' {
				pos++
				continue
			}
			var fields [5]int64
			count := 0
			for pos < n && mappings[pos] != ',' && mappings[pos] != ';' {
				if count == 5 {
					return Mappings{}, fmt.Errorf("mappings: segment with more than 5 fields at byte %d", pos)
				}
				// Most values fit one character (-15..15): decode those inline.
				if d := base64Value[mappings[pos]]; d < 32 {
					v := int64(d >> 1)
					if d&1 != 0 {
						v = -v
					}
					fields[count] = v
					count++
					pos++
					continue
				}
				v, next, err := decodeVLQ(mappings, pos)
				if err != nil {
					return Mappings{}, err
				}
				fields[count] = v
				count++
				pos = next
			}
			genColumn += fields[0]
			if genColumn < 0 || genColumn > MaxValue {
				return Mappings{}, fmt.Errorf("mappings: generated column %d out of range at byte %d", genColumn, pos)
			}
			seg := Segment{GenColumn: int32(genColumn), Source: -1, Name: -1}
			switch count {
			case 1:
			case 4, 5:
				source += fields[1]
				origLine += fields[2]
				origColumn += fields[3]
				if source < 0 || source >= int64(nSources) {
					return Mappings{}, fmt.Errorf("mappings: source index %d out of range (%d sources) at byte %d", source, nSources, pos)
				}
				if origLine < 0 || origLine > MaxValue || origColumn < 0 || origColumn > MaxValue {
					return Mappings{}, fmt.Errorf("mappings: original position %d:%d out of range at byte %d", origLine, origColumn, pos)
				}
				seg.Source, seg.OrigLine, seg.OrigColumn = int32(source), int32(origLine), int32(origColumn)
				if count == 5 {
					name += fields[4]
					if name < 0 || name >= int64(nNames) {
						return Mappings{}, fmt.Errorf("mappings: name index %d out of range (%d names) at byte %d", name, nNames, pos)
					}
					seg.Name = int32(name)
				}
			default:
				return Mappings{}, fmt.Errorf("mappings: segment with %d fields at byte %d", count, pos)
			}
			backing = append(backing, seg)
		}
		if len(backing) > maxSegments {
			return Mappings{}, fmt.Errorf("mappings: more than %d segments", maxSegments)
		}
		lineStart = append(lineStart, uint32(len(backing)))
		if pos >= n {
			return Mappings{Segments: backing, LineStart: lineStart}, nil
		}
		pos++ // ';'
	}
}

// Encode writes m as a mappings string: Decode(Encode(m)) gives m back for
// any m of at least one line (as Decode returns) whose segments are in range.
// A segment with Source -1 is written with one field, one with Name -1 with
// four. Every line is written, so trailing empty lines become trailing ";".
func Encode(m Mappings) string {
	b := make([]byte, 0, 4*len(m.Segments)+m.Lines())
	var source, origLine, origColumn, name int64
	for i := range m.Lines() {
		if i > 0 {
			b = append(b, ';')
		}
		var genColumn int64
		for j, s := range m.Line(i) {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendVLQ(b, int64(s.GenColumn)-genColumn)
			genColumn = int64(s.GenColumn)
			if s.Source < 0 {
				continue
			}
			b = appendVLQ(b, int64(s.Source)-source)
			b = appendVLQ(b, int64(s.OrigLine)-origLine)
			b = appendVLQ(b, int64(s.OrigColumn)-origColumn)
			source, origLine, origColumn = int64(s.Source), int64(s.OrigLine), int64(s.OrigColumn)
			if s.Name >= 0 {
				b = appendVLQ(b, int64(s.Name)-name)
				name = int64(s.Name)
			}
		}
	}
	return string(b)
}

const base64Digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// base64Value maps a base64 character to its 6-bit value, or 0xff.
var base64Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := range len(base64Digits) {
		t[base64Digits[i]] = byte(i)
	}
	return t
}()

var errVLQ = errors.New("mappings: invalid base64 VLQ")

// decodeVLQ reads one base64 VLQ value starting at pos.
func decodeVLQ(s string, pos int) (int64, int, error) {
	var result uint64
	shift := uint(0)
	for {
		if pos >= len(s) {
			return 0, pos, fmt.Errorf("%w: truncated value", errVLQ)
		}
		d := base64Value[s[pos]]
		if d == 0xff {
			return 0, pos, fmt.Errorf("%w: character %q at byte %d", errVLQ, s[pos], pos)
		}
		pos++
		result |= uint64(d&31) << shift
		if d&32 == 0 {
			break
		}
		shift += 5
		if shift > 31 {
			return 0, pos, fmt.Errorf("%w: value too large at byte %d", errVLQ, pos)
		}
	}
	v := int64(result >> 1)
	if result&1 != 0 {
		v = -v
	}
	return v, pos, nil
}

// appendVLQ appends v as base64 VLQ: sign in the lowest bit, then 5 bits per
// character, least significant first, bit 6 set on all but the last.
func appendVLQ(b []byte, v int64) []byte {
	u := uint64(v) << 1
	if v < 0 {
		u = uint64(-v)<<1 | 1
	}
	for {
		d := u & 31
		u >>= 5
		if u != 0 {
			d |= 32
		}
		b = append(b, base64Digits[d])
		if u == 0 {
			return b
		}
	}
}
