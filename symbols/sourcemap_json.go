package symbols

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// parseRawSourceMap reads the top level of a source map. encoding/json
// spends most of a big map's parse time validating and copying
// sourcesContent (tens of MB of escaped text) that we rarely read; this
// scanner checks that text is well-formed JSON and keeps it raw, to be
// unquoted on demand by SourceContent. The other fields, small, still go
// through encoding/json. Keys match exactly, as in JavaScript.
func parseRawSourceMap(data []byte) (*rawSourceMap, error) {
	p := jsonScanner{data: data}
	raw := &rawSourceMap{}
	p.skipSpace()
	if !p.consume('{') {
		return nil, p.fail("expected an object")
	}
	p.skipSpace()
	if p.consume('}') {
		return raw, p.end()
	}
	for {
		p.skipSpace()
		keyStart := p.pos
		if err := p.skipString(); err != nil {
			return nil, err
		}
		var key string
		if err := json.Unmarshal(data[keyStart:p.pos], &key); err != nil {
			return nil, p.fail("bad key")
		}
		p.skipSpace()
		if !p.consume(':') {
			return nil, p.fail("expected ':'")
		}
		p.skipSpace()
		if err := p.field(raw, key); err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.consume(',') {
			continue
		}
		if p.consume('}') {
			return raw, p.end()
		}
		return nil, p.fail("expected ',' or '}'")
	}
}

func (p *jsonScanner) field(raw *rawSourceMap, key string) error {
	start := p.pos
	switch key {
	case "mappings":
		if err := p.skipString(); err != nil {
			return err
		}
		var s string
		if err := unquote(p.data[start:p.pos], &s); err != nil {
			return p.fail("bad mappings string")
		}
		raw.Mappings = &s
		return nil
	case "sourcesContent":
		contents, err := p.rawStringArray()
		if err != nil {
			return err
		}
		raw.SourcesContent = contents
		return nil
	}
	if err := p.skipValue(0); err != nil {
		return err
	}
	value := p.data[start:p.pos]
	var target any
	switch key {
	case "version":
		raw.Version = nil
		target = &raw.Version
	case "file":
		target = &raw.File
	case "sourceRoot":
		target = &raw.SourceRoot
	case "sources":
		target = &raw.Sources
	case "names":
		target = &raw.Names
	case "sections":
		target = &raw.Sections
	case "ignoreList":
		target = &raw.IgnoreList
	case "x_google_ignoreList":
		target = &raw.XGoogleIgnoreList
	default:
		return nil
	}
	if err := json.Unmarshal(value, target); err != nil {
		return fmt.Errorf("field %q: %v", key, err)
	}
	return nil
}

// unquote decodes a JSON string; without escapes it is a plain copy.
func unquote(quoted []byte, s *string) error {
	inner := quoted[1 : len(quoted)-1]
	for _, c := range inner {
		if c == '\\' {
			return json.Unmarshal(quoted, s)
		}
	}
	*s = string(inner)
	return nil
}

// rawStringArray reads an array of strings and nulls. The elements share
// one copy of the array's bytes.
func (p *jsonScanner) rawStringArray() ([]json.RawMessage, error) {
	if p.consume('n') {
		p.pos--
		return nil, p.skipValue(0)
	}
	start := p.pos
	if !p.consume('[') {
		return nil, p.fail("expected an array")
	}
	type span struct{ from, to int }
	var spans []span
	p.skipSpace()
	if !p.consume(']') {
		for {
			p.skipSpace()
			from := p.pos
			if p.pos < len(p.data) && p.data[p.pos] == '"' {
				if err := p.skipString(); err != nil {
					return nil, err
				}
			} else if err := p.literal("null"); err != nil {
				return nil, err
			}
			spans = append(spans, span{from - start, p.pos - start})
			p.skipSpace()
			if p.consume(',') {
				continue
			}
			if p.consume(']') {
				break
			}
			return nil, p.fail("expected ',' or ']'")
		}
	}
	copied := append([]byte(nil), p.data[start:p.pos]...)
	out := make([]json.RawMessage, len(spans))
	for i, s := range spans {
		out[i] = copied[s.from:s.to:s.to]
	}
	return out, nil
}

type jsonScanner struct {
	data []byte
	pos  int
}

var errJSON = errors.New("json")

func (p *jsonScanner) fail(what string) error {
	return fmt.Errorf("%w: %s at byte %d", errJSON, what, p.pos)
}

func (p *jsonScanner) end() error {
	p.skipSpace()
	if p.pos != len(p.data) {
		return p.fail("data after the top-level object")
	}
	return nil
}

func (p *jsonScanner) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonScanner) consume(c byte) bool {
	if p.pos < len(p.data) && p.data[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

// skipString moves past a string, checking escapes, control characters and
// UTF-8 as JSON requires.
func (p *jsonScanner) skipString() error {
	if !p.consume('"') {
		return p.fail("expected a string")
	}
	data := p.data
	i := p.pos
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return nil
		case c == '\\':
			if i+1 >= len(data) {
				p.pos = i
				return p.fail("unterminated string")
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) || !isHex4(data[i+2:i+6]) {
					p.pos = i
					return p.fail("bad \\u escape")
				}
				i += 6
			default:
				p.pos = i
				return p.fail("bad escape")
			}
		case c < 0x20:
			p.pos = i
			return p.fail("control character in string")
		case c < utf8.RuneSelf:
			i++
			// Most of a map is plain ASCII text: skip it 8 bytes at a time.
			for i+8 <= len(data) && plainASCII8(binary.LittleEndian.Uint64(data[i:])) {
				i += 8
			}
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				p.pos = i
				return p.fail("invalid UTF-8")
			}
			i += size
		}
	}
	p.pos = len(data)
	return p.fail("unterminated string")
}

// plainASCII8 reports whether 8 bytes hold no '"', '\\', control
// character or non-ASCII byte (the classic SWAR zero-byte tests).
func plainASCII8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	special := x&highs | // non-ASCII
		(x-0x20*ones)&^x&highs | // a byte below 0x20
		hasZero(x^('"'*ones)) |
		hasZero(x^('\\'*ones))
	return special == 0
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func (p *jsonScanner) literal(word string) error {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return p.fail("bad literal")
	}
	p.pos += len(word)
	return nil
}

// maxJSONDepth bounds nesting so junk cannot exhaust the stack.
const maxJSONDepth = 64

// skipValue moves past any JSON value. Numbers are checked loosely here;
// encoding/json checks every skipped value that we keep.
func (p *jsonScanner) skipValue(depth int) error {
	if depth > maxJSONDepth {
		return p.fail("nested too deeply")
	}
	if p.pos >= len(p.data) {
		return p.fail("unexpected end")
	}
	switch c := p.data[p.pos]; {
	case c == '"':
		return p.skipString()
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		p.pos++
		p.skipSpace()
		if p.consume(closer) {
			return nil
		}
		for {
			p.skipSpace()
			if c == '{' {
				if err := p.skipString(); err != nil {
					return err
				}
				p.skipSpace()
				if !p.consume(':') {
					return p.fail("expected ':'")
				}
				p.skipSpace()
			}
			if err := p.skipValue(depth + 1); err != nil {
				return err
			}
			p.skipSpace()
			if p.consume(',') {
				continue
			}
			if p.consume(closer) {
				return nil
			}
			return p.fail("expected ',' or a closing bracket")
		}
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		for p.pos < len(p.data) && isNumberByte(p.data[p.pos]) {
			p.pos++
		}
		return nil
	}
	return p.fail("unexpected character")
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}
