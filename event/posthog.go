package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// wireEvent is the top of a PostHog event as encoding/json reads it: the
// definition scanPostHogHead follows (decodePostHogHead).
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
	h, ok := scanPostHogHead(raw)
	if !ok {
		var err error
		if h, err = decodePostHogHead(raw); err != nil {
			return Event{}, err
		}
	}
	props := &h.props
	if withProperties {
		props.decodeAll()
	}
	str := func(key string) string { return strings.TrimSpace(flexText(props.value(key))) }

	e := Event{
		UUID:             strings.TrimSpace(string(h.uuid)),
		DistinctID:       firstNonEmpty(string(h.distinctID), str("distinct_id")),
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
	if t, ok := parseTime(string(h.timestamp)); ok {
		e.Timestamp = t
	}

	e.Exceptions = decodeExceptionList(props.value("$exception_list"))
	if len(e.Exceptions) == 0 {
		e.Exceptions = []Exception{legacyException(str)}
	}

	if withProperties {
		e.Properties = encodeProperties(props.all)
	}
	e.Normalize()
	return e, nil
}

// postHogHead is what parsePostHog reads of an event object besides the
// exceptions: three top-level fields and the properties.
type postHogHead struct {
	uuid, distinctID, timestamp flexString
	props                       properties
}

// decodePostHogHead reads an event's head with encoding/json, every
// property decoded into a map. It is the rule scanPostHogHead follows, and
// reads what that leaves: invalid JSON (for the error's wording) and
// top-level keys matched only after unescaping or Unicode case folding.
func decodePostHogHead(raw json.RawMessage) (postHogHead, error) {
	var w wireEvent
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		return postHogHead{}, badRequest("the event is not a JSON object")
	}
	if err := json.Unmarshal(raw, &w); err != nil && !isTypeError(err) {
		return postHogHead{}, badRequest("the event is not valid JSON: %v", err)
	}
	h := postHogHead{uuid: w.UUID, distinctID: w.DistinctID, timestamp: w.Timestamp, props: properties{raw: w.Properties}}
	h.props.decodeAll()
	return h, nil
}

// errUnplainKey stops a scan at a key it cannot match as encoding/json would.
var errUnplainKey = errors.New("an escaped or non-ASCII key")

// scanPostHogHead reads an event's head in one pass over raw that also
// checks all of raw is valid JSON, with decodePostHogHead's result: the
// top-level keys matched case-insensitively (a repeated one applied in
// order, as encoding/json does), the properties in pickedKeys taken as
// they stand, without decoding the others (a repeated one: the last, as a
// decoded map holds it). ok is false when raw is not a valid JSON object or
// has a top-level key that is escaped or not ASCII.
//
// Decoding every property into a map was a quarter of the pipeline's CPU
// time for posthog-js events (some 70 properties, of which about 20 are
// read), and encoding/json's own pass over the event another part.
func scanPostHogHead(raw []byte) (h postHogHead, ok bool) {
	s := scanBytes(raw)
	if c, err := s.nonSpace(); err != nil || c != '{' {
		return h, false
	}
	err := s.eachMember(func(key []byte) (bool, error) {
		if !foldableKey(s, key) {
			return false, errUnplainKey
		}
		switch {
		case asciiEqualFold(key, "uuid"):
			return true, s.flexValue(&h.uuid)
		case asciiEqualFold(key, "distinct_id"):
			return true, s.flexValue(&h.distinctID)
		case asciiEqualFold(key, "timestamp"):
			return true, s.flexValue(&h.timestamp)
		case asciiEqualFold(key, "properties"):
			return true, s.pickProperties(&h.props)
		}
		return false, nil
	}, 1)
	if err != nil {
		return h, false
	}
	if end, err := s.atEnd(); err != nil || !end {
		return h, false
	}
	return h, true
}

// flexValue consumes a member's value into dst as flexString decodes it.
func (s *jsonScanner) flexValue(dst *flexString) error {
	v, err := s.memberValue(1)
	if err == nil {
		_ = dst.UnmarshalJSON(v)
	}
	return err
}

// memberValue consumes the value of the member whose key was read and
// returns it as written (input in memory only).
func (s *jsonScanner) memberValue(depth int) ([]byte, error) {
	c, err := s.nonSpace()
	if err != nil {
		return nil, err
	}
	start := s.pos - 1
	if err := s.skipValue(c, depth); err != nil {
		return nil, err
	}
	return s.buf[start:s.pos], nil
}

// pickProperties consumes the properties value into p, picking the keys
// in pickedKeys.
func (s *jsonScanner) pickProperties(p *properties) error {
	c, err := s.nonSpace()
	if err != nil {
		return err
	}
	start := s.pos - 1
	*p = properties{}
	if c != '{' {
		err = s.skipValue(c, 1)
	} else {
		err = s.eachMember(func(key []byte) (bool, error) {
			i := pickedIndexOf(key, s.keyRaw)
			if i < 0 {
				return false, nil
			}
			v, err := s.memberValue(2)
			p.picked[i] = v
			return true, err
		}, 2)
	}
	p.raw = s.buf[start:s.pos]
	return err
}

// properties reads a PostHog event's properties by key: from the ones
// picked while scanning (pickedKeys), or from all of them decoded into a
// map when another key is asked for or the event was decoded by
// decodePostHogHead, so the result never depends on the list, only the
// speed does.
type properties struct {
	raw    json.RawMessage
	picked [len(pickedKeys)]json.RawMessage // by pickedIndex; nil when absent
	all    map[string]json.RawMessage       // every property, once decodeAll ran
}

// pickedKeys are the properties parsePostHog reads.
var pickedKeys = [...]string{
	"distinct_id", "$exception_fingerprint", "$exception_level", "$issue_name",
	"$issue_description", "$current_url", "$lib", "$lib_version", "$release_id",
	"$app_version", "$session_id", "$browser", "$browser_version", "$os",
	"$os_version", "$environment", "environment", "$exception_list",
	"$exception_type", "$exception_message", "$exception_value", "$exception_stack_trace_raw",
}

var pickedIndex = func() map[string]int {
	m := make(map[string]int, len(pickedKeys))
	for i, k := range pickedKeys {
		m[k] = i
	}
	return m
}()

// pickedIndexOf is the index in pickedKeys of a key the scanner read
// (key, or when that is nil the key as written, raw), or -1.
func pickedIndexOf(key, raw []byte) int {
	if key == nil {
		if bytes.IndexByte(raw, '\\') < 0 {
			return -1 // longer than every picked key
		}
		var k string
		if json.Unmarshal(raw, &k) != nil {
			return -1
		}
		key = []byte(k)
	}
	if i, ok := pickedIndex[string(key)]; ok {
		return i
	}
	return -1
}

// value is the property key as sent, nil when absent.
func (p *properties) value(key string) json.RawMessage {
	if p.all == nil {
		if i, ok := pickedIndex[key]; ok {
			return p.picked[i]
		}
		p.decodeAll()
	}
	return p.all[key]
}

// decodeAll reads every property (none when raw is not an object).
func (p *properties) decodeAll() {
	if p.all != nil {
		return
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(p.raw, &m)
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	p.all = m
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
