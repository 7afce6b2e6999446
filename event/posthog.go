package event

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// Wire shapes of a PostHog $exception event. Every leaf is a flex type so
// that junk in one field never loses the event.
type (
	wireEvent struct {
		UUID       flexString      `json:"uuid"`
		DistinctID flexString      `json:"distinct_id"`
		Timestamp  flexString      `json:"timestamp"`
		Properties json.RawMessage `json:"properties"`
	}
	wireException struct {
		Type       flexString                 `json:"type"`
		Value      flexString                 `json:"value"`
		Mechanism  flexObject[wireMechanism]  `json:"mechanism"`
		Stacktrace flexObject[wireStacktrace] `json:"stacktrace"`
	}
	wireMechanism struct {
		Type        flexString `json:"type"`
		Handled     flexBool   `json:"handled"`
		Synthetic   flexBool   `json:"synthetic"`
		Source      flexString `json:"source"`
		ExceptionID *flexInt   `json:"exception_id"`
		ParentID    *flexInt   `json:"parent_id"`
	}
	wireStacktrace struct {
		Type   flexString          `json:"type"`
		Frames flexList[wireFrame] `json:"frames"`
	}
	wireFrame struct {
		Platform    flexString           `json:"platform"`
		Filename    flexString           `json:"filename"`
		AbsPath     flexString           `json:"abs_path"`
		Function    flexString           `json:"function"`
		Module      flexString           `json:"module"`
		Lineno      flexInt              `json:"lineno"`
		Colno       flexInt              `json:"colno"`
		InApp       flexBool             `json:"in_app"`
		ChunkID     flexString           `json:"chunk_id"`
		DebugID     flexString           `json:"debug_id"`
		ContextLine flexString           `json:"context_line"`
		PreContext  flexList[flexString] `json:"pre_context"`
		PostContext flexList[flexString] `json:"post_context"`
	}
)

// noExceptionValue is the message of the placeholder exception an event
// without any exception data gets, so it still lands in an issue.
const noExceptionValue = "(no exception data)"

// ParsePostHog fills an Event from one PostHog event object (a RawEvent's
// JSON). It fails only when raw is not a JSON object; missing or odd
// fields are tolerated. The result is normalised (see Normalize).
// receivedAt is the time used when the event carries no usable timestamp.
func ParsePostHog(raw json.RawMessage, receivedAt time.Time) (Event, error) {
	var w wireEvent
	if err := json.Unmarshal(raw, &w); err != nil || !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		return Event{}, badRequest("the event is not a JSON object")
	}
	props := map[string]json.RawMessage{}
	if p := bytes.TrimSpace(w.Properties); len(p) > 0 && p[0] == '{' {
		if err := json.Unmarshal(p, &props); err != nil {
			props = map[string]json.RawMessage{}
		}
	}
	str := func(key string) string {
		var s flexString
		if raw, ok := props[key]; ok {
			_ = json.Unmarshal(raw, &s)
		}
		return strings.TrimSpace(string(s))
	}

	e := Event{
		UUID:             strings.TrimSpace(string(w.UUID)),
		DistinctID:       firstNonEmpty(string(w.DistinctID), str("distinct_id")),
		Timestamp:        receivedAt.UTC(),
		Fingerprint:      clientFingerprint(props["$exception_fingerprint"]),
		Level:            str("$exception_level"),
		IssueName:        str("$issue_name"),
		IssueDescription: str("$issue_description"),
		URL:              str("$current_url"),
		Lib:              str("$lib"),
		LibVersion:       str("$lib_version"),
		Release:          firstNonEmpty(str("$release_id"), str("$app_version")),
		SessionID:        str("$session_id"),
		Browser:          withVersion(str("$browser"), str("$browser_version")),
		OS:               withVersion(str("$os"), str("$os_version")),
	}
	if t, ok := parseTime(string(w.Timestamp)); ok {
		e.Timestamp = t
	}

	var list flexList[flexObject[wireException]]
	if raw, ok := props["$exception_list"]; ok {
		_ = json.Unmarshal(raw, &list)
	}
	for _, we := range list {
		if we.OK {
			e.Exceptions = append(e.Exceptions, exceptionFromWire(we.V))
		}
	}
	if len(e.Exceptions) == 0 {
		e.Exceptions = []Exception{legacyException(props, str)}
	}

	delete(props, "$exception_list")
	if len(props) > 0 {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(props); err == nil {
			e.Properties = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		}
	}
	e.Normalize()
	return e, nil
}

