package event

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// envelope is the batch shape {"api_key"|"token", "batch":[…], "sent_at"}.
type envelope struct {
	APIKey flexString      `json:"api_key"`
	Token  flexString      `json:"token"`
	Batch  json.RawMessage `json:"batch"`
	SentAt flexString      `json:"sent_at"`
}

// splitEvents accepts the JSON shapes PostHog clients send, in the order
// PostHog tries them: an array of events, a batch object, a single event.
func splitEvents(payload []byte, bearer string, lim Limits, now time.Time) ([]RawEvent, error) {
	payload = bytes.TrimSpace(payload)
	var (
		raws     []json.RawMessage
		topToken string
		sentAt   string
	)
	if payload[0] == '[' {
		if err := json.Unmarshal(payload, &raws); err != nil {
			return nil, badRequest("the body is not valid JSON: %v", err)
		}
	} else {
		var env envelope
		if err := json.Unmarshal(payload, &env); err != nil {
			return nil, badRequest("the body is not valid JSON: %v", err)
		}
		topToken = firstNonEmpty(string(env.APIKey), string(env.Token))
		sentAt = string(env.SentAt)
		if batch := bytes.TrimSpace(env.Batch); len(batch) > 0 && batch[0] == '[' {
			if err := json.Unmarshal(batch, &raws); err != nil {
				return nil, badRequest("the batch is not a JSON array: %v", err)
			}
		} else {
			raws = []json.RawMessage{payload} // a single event
		}
	}

	events := make([]RawEvent, 0, len(raws))
	for i, raw := range raws {
		if int64(len(raw)) > lim.MaxEvent {
			return nil, tooLarge("event %d is %d bytes; one event may be at most %d bytes", i, len(raw), lim.MaxEvent)
		}
		ev, err := rawEvent(raw, topToken, bearer, sentAt, now)
		if err != nil {
			return nil, badRequest("event %d: %v", i, err)
		}
		events = append(events, ev)
	}
	return events, nil
}

// wireHead is what the decoder needs from an event before parsing it.
type wireHead struct {
	Event      flexString `json:"event"`
	UUID       flexString `json:"uuid"`
	Properties flexObject[struct {
		Token       flexString `json:"token"`
		DollarToken flexString `json:"$token"`
	}] `json:"properties"`
	APIKey flexString `json:"api_key"`
	Token  flexString `json:"token"`
	SentAt flexString `json:"sent_at"`
}

func rawEvent(raw json.RawMessage, topToken, bearer, sentAt string, now time.Time) (RawEvent, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return RawEvent{}, errNotObject
	}
	var head wireHead
	if err := json.Unmarshal(raw, &head); err != nil {
		return RawEvent{}, errNotObject
	}
	props := head.Properties.V
	token := firstNonEmpty(topToken, string(head.APIKey), string(head.Token),
		string(props.Token), string(props.DollarToken), bearer)

	ts := eventTime(fields, firstNonEmpty(sentAt, string(head.SentAt)), now)
	stamp, _ := json.Marshal(ts.UTC().Format(timestampLayout))
	fields["timestamp"] = stamp
	delete(fields, "offset") // now folded into timestamp

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fields); err != nil {
		return RawEvent{}, err
	}
	return RawEvent{
		Token: strings.TrimSpace(token),
		Name:  string(head.Event),
		UUID:  string(head.UUID),
		JSON:  bytes.TrimSuffix(buf.Bytes(), []byte("\n")),
	}, nil
}

type eventError string

func (e eventError) Error() string { return string(e) }

const errNotObject = eventError("an event must be a JSON object")

// timestampLayout is how stacklens writes event times: UTC, milliseconds.
const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

// eventTime is the event's absolute time: its timestamp, else offset
// milliseconds before sent_at (or before now), else now.
func eventTime(fields map[string]json.RawMessage, sentAt string, now time.Time) time.Time {
	var ts flexString
	if raw, ok := fields["timestamp"]; ok {
		_ = json.Unmarshal(raw, &ts)
		if t, ok := parseTime(string(ts)); ok {
			return t
		}
	}
	if raw, ok := fields["offset"]; ok {
		var offset flexInt
		_ = json.Unmarshal(raw, &offset)
		base := now
		if t, ok := parseTime(sentAt); ok {
			base = t
		}
		return base.Add(-time.Duration(offset) * time.Millisecond)
	}
	return now
}

// parseTime reads the time formats clients send: RFC 3339 with or without
// a zone (no zone means UTC), or a Unix time in seconds or milliseconds.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && f < 1e15 {
		if f > 1e11 { // milliseconds
			return time.UnixMilli(int64(f)).UTC(), true
		}
		return time.Unix(0, int64(f*1e9)).UTC(), true
	}
	return time.Time{}, false
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
