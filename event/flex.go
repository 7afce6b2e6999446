package event

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// The flex types decode what clients send without ever failing: SDKs in
// the wild put numbers in strings, floats in line numbers and nulls
// anywhere, and one odd field must not cost the whole event.

// flexString takes a string, or the text of a number or boolean.
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
		// null, objects and arrays carry no usable string
	default:
		*s = flexString(b) // number or boolean, as written
	}
	return nil
}

// flexInt takes an integer, a float (truncated) or a numeric string.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	text := string(b)
	if len(b) > 0 && b[0] == '"' {
		var v string
		if json.Unmarshal(b, &v) != nil {
			return nil
		}
		text = strings.TrimSpace(v)
	}
	if i, err := strconv.ParseInt(text, 10, 64); err == nil {
		*n = flexInt(clampInt(float64(i)))
		return nil
	}
	if f, err := strconv.ParseFloat(text, 64); err == nil && !math.IsNaN(f) {
		*n = flexInt(clampInt(f))
	}
	return nil
}

func clampInt(f float64) int {
	const limit = 1 << 31
	switch {
	case f > limit:
		return limit
	case f < -limit:
		return -limit
	}
	return int(f)
}

// flexBool takes a boolean, "true"/"false" or a number (non-zero is true).
type flexBool struct {
	set, v bool
}

func (x *flexBool) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) != nil {
			return nil
		}
		b = []byte(strings.ToLower(strings.TrimSpace(s)))
	}
	switch string(b) {
	case "true", "1", "yes":
		*x = flexBool{set: true, v: true}
	case "false", "0", "no", "":
		*x = flexBool{set: true, v: false}
	default:
		if f, err := strconv.ParseFloat(string(b), 64); err == nil {
			*x = flexBool{set: true, v: f != 0}
		}
	}
	return nil
}

// flexList is a JSON array whose elements that do not decode as T are
// skipped; anything that is not an array is an empty list.
type flexList[T any] []T

func (l *flexList[T]) UnmarshalJSON(b []byte) error {
	var raws []json.RawMessage
	if json.Unmarshal(b, &raws) != nil {
		*l = nil
		return nil
	}
	out := make([]T, 0, len(raws))
	for _, raw := range raws {
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		var v T
		if json.Unmarshal(raw, &v) == nil {
			out = append(out, v)
		}
	}
	*l = out
	return nil
}

// flexObject decodes T from a JSON object and leaves it zero for anything
// else, so a junk nested value does not fail its parent.
type flexObject[T any] struct {
	V  T
	OK bool
}

func (o *flexObject[T]) UnmarshalJSON(b []byte) error {
	var v T
	if json.Unmarshal(b, &v) == nil && len(bytes.TrimSpace(b)) > 0 && bytes.TrimSpace(b)[0] == '{' {
		*o = flexObject[T]{V: v, OK: true}
	}
	return nil
}

// strings returns the list's elements as plain strings.
func stringsOf(l flexList[flexString]) []string {
	if len(l) == 0 {
		return nil
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = string(s)
	}
	return out
}
