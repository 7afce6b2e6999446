package event

import (
	"strconv"
	"unicode/utf8"
)

// appendStored appends ev's stored form to buf byte for byte as
// encoding/json writes storedEvent (HTML left as is), for the events the
// pipeline stores most: encoding/json's reflection was most of the time of
// encoding one. ok is false for an event holding what it does not write (a
// Sentry event's user, tags, contexts, breadcrumbs or SDK; properties; a
// time encoding/json refuses), which EncodeStored leaves to encoding/json.
func appendStored(buf []byte, ev *Event, propertiesInRaw bool) ([]byte, bool) {
	if len(ev.Properties) > 0 || len(ev.User) > 0 || len(ev.Tags) > 0 || len(ev.Contexts) > 0 ||
		len(ev.Breadcrumbs) > 0 || ev.SDK != nil {
		return buf, false
	}
	w := jsonWriter{b: buf}
	w.open('{')
	w.str("uuid", ev.UUID)
	w.strOmit("distinct_id", ev.DistinctID)
	w.key("timestamp")
	w.b = append(w.b, '"')
	var err error
	if w.b, err = ev.Timestamp.AppendText(w.b); err != nil {
		return buf, false
	}
	w.b = append(w.b, '"')
	w.key("exception_list")
	if ev.Exceptions == nil {
		w.b = append(w.b, "null"...)
	} else {
		w.b = append(w.b, '[')
		for i := range ev.Exceptions {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.exception(&ev.Exceptions[i])
		}
		w.b = append(w.b, ']')
	}
	w.strOmit("fingerprint", ev.Fingerprint)
	w.strsOmit("fingerprint_parts", ev.FingerprintParts)
	w.strOmit("level", ev.Level)
	w.strOmit("issue_name", ev.IssueName)
	w.strOmit("issue_description", ev.IssueDescription)
	w.strOmit("url", ev.URL)
	w.strOmit("lib", ev.Lib)
	w.strOmit("lib_version", ev.LibVersion)
	w.strOmit("release", ev.Release)
	w.strOmit("session_id", ev.SessionID)
	w.strOmit("browser", ev.Browser)
	w.strOmit("os", ev.OS)
	w.strOmit("environment", ev.Environment)
	w.strOmit("platform", ev.Platform)
	w.strOmit("server_name", ev.ServerName)
	w.strOmit("transaction", ev.Transaction)
	w.strOmit("dist", ev.Dist)
	if propertiesInRaw {
		w.key("properties_in_raw")
		w.b = append(w.b, "true"...)
	}
	w.close('}')
	return w.b, true
}

func (w *jsonWriter) exception(x *Exception) {
	w.open('{')
	w.str("type", x.Type)
	w.str("value", x.Value)
	w.key("mechanism")
	m := &x.Mechanism
	w.open('{')
	w.strOmit("type", m.Type)
	if m.Handled != nil {
		w.boolean("handled", *m.Handled)
	}
	if m.Synthetic {
		w.boolean("synthetic", true)
	}
	w.strOmit("source", m.Source)
	if m.ExceptionID != nil {
		w.integer("exception_id", int64(*m.ExceptionID))
	}
	if m.ParentID != nil {
		w.integer("parent_id", int64(*m.ParentID))
	}
	w.close('}')
	w.strOmit("stacktrace_type", x.StacktraceType)
	w.key("frames")
	if x.Frames == nil {
		w.b = append(w.b, "null"...)
	} else {
		w.b = append(w.b, '[')
		for i := range x.Frames {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.frame(&x.Frames[i])
		}
		w.b = append(w.b, ']')
	}
	w.close('}')
}

func (w *jsonWriter) frame(f *Frame) {
	w.open('{')
	w.str("raw_id", f.RawID)
	w.strOmit("platform", f.Platform)
	w.strOmit("filename", f.Filename)
	w.strOmit("abs_path", f.AbsPath)
	w.strOmit("function", f.Function)
	w.strOmit("module", f.Module)
	w.intOmit("lineno", int64(f.Lineno))
	w.intOmit("colno", int64(f.Colno))
	w.boolean("in_app", f.InApp)
	w.strOmit("chunk_id", f.ChunkID)
	w.strOmit("debug_id", f.DebugID)
	w.strOmit("context_line", f.ContextLine)
	w.strsOmit("pre_context", f.PreContext)
	w.strsOmit("post_context", f.PostContext)
	if r := f.Resolution; r != nil {
		w.key("resolution")
		w.open('{')
		w.boolean("resolved", r.Resolved)
		w.strOmit("name", r.Name)
		w.strOmit("source", r.Source)
		w.intOmit("source_index", int64(r.SourceIndex))
		w.intOmit("line", int64(r.Line))
		w.intOmit("column", int64(r.Column))
		w.boolean("in_app", r.InApp)
		w.strOmit("failure_code", r.FailureCode)
		w.strOmit("symbol_set_ref", r.SymbolSetRef)
		w.intOmit("symbol_set_id", r.SymbolSetID)
		w.close('}')
	}
	w.close('}')
}

// jsonWriter appends an object's members, commas between them.
type jsonWriter struct {
	b      []byte
	member bool // a member was written in the innermost open object
}

func (w *jsonWriter) open(c byte) {
	w.b = append(w.b, c)
	w.member = false
}

func (w *jsonWriter) close(c byte) {
	w.b = append(w.b, c)
	w.member = true // the object is itself a value in its parent
}

func (w *jsonWriter) key(name string) {
	if w.member {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, name...)
	w.b = append(w.b, '"', ':')
	w.member = true
}

func (w *jsonWriter) str(name, v string) {
	w.key(name)
	w.b = appendJSONString(w.b, v)
}

func (w *jsonWriter) strOmit(name, v string) {
	if v != "" {
		w.str(name, v)
	}
}

func (w *jsonWriter) strsOmit(name string, v []string) {
	if len(v) == 0 {
		return
	}
	w.key(name)
	w.b = append(w.b, '[')
	for i, s := range v {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendJSONString(w.b, s)
	}
	w.b = append(w.b, ']')
}

func (w *jsonWriter) integer(name string, v int64) {
	w.key(name)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *jsonWriter) intOmit(name string, v int64) {
	if v != 0 {
		w.integer(name, v)
	}
}

func (w *jsonWriter) boolean(name string, v bool) {
	w.key(name)
	w.b = strconv.AppendBool(w.b, v)
}

// appendJSONString is encoding/json's string encoding without HTML
// escaping: quotes, backslashes and control characters escaped (\b, \f,
// \n, \r and \t by name), invalid UTF-8 as \ufffd, U+2028 and U+2029 as
// \u2028 and \u2029.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
