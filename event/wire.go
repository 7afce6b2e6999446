package event

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// The as* helpers read values of a generically decoded JSON document
// (decodeAny) the forgiving way SDK payloads need: numbers in strings,
// floats in line numbers, nulls anywhere. They never fail; a value of the
// wrong kind reads as the zero value.

// decodeAny decodes JSON keeping numbers as written; junk decodes to nil.
func decodeAny(raw []byte) any {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}

func asString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func asInt(v any) int {
	switch v := v.(type) {
	case json.Number:
		return intOfText(v.String())
	case string:
		return intOfText(strings.TrimSpace(v))
	case float64:
		return clampInt(v)
	}
	return 0
}

// intOfText reads an integer, or a float truncated; anything else is 0.
func intOfText(text string) int {
	if i, err := strconv.ParseInt(text, 10, 64); err == nil {
		return clampInt(float64(i))
	}
	if f, err := strconv.ParseFloat(text, 64); err == nil && !math.IsNaN(f) {
		return clampInt(f)
	}
	return 0
}

func asIntPtr(v any) *int {
	switch v.(type) {
	case json.Number, string, float64:
		n := asInt(v)
		return &n
	}
	return nil
}

// asBool reads true/false, "true"/"false", or a number (non-zero is
// true); set is false when v says neither.
func asBool(v any) (value, set bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case json.Number:
		f, err := v.Float64()
		return f != 0, err == nil
	case string:
		return boolOfText(v)
	}
	return false, false
}

// boolOfText reads the strings asBool takes for a boolean.
func boolOfText(v string) (value, set bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes":
		return true, true
	case "false", "0", "no", "":
		return false, true
	}
	return false, false
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// asStrings reads a list of strings, skipping nulls and objects.
func asStrings(v any) []string {
	var out []string
	for _, item := range asList(v) {
		switch item.(type) {
		case string, json.Number, bool:
			out = append(out, asString(item))
		}
	}
	return out
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
