package event

import (
	"bytes"
	"encoding/json"
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

// flexInt decodes an integer, a float (truncated) or a numeric string;
// anything else reads as 0.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	*n = flexInt(asInt(decodeAny(b)))
	return nil
}
