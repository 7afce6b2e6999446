package event

import (
	"errors"
	"fmt"
	"io"
)

// jsonScanner walks JSON text byte by byte without keeping it: it checks
// the grammar, skips values, and copies out only the few short values the
// caller asks for. It reads a stream (an inflating gzip reader) as well as
// bytes in memory, so the capture decoder can find the token and count
// events before it holds a whole inflated body, and split a body in memory
// into events without copying them.
type jsonScanner struct {
	src  io.Reader // nil when buf is the whole input
	buf  []byte
	pos  int
	base int64 // stream offset of buf[0]
	err  error // what src returned last; io.EOF at the end

	rec    []byte // bytes consumed while recording
	recMax int    // recording stops growing rec past this
	recOn  bool
	recCut bool // rec was cut at recMax

	keyBuf []byte // the last key read from a stream, when short and plain
	// keyRaw is the last key as written, quotes included, for input in
	// memory (nil when reading a stream): an escaped key is read from it.
	keyRaw []byte
}

// maxJSONDepth matches encoding/json's nesting limit, so the scanner
// refuses nothing encoding/json accepts for depth.
const maxJSONDepth = 10000

func scanBytes(b []byte) *jsonScanner { return &jsonScanner{buf: b} }

func scanReader(r io.Reader) *jsonScanner {
	return &jsonScanner{src: r, buf: make([]byte, 0, 64<<10)}
}

// errEndOfInput marks input that ends inside a value.
var errEndOfInput = errors.New("unexpected end of JSON input")

// next consumes one byte. ok is false at the end of input or on a read
// error (then s.failure() says which).
func (s *jsonScanner) next() (byte, bool) {
	if s.pos == len(s.buf) && !s.fill() {
		return 0, false
	}
	c := s.buf[s.pos]
	s.pos++
	if s.recOn {
		if len(s.rec) < s.recMax {
			s.rec = append(s.rec, c)
		} else {
			s.recCut = true
		}
	}
	return c, true
}

// back un-consumes the byte next just returned.
func (s *jsonScanner) back() {
	s.pos--
	if s.recOn && !s.recCut && len(s.rec) > 0 {
		s.rec = s.rec[:len(s.rec)-1]
	}
}

