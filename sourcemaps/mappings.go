package sourcemaps

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// noValue marks a field a segment does not carry (rust-sourcemap uses !0).
const noValue = ^uint32(0)

// token is one decoded mapping segment, with absolute values.
type token struct {
	line, col                uint32 // generated position
	src, srcLine, srcCol, nm uint32 // noValue when absent
}

const base64Digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

var base64Value = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := range len(base64Digits) {
		t[base64Digits[i]] = int8(i)
	}
	return t
}()

// decodeMappings reads a "mappings" string as rust-sourcemap does: segments
// of 1, 4 or 5 fields, source and name indexes checked against the tables.
func decodeMappings(mappings string, sources, names int) ([]token, error) {
	var tokens []token
	var src, srcLine, srcCol, nm int64
	nums := make([]int64, 0, 6)
	for line, text := range strings.Split(mappings, ";") {
		var col int64
		for seg := range strings.SplitSeq(text, ",") {
			if seg == "" {
				continue
			}
			nums = nums[:0]
			var err error
			if nums, err = decodeVLQSegment(seg, nums); err != nil {
				return nil, fmt.Errorf("mappings line %d: %w", line+1, err)
			}
			if n := len(nums); n != 1 && n != 4 && n != 5 {
				return nil, fmt.Errorf("mappings line %d: a segment has %d fields", line+1, n)
			}
			col += nums[0]
			t := token{line: uint32(line), col: uint32(col), src: noValue, srcLine: noValue, srcCol: noValue, nm: noValue}
			if len(nums) > 1 {
				src += nums[1]
				if src < 0 || src >= int64(sources) {
					return nil, fmt.Errorf("mappings line %d: source %d does not exist", line+1, src)
				}
				srcLine += nums[2]
				srcCol += nums[3]
				t.src, t.srcLine, t.srcCol = uint32(src), uint32(srcLine), uint32(srcCol)
				if len(nums) > 4 {
					nm += nums[4]
					if nm < 0 || nm >= int64(names) {
						return nil, fmt.Errorf("mappings line %d: name %d does not exist", line+1, nm)
					}
					t.nm = uint32(nm)
				}
			}
			tokens = append(tokens, t)
		}
	}
	return tokens, nil
}

func decodeVLQSegment(seg string, out []int64) ([]int64, error) {
	var value int64
	var shift uint
	for i := 0; i < len(seg); i++ {
		d := base64Value[seg[i]]
		if d < 0 {
			return nil, fmt.Errorf("invalid character %q", seg[i])
		}
		if shift > 60 {
			return nil, fmt.Errorf("number too large in %q", seg)
		}
		value |= int64(d&31) << shift
		if d&32 != 0 {
			shift += 5
			continue
		}
		if value&1 != 0 {
			value = -(value >> 1)
		} else {
			value >>= 1
		}
		out = append(out, value)
		value, shift = 0, 0
	}
	if shift != 0 {
		return nil, fmt.Errorf("segment %q ends inside a number", seg)
	}
	return out, nil
}

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

// encodeMappings writes sorted tokens as rust-sourcemap serializes them: a
// token equal to the one before it on the same line is left out.
func encodeMappings(tokens []token) string {
	var b []byte
	var line, col, src, srcLine, srcCol, nm int64
	for i, t := range tokens {
		if int64(t.line) != line {
			col = 0
			for int64(t.line) != line {
				b = append(b, ';')
				line++
			}
		} else if i > 0 {
			if t == tokens[i-1] {
				continue
			}
			b = append(b, ',')
		}
		b = appendVLQ(b, int64(t.col)-col)
		col = int64(t.col)
		if t.src != noValue {
			b = appendVLQ(b, int64(t.src)-src)
			src = int64(t.src)
			b = appendVLQ(b, int64(t.srcLine)-srcLine)
			srcLine = int64(t.srcLine)
			b = appendVLQ(b, int64(t.srcCol)-srcCol)
			srcCol = int64(t.srcCol)
			if t.nm != noValue {
				b = appendVLQ(b, int64(t.nm)-nm)
				nm = int64(t.nm)
			}
		}
	}
	return string(b)
}

// shiftForPrepend moves tokens as posthog-cli's composition with its edit
// map does for text prepended on the first line: columns on line 0 move right
// by shift, tokens on lines past the last line of the file are dropped, and
// the result is sorted by generated position.
func shiftForPrepend(tokens []token, shift uint32, lines int) []token {
	out := make([]token, 0, len(tokens))
	for _, t := range tokens {
		if int(t.line) >= lines {
			continue
		}
		if t.line == 0 {
			t.col += shift
		}
		out = append(out, t)
	}
	// rust-sourcemap sorts unstably; a stable sort gives the same order
	// whenever no two tokens share a generated position.
	slices.SortStableFunc(out, func(a, b token) int {
		return cmp.Or(cmp.Compare(a.line, b.line), cmp.Compare(a.col, b.col))
	})
	return out
}
