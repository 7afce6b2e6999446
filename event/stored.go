package event

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// storedEvent is the form an event is kept in beside the event as sent
// (events.data next to events.raw). A PostHog event's properties are most of
// its size and the raw event holds them already, so they are left out and
// PropertiesInRaw says to read them from there (DecodeStored).
type storedEvent struct {
	Event
	PropertiesInRaw bool `json:"properties_in_raw,omitempty"`
}

// EncodeStored is ev as stacklens keeps it. propertiesInRaw says the event
// as sent is a PostHog event object whose properties are ev's (as
// ParsePostHog reads them): they are then not repeated.
func EncodeStored(ev Event, propertiesInRaw bool) ([]byte, error) {
	if propertiesInRaw {
		ev.Properties = nil
	}
	if b, ok := appendStored(make([]byte, 0, 4096), &ev, propertiesInRaw); ok {
		return b, nil
	}
	return encodeStoredJSON(ev, propertiesInRaw)
}

// encodeStoredJSON is EncodeStored by encoding/json: what appendStored
// writes byte for byte, and the encoding of every event it leaves.
func encodeStoredJSON(ev Event, propertiesInRaw bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(storedEvent{Event: ev, PropertiesInRaw: propertiesInRaw}); err != nil {
		return nil, fmt.Errorf("encode stored event: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// DecodeStored reads an event kept by EncodeStored (or, before it, as the
// plain JSON of Event) together with the event as sent, raw.
func DecodeStored(data, raw []byte) (Event, error) {
	var st storedEvent
	if err := json.Unmarshal(data, &st); err != nil {
		return Event{}, fmt.Errorf("decode stored event: %w", err)
	}
	if st.PropertiesInRaw {
		props, err := PostHogProperties(raw)
		if err != nil {
			return Event{}, fmt.Errorf("decode stored event's properties: %w", err)
		}
		st.Properties = props
	}
	return st.Event, nil
}

// DecodeStoredWithoutProperties is DecodeStored for what reads only the
// exceptions and the event's own fields (resolving frames again): a PostHog
// event's properties, left to the event as sent, stay empty.
func DecodeStoredWithoutProperties(data []byte) (Event, error) {
	var st storedEvent
	if err := json.Unmarshal(data, &st); err != nil {
		return Event{}, fmt.Errorf("decode stored event: %w", err)
	}
	return st.Event, nil
}

// PostHogProperties are the properties of a PostHog event object as
// ParsePostHog keeps them: all but $exception_list, nil when none.
func PostHogProperties(raw []byte) (json.RawMessage, error) {
	var w struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(raw, &w); err != nil && !isTypeError(err) {
		return nil, badRequest("the event is not valid JSON: %v", err)
	}
	return encodeProperties(w.Properties), nil
}

// encodeProperties is props without $exception_list, as JSON (keys sorted,
// HTML left as is), or nil when nothing is left.
func encodeProperties(props map[string]json.RawMessage) json.RawMessage {
	delete(props, "$exception_list")
	if len(props) == 0 {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(props); err != nil {
		return nil
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
