package event

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// decodeExceptionList reads a PostHog $exception_list (raw, valid JSON as
// sent, nil when absent) into exceptions without decoding it generically:
// the result is what exceptionFromWire makes of decodeAny's maps (keys
// matched exactly, after unescaping; a repeated key's last value; every
// value read the forgiving way of the as* helpers), at a fraction of the
// allocations. It was the largest part of parsing a posthog-js event.
func decodeExceptionList(raw []byte) []Exception {
	if len(raw) == 0 || raw[0] != '[' {
		return nil
	}
	s := scanBytes(raw)
	s.pos = 1
	var list []Exception
	_ = s.eachElement(func(int) (bool, error) {
		c, err := s.nonSpace()
		if err != nil || c != '{' {
			if err == nil {
				err = s.skipValue(c, 1)
			}
			return true, err
		}
		var f [len(exceptionKeys)][]byte
		if err := s.objectFields(exceptionKeys[:], f[:]); err != nil {
			return true, err
		}
		list = append(list, exceptionFromJSON(f))
		return true, nil
	}, 1)
	return list
}

var exceptionKeys = [...]string{"type", "value", "mechanism", "stacktrace"}

var mechanismKeys = [...]string{"type", "source", "synthetic", "handled", "exception_id", "parent_id"}

var stacktraceKeys = [...]string{"type", "frames"}

var frameKeys = [...]string{"platform", "filename", "abs_path", "function", "module", "lineno", "colno",
	"in_app", "chunk_id", "debug_id", "context_line", "pre_context", "post_context"}

// exceptionFromJSON is exceptionFromWire over an exception object's values
// as written (by exceptionKeys).
func exceptionFromJSON(f [len(exceptionKeys)][]byte) Exception {
	x := Exception{Type: strings.TrimSpace(jsonAsString(f[0])), Value: jsonAsString(f[1])}
	if isJSONObject(f[2]) {
		var m [len(mechanismKeys)][]byte
		scanBytes(f[2]).fieldsOf(mechanismKeys[:], m[:])
		x.Mechanism = Mechanism{Type: jsonAsString(m[0]), Source: jsonAsString(m[1])}
		x.Mechanism.Synthetic, _ = jsonAsBool(m[2])
		if handled, ok := jsonAsBool(m[3]); ok {
			x.Mechanism.Handled = &handled
		}
		x.Mechanism.ExceptionID = jsonAsIntPtr(m[4])
		x.Mechanism.ParentID = jsonAsIntPtr(m[5])
	}
	if isJSONObject(f[3]) {
		var st [len(stacktraceKeys)][]byte
		scanBytes(f[3]).fieldsOf(stacktraceKeys[:], st[:])
		x.StacktraceType = jsonAsString(st[0])
		x.Frames = framesFromJSON(st[1])
	}
	return x
}

// framesFromJSON is framesFromWire over a frames array as written.
func framesFromJSON(raw []byte) []Frame {
	if len(raw) == 0 || raw[0] != '[' {
		return nil
	}
	var frames []Frame
	s := scanBytes(raw)
	s.pos = 1
	_ = s.eachElement(func(int) (bool, error) {
		c, err := s.nonSpace()
		if err != nil || c != '{' {
			if err == nil {
				err = s.skipValue(c, 1)
			}
			return true, err
		}
		var f [len(frameKeys)][]byte
		if err := s.objectFields(frameKeys[:], f[:]); err != nil {
			return true, err
		}
		inApp, _ := jsonAsBool(f[7])
		frames = append(frames, Frame{
			Platform:    strings.TrimSpace(jsonAsString(f[0])),
			Filename:    jsonAsString(f[1]),
			AbsPath:     jsonAsString(f[2]),
			Function:    jsonAsString(f[3]),
			Module:      jsonAsString(f[4]),
			Lineno:      jsonAsInt(f[5]),
			Colno:       jsonAsInt(f[6]),
			InApp:       inApp,
			ChunkID:     jsonAsString(f[8]),
			DebugID:     jsonAsString(f[9]),
			ContextLine: jsonAsString(f[10]),
			PreContext:  jsonAsStrings(f[11]),
			PostContext: jsonAsStrings(f[12]),
		})
		return true, nil
	}, 1)
	return frames
}

