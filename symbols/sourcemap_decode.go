package symbols

import (
	"errors"
	"fmt"
	"strings"
)

// base64Value maps a base64 character to its 6-bit value, or 0xff.
var base64Value = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// decodeMappings decodes a `mappings` string into per-line segments and
// checks every field: generated columns and original positions must not be
// negative, source and name indices must be in range, and a segment has 1, 4
// or 5 fields. Source, original line/column and name are relative to the
// previous segment of the whole map; the generated column resets per line.
// decodedMappings holds every segment in one array: line i (0-based) is
// segments[lineStart[i]:lineStart[i+1]].
type decodedMappings struct {
	segments  []segment
	lineStart []uint32
}

func (d decodedMappings) lines() int { return len(d.lineStart) - 1 }

func (d decodedMappings) line(i int) []segment {
	return d.segments[d.lineStart[i]:d.lineStart[i+1]:d.lineStart[i+1]]
}

// maxSegments keeps line offsets within uint32.
const maxSegments = 1<<32 - 1

func decodeMappings(mappings string, nSources, nNames int) (decodedMappings, error) {
	lineStart := make([]uint32, 1, 2+countByte(mappings, ';'))
	// One backing array for all lines keeps allocation count low on big maps.
	backing := make([]segment, 0, estimateSegments(mappings))
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
					return decodedMappings{}, fmt.Errorf("mappings: segment with more than 5 fields at byte %d", pos)
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
					return decodedMappings{}, err
				}
				fields[count] = v
				count++
				pos = next
			}
			genColumn += fields[0]
			if genColumn < 0 || genColumn > maxGenerated {
				return decodedMappings{}, fmt.Errorf("mappings: generated column %d out of range at byte %d", genColumn, pos)
			}
			seg := segment{genColumn: int32(genColumn), source: -1, name: -1}
			switch count {
			case 1:
			case 4, 5:
				source += fields[1]
				origLine += fields[2]
				origColumn += fields[3]
				if source < 0 || source >= int64(nSources) {
					return decodedMappings{}, fmt.Errorf("mappings: source index %d out of range (%d sources) at byte %d", source, nSources, pos)
				}
				if origLine < 0 || origLine > maxGenerated || origColumn < 0 || origColumn > maxGenerated {
					return decodedMappings{}, fmt.Errorf("mappings: original position %d:%d out of range at byte %d", origLine, origColumn, pos)
				}
				seg.source, seg.origLine, seg.origColumn = int32(source), int32(origLine), int32(origColumn)
				if count == 5 {
					name += fields[4]
					if name < 0 || name >= int64(nNames) {
						return decodedMappings{}, fmt.Errorf("mappings: name index %d out of range (%d names) at byte %d", name, nNames, pos)
					}
					seg.name = int32(name)
				}
			default:
				return decodedMappings{}, fmt.Errorf("mappings: segment with %d fields at byte %d", count, pos)
			}
			backing = append(backing, seg)
		}
		if len(backing) > maxSegments {
			return decodedMappings{}, fmt.Errorf("mappings: more than %d segments", maxSegments)
		}
		lineStart = append(lineStart, uint32(len(backing)))
		if pos >= n {
			return decodedMappings{segments: backing, lineStart: lineStart}, nil
		}
		pos++ // ';'
	}
}

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

func countByte(s string, c byte) int {
	return strings.Count(s, string(c))
}

// estimateSegments guesses the segment count from the separators so the
// backing array rarely grows.
func estimateSegments(mappings string) int {
	return countByte(mappings, ',') + countByte(mappings, ';') + 1
}
