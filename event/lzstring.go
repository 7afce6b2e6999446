package event

import (
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// lzBase64Values maps a character of lz-string's compressToBase64 output
// to its 6-bit value. Characters outside the alphabet read as 0, as in
// lz-string itself; ' ' is a '+' that form decoding turned into a space,
// and '-' / '$' are the URI-safe variant's 63 and padding.
var lzBase64Values = func() [256]uint8 {
	var t [256]uint8
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range len(alphabet) {
		t[alphabet[i]] = uint8(i)
	}
	t[' '] = 62
	t['-'] = 63
	return t
}()

var errLZCorrupt = errors.New("lz-string data is corrupt")

// lzSpan is one dictionary entry of the decompressor: a range of the
// output, because every entry is either a character just written or the
// previous phrase plus the first character written after it.
type lzSpan struct{ start, n int }

// lzBitReader reads lz-string's bitstream: 6 bits per base64 character,
// most significant first, assembled into values least significant first.
type lzBitReader struct {
	in       string
	index    int // index of the character after the current one
	current  uint8
	position uint // bits left in current
}

func (r *lzBitReader) char(i int) uint8 {
	if i < len(r.in) {
		return lzBase64Values[r.in[i]]
	}
	return 0 // past the end reads as zeros, as lz-string's undefined does
}

func (r *lzBitReader) bits(n uint) int {
	v := 0
	for p := range n {
		r.position--
		v |= int(r.current>>r.position&1) << p
		if r.position == 0 {
			r.position = 6
			r.current = r.char(r.index)
			r.index++
		}
	}
	return v
}

// lzDecompressBase64 undoes lz-string's compressToBase64 (what posthog-js
// sends as compression=lz64) and returns UTF-8, refusing to produce more
// than max UTF-16 code units or bytes.
func lzDecompressBase64(in string, max int64) ([]byte, error) {
	if in == "" {
		return nil, errLZCorrupt
	}
	r := &lzBitReader{in: in, index: 1, position: 6}
	r.current = r.char(0)

	var out []uint16
	dict := make([]lzSpan, 3, 64) // 0, 1, 2 are the token codes
	enlargeIn, numBits := 4, uint(3)

	emitChar := func(c int) error {
		if int64(len(out)) >= max {
			return tooLarge("the lz-string data decompresses to more than %d bytes", max)
		}
		dict = append(dict, lzSpan{len(out), 1})
		out = append(out, uint16(c))
		return nil
	}

	switch r.bits(2) {
	case 0:
		if err := emitChar(r.bits(8)); err != nil {
			return nil, err
		}
	case 1:
		if err := emitChar(r.bits(16)); err != nil {
			return nil, err
		}
	case 2:
		return []byte{}, nil
	default:
		return nil, errLZCorrupt
	}
	w := dict[3]

	for r.index <= len(r.in) {
		code := r.bits(numBits)
		switch code {
		case 0, 1:
			c := r.bits(8 + 8*uint(code))
			enlargeIn-- // the new character took a dictionary slot
			if enlargeIn == 0 {
				enlargeIn = 1 << numBits
				numBits++
			}
			prev := w
			if err := emitChar(c); err != nil {
				return nil, err
			}
			w = dict[len(dict)-1]
			// The previous phrase plus this character sits contiguously in out.
			dict = append(dict, lzSpan{prev.start, prev.n + 1})
		case 2:
			return utf16ToUTF8(out, max)
		default:
			var entry lzSpan
			switch {
			case code < len(dict):
				entry = dict[code]
			case code == len(dict):
				entry = lzSpan{len(out), w.n + 1} // w + w[0], written next
			default:
				return nil, errLZCorrupt
			}
			if int64(len(out))+int64(entry.n) > max {
				return nil, tooLarge("the lz-string data decompresses to more than %d bytes", max)
			}
			if code == len(dict) {
				out = append(out, out[w.start:w.start+w.n]...)
				out = append(out, out[w.start])
			} else {
				out = append(out, out[entry.start:entry.start+entry.n]...)
			}
			// w + entry[0] sits contiguously in out: w then entry.
			dict = append(dict, lzSpan{w.start, w.n + 1})
			w = lzSpan{len(out) - entry.n, entry.n}
		}
		enlargeIn--
		if enlargeIn == 0 {
			enlargeIn = 1 << numBits
			numBits++
		}
	}
	return nil, errLZCorrupt // lz-string returns "" when the end token is missing
}

func utf16ToUTF8(units []uint16, max int64) ([]byte, error) {
	b := make([]byte, 0, len(units))
	for _, r := range utf16.Decode(units) {
		b = utf8.AppendRune(b, r)
	}
	if int64(len(b)) > max {
		return nil, tooLarge("the lz-string data decompresses to more than %d bytes", max)
	}
	return b, nil
}
