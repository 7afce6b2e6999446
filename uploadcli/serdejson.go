package uploadcli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file writes JSON the way serde_json (without preserve_order) does,
// because posthog-cli saves source maps through it: compact, object keys in
// byte order, only '"', '\\' and control characters escaped, everything else
// (including non-ASCII, '<', '/', U+2028) left as it is.

// decodeJSON parses a JSON document into maps, slices, strings, bools, nil
// and json.Number, so numbers keep their text.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return v, nil
}

type jsonWriter interface {
	WriteString(string) (int, error)
	WriteByte(byte) error
}

func writeJSONValue(w jsonWriter, v any) {
	switch v := v.(type) {
	case nil:
		w.WriteString("null")
	case bool:
		w.WriteString(strconv.FormatBool(v))
	case string:
		writeJSONString(w, v)
	case json.Number:
		w.WriteString(serdeNumber(v))
	case int:
		w.WriteString(strconv.Itoa(v))
	case []any:
		w.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				w.WriteByte(',')
			}
			writeJSONValue(w, e)
		}
		w.WriteByte(']')
	case []string:
		w.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				w.WriteByte(',')
			}
			writeJSONString(w, e)
		}
		w.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys) // Go compares strings bytewise, as Rust's BTreeMap does
		w.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				w.WriteByte(',')
			}
			writeJSONString(w, k)
			w.WriteByte(':')
			writeJSONValue(w, v[k])
		}
		w.WriteByte('}')
	default:
		panic(fmt.Sprintf("uploadcli: cannot write %T as JSON", v))
	}
}

const hexDigits = "0123456789abcdef"

func writeJSONString(w jsonWriter, s string) {
	w.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		w.WriteString(s[start:i])
		switch c {
		case '"':
			w.WriteString(`\"`)
		case '\\':
			w.WriteString(`\\`)
		case '\b':
			w.WriteString(`\b`)
		case '\f':
			w.WriteString(`\f`)
		case '\n':
			w.WriteString(`\n`)
		case '\r':
			w.WriteString(`\r`)
		case '\t':
			w.WriteString(`\t`)
		default:
			w.WriteString(`\u00`)
			w.WriteByte(hexDigits[c>>4])
			w.WriteByte(hexDigits[c&0xf])
		}
		start = i + 1
	}
	w.WriteString(s[start:])
	w.WriteByte('"')
}

// serdeNumber prints a number as serde_json's Value does: integers that fit
// 64 bits as they are, everything else as a shortest-round-trip float that
// always shows a fraction or an exponent.
func serdeNumber(n json.Number) string {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			return s
		}
		if _, err := strconv.ParseUint(s, 10, 64); err == nil {
			return s
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return s
	}
	return ryuLike(f)
}

// ryuLike formats f like the ryu crate's format_finite: decimal notation for
// exponents in [-5, 16), scientific ("1e21", "1.5e-7") otherwise.
func ryuLike(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	digits := strconv.FormatFloat(math.Abs(f), 'e', -1, 64) // d.ddde±XX
	mant, expStr, _ := strings.Cut(digits, "e")
	exp, _ := strconv.Atoi(expStr)
	ds := strings.Replace(mant, ".", "", 1)
	sign := ""
	if f < 0 {
		sign = "-"
	}
	k := exp + 1 // position of the decimal point relative to ds
	switch {
	case k > len(ds) && k <= 16:
		return sign + ds + strings.Repeat("0", k-len(ds)) + ".0"
	case k > 0 && k <= len(ds) && k <= 16:
		if k == len(ds) {
			return sign + ds + ".0"
		}
		return sign + ds[:k] + "." + ds[k:]
	case k <= 0 && k > -5:
		return sign + "0." + strings.Repeat("0", -k) + ds
	default:
		m := ds[:1]
		if len(ds) > 1 {
			m += "." + ds[1:]
		}
		return sign + m + "e" + strconv.Itoa(exp)
	}
}

// validUTF8 reports whether b can be read as a Rust String.
func validUTF8(b []byte) bool { return utf8.Valid(b) }