func exceptionFromWire(we wireException) Exception {
	x := Exception{
		Type:  strings.TrimSpace(string(we.Type)),
		Value: string(we.Value),
	}
	if m := we.Mechanism; m.OK {
		x.Mechanism = Mechanism{
			Type:      string(m.V.Type),
			Synthetic: m.V.Synthetic.v,
			Source:    string(m.V.Source),
		}
		if m.V.Handled.set {
			handled := m.V.Handled.v
			x.Mechanism.Handled = &handled
		}
		if m.V.ExceptionID != nil {
			id := int(*m.V.ExceptionID)
			x.Mechanism.ExceptionID = &id
		}
		if m.V.ParentID != nil {
			id := int(*m.V.ParentID)
			x.Mechanism.ParentID = &id
		}
	}
	if st := we.Stacktrace; st.OK {
		x.StacktraceType = string(st.V.Type)
		x.Frames = framesFromWire(st.V.Frames)
	}
	return x
}

func framesFromWire(wfs []wireFrame) []Frame {
	if len(wfs) == 0 {
		return nil
	}
	frames := make([]Frame, len(wfs))
	for i, wf := range wfs {
		frames[i] = Frame{
			Platform:    strings.TrimSpace(string(wf.Platform)),
			Filename:    string(wf.Filename),
			AbsPath:     string(wf.AbsPath),
			Function:    string(wf.Function),
			Module:      string(wf.Module),
			Lineno:      int(wf.Lineno),
			Colno:       int(wf.Colno),
			InApp:       wf.InApp.v,
			ChunkID:     string(wf.ChunkID),
			DebugID:     string(wf.DebugID),
			ContextLine: string(wf.ContextLine),
			PreContext:  stringsOf(wf.PreContext),
			PostContext: stringsOf(wf.PostContext),
		}
	}
	return frames
}

// legacyException builds the one exception older clients describe with
// $exception_type / $exception_message (and, from old posthog-js, a JSON
// string of frames in $exception_stack_trace_raw), or a placeholder when
// the event has no exception data at all.
func legacyException(props map[string]json.RawMessage, str func(string) string) Exception {
	typ, msg := str("$exception_type"), firstNonEmpty(str("$exception_message"), str("$exception_value"))
	if typ == "" && msg == "" {
		return Exception{Type: "Error", Value: noExceptionValue}
	}
	x := Exception{Type: firstNonEmpty(typ, "Error"), Value: msg}
	if raw := str("$exception_stack_trace_raw"); raw != "" {
		var frames flexList[wireFrame]
		if json.Unmarshal([]byte(raw), &frames) == nil {
			x.Frames = framesFromWire(frames)
			x.StacktraceType = "raw"
		}
	}
	return x
}

// clientFingerprint reads $exception_fingerprint: a string, or an array
// of parts joined with ":".
func clientFingerprint(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '[' {
		var parts flexList[flexString]
		_ = json.Unmarshal(raw, &parts)
		return strings.TrimSpace(strings.Join(stringsOf(parts), ":"))
	}
	var s flexString
	_ = json.Unmarshal(raw, &s)
	return strings.TrimSpace(string(s))
}

func withVersion(name, version string) string {
	if name == "" || version == "" {
		return name
	}
	return name + " " + version
}