func (s *jsonScanner) fill() bool {
	if s.src == nil || s.err != nil {
		if s.err == nil {
			s.err = io.EOF
		}
		return false
	}
	s.base += int64(len(s.buf))
	s.buf, s.pos = s.buf[:cap(s.buf)], 0
	for {
		n, err := s.src.Read(s.buf)
		s.buf = s.buf[:n]
		if err != nil {
			s.err = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// offset is how many bytes have been consumed.
func (s *jsonScanner) offset() int64 { return s.base + int64(s.pos) }

// failure is the error to report when next ran out: a read error of the
// source (a corrupt or oversized gzip stream) or the end of input.
func (s *jsonScanner) failure() error {
	if s.err != nil && !errors.Is(s.err, io.EOF) {
		return s.err
	}
	return errEndOfInput
}

func (s *jsonScanner) syntax(format string, args ...any) error {
	return fmt.Errorf("%s at byte %d", fmt.Sprintf(format, args...), s.offset())
}

// nonSpace consumes whitespace and returns the next other byte, consumed.
func (s *jsonScanner) nonSpace() (byte, error) {
	if s.src == nil && !s.recOn {
		for s.pos < len(s.buf) {
			c := s.buf[s.pos]
			s.pos++
			switch c {
			case ' ', '\t', '\n', '\r':
				continue
			}
			return c, nil
		}
		return 0, s.failure()
	}
	for {
		c, ok := s.next()
		if !ok {
			return 0, s.failure()
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, nil
	}
}

// atEnd reports whether only whitespace is left.
func (s *jsonScanner) atEnd() (bool, error) {
	for {
		c, ok := s.next()
		if !ok {
			if f := s.failure(); f != errEndOfInput {
				return false, f
			}
			return true, nil
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		s.back()
		return false, nil
	}
}

// startRecording makes the scanner copy what it consumes, up to max bytes.
func (s *jsonScanner) startRecording(max int) {
	s.rec, s.recMax, s.recOn, s.recCut = s.rec[:0], max, true, false
}

// stopRecording returns what was recorded; cut says it was longer than max.
func (s *jsonScanner) stopRecording() (rec []byte, cut bool) {
	s.recOn = false
	return s.rec, s.recCut
}

// recordValue consumes the value starting with first (already consumed)
// and returns its text, or nil when it is longer than max.
func (s *jsonScanner) recordValue(first byte, max int) ([]byte, error) {
	s.startRecording(max)
	s.rec = append(s.rec, first)
	err := s.skipValue(first, 0)
	rec, cut := s.stopRecording()
	if err != nil || cut {
		return nil, err
	}
	return rec, nil
}

// skipValue consumes the rest of the value whose first byte (already
// consumed) is first.
func (s *jsonScanner) skipValue(first byte, depth int) error {
	switch first {
	case '{':
		return s.skipObject(depth + 1)
	case '[':
		return s.skipArray(depth + 1)
	case '"':
		return s.skipString()
	case 't':
		return s.literal("rue")
	case 'f':
		return s.literal("alse")
	case 'n':
		return s.literal("ull")
	}
	if first == '-' || first >= '0' && first <= '9' {
		return s.skipNumber(first)
	}
	return s.syntax("invalid character %q looking for a value", first)
}

func (s *jsonScanner) literal(rest string) error {
	for i := range len(rest) {
		c, ok := s.next()
		if !ok {
			return s.failure()
		}
		if c != rest[i] {
			return s.syntax("invalid character %q in literal", c)
		}
	}
	return nil
}

func (s *jsonScanner) skipObject(depth int) error {
	if depth > maxJSONDepth {
		return s.syntax("exceeded max depth")
	}
	return s.eachMember(skipMember, depth)
}

func (s *jsonScanner) skipArray(depth int) error {
	if depth > maxJSONDepth {
		return s.syntax("exceeded max depth")
	}
	return s.eachElement(func(int) (bool, error) { return false, nil }, depth)
}

func skipMember([]byte) (bool, error) { return false, nil }

// eachElement walks the array whose '[' was consumed. For each element it
// calls visit; when visit returns true it has consumed the element itself
// (with skipValue or recordValue after nonSpace), else it is skipped.
func (s *jsonScanner) eachElement(visit func(i int) (bool, error), depth int) error {
	c, err := s.nonSpace()
	if err != nil {
		return err
	}
	if c == ']' {
		return nil
	}
	s.back()
	for i := 0; ; i++ {
		consumed, err := visit(i)
		if err != nil {
			return err
		}
		if !consumed {
			c, err := s.nonSpace()
			if err != nil {
				return err
			}
			if err := s.skipValue(c, depth); err != nil {
				return err
			}
		}
		c, err := s.nonSpace()
		if err != nil {
			return err
		}
		switch c {
		case ',':
		case ']':
			return nil
		default:
			return s.syntax("invalid character %q after array element", c)
		}
	}
}

// maxKeyLen is how much of an object key eachMember keeps: the keys the
// decoder looks for are short, longer ones are skipped unread.
const maxKeyLen = 64

// eachMember walks the object whose '{' was consumed. For each member it
// calls visit with the key, nil when it is escaped or longer than
// maxKeyLen (keyRaw then has it as written, for input in memory); the key
// is the scanner's own, valid until the next one. When visit returns true
// it has consumed the value itself.
func (s *jsonScanner) eachMember(visit func(key []byte) (bool, error), depth int) error {
	c, err := s.nonSpace()
	if err != nil {
		return err
	}
	if c == '}' {
		return nil
	}
	for {
		if c != '"' {
			return s.syntax("invalid character %q looking for an object key", c)
		}
		keyStart := s.pos - 1
		key, err := s.key()
		if err != nil {
			return err
		}
		if s.src == nil {
			s.keyRaw = s.buf[keyStart:s.pos]
		}
		if c, err = s.nonSpace(); err != nil {
			return err
		}
		if c != ':' {
			return s.syntax("invalid character %q after object key", c)
		}
		consumed, err := visit(key)
		if err != nil {
			return err
		}
		if !consumed {
			c, err := s.nonSpace()
			if err != nil {
				return err
			}
			if err := s.skipValue(c, depth); err != nil {
				return err
			}
		}
		if c, err = s.nonSpace(); err != nil {
			return err
		}
		switch c {
		case ',':
			if c, err = s.nonSpace(); err != nil {
				return err
			}
		case '}':
			return nil
		default:
			return s.syntax("invalid character %q after object value", c)
		}
	}
}

// key consumes a string whose opening quote was consumed and returns it
// when it is short and plain (no escapes), which the keys the decoder
// looks for are; otherwise nil. It is valid until the next key: part of
// the input in memory, else the scanner's own buffer.
func (s *jsonScanner) key() ([]byte, error) {
	plain := true
	if s.src == nil && !s.recOn {
		// In memory, a plain key is the input itself.
		b := s.buf[s.pos:]
		for i, c := range b {
			if c == '"' {
				if i > maxKeyLen {
					break
				}
				s.pos += i + 1
				return b[:i:i], nil
			}
			if c == '\\' || c < 0x20 {
				break
			}
		}
	}
	if s.keyBuf == nil {
		s.keyBuf = make([]byte, 0, maxKeyLen)
	}
	k := s.keyBuf[:0]
	for {
		c, ok := s.next()
		if !ok {
			return nil, s.failure()
		}
		switch {
		case c == '"':
			if !plain {
				return nil, nil
			}
			return k, nil
		case c == '\\':
			plain = false
			if err := s.escape(); err != nil {
				return nil, err
			}
		case c < 0x20:
			return nil, s.syntax("invalid control character in string")
		case len(k) < maxKeyLen:
			k = append(k, c)
		default:
			plain = false
		}
	}
}

func (s *jsonScanner) skipString() error {
	if s.src == nil && !s.recOn {
		// In memory, the plain run up to the closing quote or an escape is skipped at once.
		b := s.buf[s.pos:]
		for i, c := range b {
			if c == '"' {
				s.pos += i + 1
				return nil
			}
			if c == '\\' || c < 0x20 {
				s.pos += i
				break
			}
		}
	}
	for {
		c, ok := s.next()
		if !ok {
			return s.failure()
		}
		switch {
		case c == '"':
			return nil
		case c == '\\':
			if err := s.escape(); err != nil {
				return err
			}
		case c < 0x20:
			return s.syntax("invalid control character in string")
		}
	}
}

func (s *jsonScanner) escape() error {
	c, ok := s.next()
	if !ok {
		return s.failure()
	}
	switch c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return nil
	case 'u':
		for range 4 {
			h, ok := s.next()
			if !ok {
				return s.failure()
			}
			if !isHex(h) {
				return s.syntax("invalid character %q in \\u escape", h)
			}
		}
		return nil
	}
	return s.syntax("invalid escape \\%c", c)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// skipNumber consumes the rest of a number; the byte after it is left.
func (s *jsonScanner) skipNumber(first byte) error {
	c, ok := first, true
	if c == '-' {
		if c, ok = s.next(); !ok {
			return s.failure()
		}
	}
	switch {
	case c == '0':
	case c >= '1' && c <= '9':
		if _, ok = s.digits(); !ok {
			return nil
		}
		s.back()
	default:
		return s.syntax("invalid character %q in number", c)
	}
	if c, ok = s.next(); !ok {
		return nil
	}
	if c == '.' {
		if err := s.needDigit(); err != nil {
			return err
		}
		if c, ok = s.digits(); !ok {
			return nil
		}
	}
	if c == 'e' || c == 'E' {
		if c, ok = s.next(); !ok {
			return s.failure()
		}
		if c != '+' && c != '-' {
			s.back()
		}
		if err := s.needDigit(); err != nil {
			return err
		}
		if _, ok = s.digits(); !ok {
			return nil
		}
	}
	s.back()
	return nil
}

func (s *jsonScanner) needDigit() error {
	c, ok := s.next()
	if !ok {
		return s.failure()
	}
	if c < '0' || c > '9' {
		return s.syntax("invalid character %q in number", c)
	}
	return nil
}

// digits consumes digits and returns the first other byte, consumed; ok
// is false at the end of input.
func (s *jsonScanner) digits() (byte, bool) {
	if s.src == nil && !s.recOn {
		for s.pos < len(s.buf) {
			c := s.buf[s.pos]
			s.pos++
			if c < '0' || c > '9' {
				return c, true
			}
		}
		return 0, false
	}
	for {
		c, ok := s.next()
		if !ok || c < '0' || c > '9' {
			return c, ok
		}
	}
}
