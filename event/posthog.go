package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// wireEvent is the top of a PostHog event; the exception list below it
// is walked generically (see wire.go) so junk in one field never loses
// the event and the JSON is scanned once.
type wireEvent struct {
	UUID       flexString      `json:"uuid"`
	DistinctID flexString      `json:"distinct_id"`
	Timestamp  flexString      `json:"timestamp"`
	Properties json.RawMessage `json:"properties"`
}

// noExceptionValue is the message of the placeholder exception an event
// without any exception data gets, so it still lands in an issue.
const noExceptionValue = "(no exception data)"

// ParsePostHog fills an Event from one PostHog event object (a RawEvent's
// JSON). It fails only when raw is not a JSON object; missing or odd
// fields are tolerated. The result is normalised (see Normalize).
// receivedAt is the time used when the event carries no usable timestamp.
func ParsePostHog(raw json.RawMessage, receivedAt time.Time) (Event, error) {
	return parsePostHog(raw, receivedAt, true)
}

// ParsePostHogWithoutProperties is ParsePostHog leaving Properties empty:
// for the pipeline, which keeps the event as sent beside it (EncodeStored,
// DecodeStored) and so need not encode them again for every event.
func ParsePostHogWithoutProperties(raw json.RawMessage, receivedAt time.Time) (Event, error) {
	return parsePostHog(raw, receivedAt, false)
}

func parsePostHog(raw json.RawMessage, receivedAt time.Time, withProperties bool) (Event, error) {
	var w wireEvent
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		return Event{}, badRequest("the event is not a JSON object")
	}
	if err := json.Unmarshal(raw, &w); err != nil && !isTypeError(err) {
		return Event{}, badRequest("the event is not valid JSON: %v", err)
	}
	props := &properties{raw: w.Properties}
	if withProperties {
		props.decodeAll()
	}
	str := func(key string) string {
		var s flexString
		if raw, ok := props.get(key); ok {
			_ = json.Unmarshal(raw, &s)
		}
		return strings.TrimSpace(string(s))
	}

	e := Event{
		UUID:             strings.TrimSpace(string(w.UUID)),
		DistinctID:       firstNonEmpty(string(w.DistinctID), str("distinct_id")),
		Timestamp:        receivedAt.UTC(),
		Fingerprint:      clientFingerprint(props.value("$exception_fingerprint")),
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
		// PostHog has no environment of its own: apps set one as a property.
		Environment: firstNonEmpty(str("$environment"), str("environment")),
	}
	if t, ok := parseTime(string(w.Timestamp)); ok {
		e.Timestamp = t
	}

	for _, item := range asList(decodeAny(props.value("$exception_list"))) {
		if m, ok := item.(map[string]any); ok {
			e.Exceptions = append(e.Exceptions, exceptionFromWire(m))
		}
	}
	if len(e.Exceptions) == 0 {
		e.Exceptions = []Exception{legacyException(str)}
	}

	if withProperties {
		e.Properties = encodeProperties(props.picked)
	}
	e.Normalize()
	return e, nil
}

// properties reads a PostHog event's properties by key. Decoding them all
// into a map was a quarter of the pipeline's CPU time for posthog-js events
// (some 70 properties, of which parsePostHog reads about 20), so it first
// picks only the keys in pickedProperties out of the object, without
// decoding the others. Any other key, or an object with a key it cannot
// compare as it stands (escaped, or long), is read by decoding them all, so
// the result never depends on the list, only the speed does.
type properties struct {
	raw    json.RawMessage
	picked map[string]json.RawMessage // nil until read
	all    bool                       // picked holds every property
}

// pickedProperties are the keys parsePostHog reads.
var pickedProperties = map[string]bool{
	"distinct_id": true, "$exception_fingerprint": true, "$exception_level": true, "$issue_name": true,
	"$issue_description": true, "$current_url": true, "$lib": true, "$lib_version": true, "$release_id": true,
	"$app_version": true, "$session_id": true, "$browser": true, "$browser_version": true, "$os": true,
	"$os_version": true, "$environment": true, "environment": true, "$exception_list": true,
	"$exception_type": true, "$exception_message": true, "$exception_value": true, "$exception_stack_trace_raw": true,
}

