package testkit

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// GzipQuine builds a gzip file that decompresses to exactly itself (a
// valid header, deflate stream, CRC-32 and size), the construction from
// Russ Cox's "Zip Files All The Way Down". A decoder that keeps undoing
// gzip while the bytes start with gzip's magic never stops on it; tests
// send it to prove that ours does.
//
// The deflate stream is a program of two instructions, each exactly five
// bytes: L(n), a stored block whose n literal bytes follow, and R(n), a
// fixed-Huffman block copying the last n bytes. With P the gzip header and
// S the trailer, the program below prints P, then itself, then S.
func GzipQuine() []byte {
	header := []byte{0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 0xff, 'q', '.', 'g', 'z', 0} // FNAME "q.gz": 15 bytes, so R(|P|+5) is R(20)
	r20 := repeatBlock20()
	l := storedHeader
	lp := l(len(header) + 5)
	trailerSlot := make([]byte, 8) // CRC-32 and ISIZE, filled in below
	rs := repeatFinal12()
	ls := l(len(rs) + len(trailerSlot))

	build := func(trailer []byte) []byte {
		var b bytes.Buffer
		w := func(parts ...[]byte) {
			for _, p := range parts {
				b.Write(p)
			}
		}
		w(header)
		w(lp, header, lp) // prints P L
		w(r20)            // prints P L again
		w(l(5), r20)      // prints R
		w(l(5), l(5))     // prints L1
		w(l(20), r20, l(5), l(5), l(20))
		w(r20)
		w(l(20), r20, l(20), r20, l(20))
		w(r20)
		w(l(20), r20, l(0), l(0), ls)
		w(r20)
		w(l(0))
		w(l(0))
		w(ls, rs, trailer)
		w(rs)
		w(trailer)
		return b.Bytes()
	}

	// The trailer holds the CRC-32 of the output, which is the file, which
	// holds the trailer. CRC-32 is affine over GF(2) for a fixed length, so
	// crc(file(x)) = A·x ⊕ c; solve x = A·x ⊕ c for the 32 CRC bits.
	size := len(build(trailerSlot))
	fileWith := func(crc uint32) []byte {
		t := make([]byte, 8)
		binary.LittleEndian.PutUint32(t[0:4], crc)
		binary.LittleEndian.PutUint32(t[4:8], uint32(size))
		return build(t)
	}
	f := func(x uint32) uint32 { return crc32.ChecksumIEEE(fileWith(x)) }
	c := f(0)
	var rows [32]uint64 // row i: bits 0..31 coefficients of (A ⊕ I), bit 32 the constant
	for j := range 32 {
		col := f(1<<j) ^ c ^ (1 << j) // column j of A ⊕ I
		for i := range 32 {
			if col>>i&1 == 1 {
				rows[i] |= 1 << j
			}
		}
	}
	for i := range 32 {
		if c>>i&1 == 1 {
			rows[i] |= 1 << 32
		}
	}
	x, ok := solveGF2(rows)
	if !ok {
		panic("testkit: no CRC fixed point for the gzip quine; change its header")
	}
	return fileWith(x)
}

// storedHeader is a non-final stored deflate block of n bytes, starting on
// a byte boundary: one header byte, LEN and NLEN.
func storedHeader(n int) []byte {
	return []byte{0, byte(n), byte(n >> 8), ^byte(n), ^byte(n >> 8)}
}

// repeatBlock20 is a non-final fixed-Huffman block that copies the last 20
// bytes as two copies of 10 at distance 20: 3+2·(7+5+3)+7 = 40 bits.
func repeatBlock20() []byte {
	var w bitWriter
	w.bits(0, 1) // not final
	w.bits(1, 2) // fixed Huffman
	for range 2 {
		w.code(264-256, 7) // length 10
		w.code(8, 5)       // distance code 8: 17-24
		w.bits(20-17, 3)
	}
	w.code(0, 7) // end of block
	return w.bytes()
}

// repeatFinal12 is the final block: it copies the last 12 bytes (itself and
// the trailer) and ends the stream; 25 bits, padded to 4 bytes.
func repeatFinal12() []byte {
	var w bitWriter
	w.bits(1, 1) // final
	w.bits(1, 2) // fixed Huffman
	w.code(265-256, 7)
	w.bits(12-11, 1) // length 12
	w.code(6, 5)     // distance code 6: 9-12
	w.bits(12-9, 2)
	w.code(0, 7) // end of block
	return w.bytes()
}

// bitWriter packs deflate's bit stream: values least significant bit
// first, Huffman codes most significant bit first.
type bitWriter struct {
	out  []byte
	nbit uint
}

func (w *bitWriter) bit(b uint32) {
	if w.nbit%8 == 0 {
		w.out = append(w.out, 0)
	}
	w.out[len(w.out)-1] |= byte(b&1) << (w.nbit % 8)
	w.nbit++
}

func (w *bitWriter) bits(v uint32, n uint) {
	for i := range n {
		w.bit(v >> i)
	}
}

func (w *bitWriter) code(v uint32, n uint) {
	for i := n; i > 0; i-- {
		w.bit(v >> (i - 1))
	}
}

func (w *bitWriter) bytes() []byte { return w.out }

// solveGF2 solves 32 linear equations over GF(2) (bit 32 of each row is
// the right-hand side) by Gaussian elimination.
func solveGF2(rows [32]uint64) (uint32, bool) {
	for col := range 32 {
		pivot := -1
		for r := col; r < 32; r++ {
			if rows[r]>>col&1 == 1 {
				pivot = r
				break
			}
		}
		if pivot < 0 {
			return 0, false
		}
		rows[col], rows[pivot] = rows[pivot], rows[col]
		for r := range 32 {
			if r != col && rows[r]>>col&1 == 1 {
				rows[r] ^= rows[col]
			}
		}
	}
	var x uint32
	for i := range 32 {
		x |= uint32(rows[i]>>32&1) << i
	}
	return x, true
}