func isJSONObject(raw []byte) bool { return len(raw) > 0 && raw[0] == '{' }

// fieldsOf reads the object s starts with (see objectFields).
func (s *jsonScanner) fieldsOf(names []string, out [][]byte) {
	if c, err := s.nonSpace(); err == nil && c == '{' {
		_ = s.objectFields(names, out)
	}
}

// objectFields consumes the rest of an object whose '{' was consumed
// (input in memory) and sets out[i] to the value of the key names[i] as
// written: the last one when the key repeats, as a decoded map holds it.
func (s *jsonScanner) objectFields(names []string, out [][]byte) error {
	return s.eachMember(func(key []byte) (bool, error) {
		i := fieldIndex(key, s.keyRaw, names)
		if i < 0 {
			return false, nil
		}
		v, err := s.memberValue(1)
		out[i] = v
		return true, err
	}, 1)
}

// fieldIndex is the index in names of a key the scanner read (key, or
// when that is nil the key as written, raw), or -1.
func fieldIndex(key, raw []byte, names []string) int {
	if key == nil {
		if bytes.IndexByte(raw, '\\') < 0 {
			return -1 // longer than every name
		}
		var k string
		if json.Unmarshal(raw, &k) != nil {
			return -1
		}
		key = []byte(k)
	}
	for i, n := range names {
		if string(key) == n {
			return i
		}
	}
	return -1
}

// The jsonAs* helpers are the as* helpers of wire.go over a value as
// written (valid JSON, nil when absent) instead of decodeAny's result.

// jsonAsString is asString.
func jsonAsString(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	switch c := raw[0]; {
	case c == '"':
		return jsonUnquote(raw)
	case c == 't':
		return "true"
	case c == 'f':
		return "false"
	case c == '-' || c >= '0' && c <= '9':
		return string(raw)
	}
	return ""
}

// jsonAsInt is asInt.
func jsonAsInt(raw []byte) int {
	if len(raw) == 0 {
		return 0
	}
	switch c := raw[0]; {
	case c == '"':
		return intOfText(strings.TrimSpace(jsonUnquote(raw)))
	case c == '-' || c >= '0' && c <= '9':
		return intOfText(string(raw))
	}
	return 0
}

// jsonAsIntPtr is asIntPtr.
func jsonAsIntPtr(raw []byte) *int {
	if len(raw) == 0 {
		return nil
	}
	if c := raw[0]; c == '"' || c == '-' || c >= '0' && c <= '9' {
		n := jsonAsInt(raw)
		return &n
	}
	return nil
}

// jsonAsBool is asBool.
func jsonAsBool(raw []byte) (value, set bool) {
	if len(raw) == 0 {
		return false, false
	}
	switch c := raw[0]; {
	case c == 't':
		return true, true
	case c == 'f':
		return false, true
	case c == '"':
		return boolOfText(jsonUnquote(raw))
	case c == '-' || c >= '0' && c <= '9':
		f, err := strconv.ParseFloat(string(raw), 64)
		return f != 0, err == nil
	}
	return false, false
}

// jsonAsStrings is asStrings.
func jsonAsStrings(raw []byte) []string {
	if len(raw) == 0 || raw[0] != '[' {
		return nil
	}
	var out []string
	s := scanBytes(raw)
	s.pos = 1
	_ = s.eachElement(func(int) (bool, error) {
		c, err := s.nonSpace()
		if err != nil {
			return true, err
		}
		start := s.pos - 1
		if err := s.skipValue(c, 1); err != nil {
			return true, err
		}
		switch {
		case c == '"', c == 't', c == 'f', c == '-', c >= '0' && c <= '9':
			out = append(out, jsonAsString(s.buf[start:s.pos]))
		}
		return true, nil
	}, 1)
	return out
}

// jsonUnquote decodes a JSON string literal as encoding/json does (invalid
// UTF-8 becomes U+FFFD), without it when there is nothing to undo.
func jsonUnquote(raw []byte) string {
	if text, ok := plainJSONString(raw); ok {
		return string(text)
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}