func (p *properties) get(key string) (json.RawMessage, bool) {
	if !p.all && (p.picked == nil || !pickedProperties[key]) {
		if !pickedProperties[key] || !p.pick() {
			p.decodeAll()
		}
	}
	v, ok := p.picked[key]
	return v, ok
}

func (p *properties) value(key string) json.RawMessage {
	v, _ := p.get(key)
	return v
}

// decodeAll reads every property (none when raw is not an object).
func (p *properties) decodeAll() {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(p.raw, &m)
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	p.picked, p.all = m, true
}

// errUnplainKey stops pick at a key it cannot compare.
var errUnplainKey = errors.New("a property key that is escaped or long")

// pick reads the pickedProperties out of raw, which json.Unmarshal has
// checked already, as slices of it; false when a key is not plain.
func (p *properties) pick() bool {
	picked := map[string]json.RawMessage{}
	s := scanBytes(p.raw)
	if c, err := s.nonSpace(); err != nil || c != '{' {
		p.picked = picked // absent, null or not an object: no properties, as decodeAll finds
		return true
	}
	err := s.eachMember(func(key string) (bool, error) {
		if key == "" {
			return false, errUnplainKey
		}
		if !pickedProperties[key] {
			return false, nil
		}
		c, err := s.nonSpace()
		if err != nil {
			return false, err
		}
		start := s.pos - 1
		if err := s.skipValue(c, 1); err != nil {
			return false, err
		}
		picked[key] = p.raw[start:s.pos]
		return true, nil
	}, 1)
	if err != nil {
		return false
	}
	p.picked = picked
	return true
}

func exceptionFromWire(m map[string]any) Exception {
	x := Exception{
		Type:  strings.TrimSpace(asString(m["type"])),
		Value: asString(m["value"]),
	}
	if mech, ok := m["mechanism"].(map[string]any); ok {
		x.Mechanism = Mechanism{
			Type:   asString(mech["type"]),
			Source: asString(mech["source"]),
		}
		x.Mechanism.Synthetic, _ = asBool(mech["synthetic"])
		if handled, ok := asBool(mech["handled"]); ok {
			x.Mechanism.Handled = &handled
		}
		x.Mechanism.ExceptionID = asIntPtr(mech["exception_id"])
		x.Mechanism.ParentID = asIntPtr(mech["parent_id"])
	}
	if st, ok := m["stacktrace"].(map[string]any); ok {
		x.StacktraceType = asString(st["type"])
		x.Frames = framesFromWire(asList(st["frames"]))
	}
	return x
}

func framesFromWire(items []any) []Frame {
	frames := make([]Frame, 0, len(items))
	for _, item := range items {
		f, ok := item.(map[string]any)
		if !ok {
			continue
		}
		inApp, _ := asBool(f["in_app"])
		frames = append(frames, Frame{
			Platform:    strings.TrimSpace(asString(f["platform"])),
			Filename:    asString(f["filename"]),
			AbsPath:     asString(f["abs_path"]),
			Function:    asString(f["function"]),
			Module:      asString(f["module"]),
			Lineno:      asInt(f["lineno"]),
			Colno:       asInt(f["colno"]),
			InApp:       inApp,
			ChunkID:     asString(f["chunk_id"]),
			DebugID:     asString(f["debug_id"]),
			ContextLine: asString(f["context_line"]),
			PreContext:  asStrings(f["pre_context"]),
			PostContext: asStrings(f["post_context"]),
		})
	}
	if len(frames) == 0 {
		return nil
	}
	return frames
}

// legacyException builds the one exception older clients describe with
// $exception_type / $exception_message (and, from old posthog-js, a JSON
// string of frames in $exception_stack_trace_raw), or a placeholder when
// the event has no exception data at all.
func legacyException(str func(string) string) Exception {
	typ, msg := str("$exception_type"), firstNonEmpty(str("$exception_message"), str("$exception_value"))
	if typ == "" && msg == "" {
		return Exception{Type: "Error", Value: noExceptionValue}
	}
	x := Exception{Type: firstNonEmpty(typ, "Error"), Value: msg}
	if raw := str("$exception_stack_trace_raw"); raw != "" {
		if frames := framesFromWire(asList(decodeAny([]byte(raw)))); frames != nil {
			x.Frames = frames
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
		return strings.TrimSpace(strings.Join(asStrings(decodeAny(raw)), ":"))
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
