package event

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// flexString decodes what clients put where a string belongs without ever
// failing: a string, or the text of a number or boolean as written; null,
// objects and arrays read as "".
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		if inner, ok := plainJSONString(b); ok {
			*s = flexString(inner)
			break
		}
		var v string
		if json.Unmarshal(b, &v) == nil {
			*s = flexString(v)
		}
	case 'n', '{', '[':
	default:
		*s = flexString(b)
	}
	return nil
}

// plainJSONString returns the text of a JSON string literal that has
// nothing to undo: no escape, valid UTF-8 (encoding/json would turn invalid
// bytes into U+FFFD). ok is false for any other input.
func plainJSONString(lit []byte) (text []byte, ok bool) {
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		return nil, false
	}
	text = lit[1 : len(lit)-1]
	for _, c := range text {
		if c == '\\' || c == '"' || c < 0x20 {
			return nil, false
		}
	}
	return text, utf8.Valid(text)
}

// isASCII reports whether b is all ASCII.
func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// asciiEqualFold reports whether the ASCII key equals the lower-case name
// but for the case of its letters, as encoding/json matches field names.
func asciiEqualFold(key []byte, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// flexText is the value raw (as written, nil when absent) as flexString reads it.
func flexText(raw []byte) string {
	var s flexString
	_ = s.UnmarshalJSON(raw)
	return string(s)
}

// flexInt decodes an integer, a float (truncated) or a numeric string;
// anything else reads as 0.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	*n = flexInt(asInt(decodeAny(b)))
	return nil
}
