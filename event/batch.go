package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// envelope is the batch shape {"api_key"|"token", "batch":[…], "sent_at"}.
type envelope struct {
	APIKey flexString        `json:"api_key"`
	Token  flexString        `json:"token"`
	Batch  []json.RawMessage `json:"batch"`
	SentAt flexString        `json:"sent_at"`
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
		if err := json.Unmarshal(payload, &env); err != nil && !isTypeError(err) {
			return nil, badRequest("the body is not valid JSON: %v", err)
		}
		topToken = firstNonEmpty(string(env.APIKey), string(env.Token))
		sentAt = string(env.SentAt)
		raws = env.Batch
		if raws == nil { // no batch array: the body is one event
			raws = []json.RawMessage{bytes.Clone(payload)}
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

// isTypeError reports a JSON value of an unexpected kind, which the
// decoders tolerate: encoding/json fills in every other field regardless.
func isTypeError(err error) bool {
	var typeErr *json.UnmarshalTypeError
	return errors.As(err, &typeErr)
}

// eventHead is what the decoder needs from an event before parsing it.
type eventHead struct {
	Event      flexString      `json:"event"`
	UUID       flexString      `json:"uuid"`
	APIKey     flexString      `json:"api_key"`
	Token      flexString      `json:"token"`
	SentAt     flexString      `json:"sent_at"`
	Timestamp  flexString      `json:"timestamp"`
	Offset     json.RawMessage `json:"offset"`
	Properties struct {
		Token       flexString `json:"token"`
		DollarToken flexString `json:"$token"`
	} `json:"properties"`
}

func rawEvent(raw json.RawMessage, topToken, bearer, sentAt string, now time.Time) (RawEvent, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return RawEvent{}, errNotObject
	}
	var head eventHead
	if err := json.Unmarshal(raw, &head); err != nil && !isTypeError(err) {
		return RawEvent{}, errNotObject
	}
	ev := RawEvent{
		Token: strings.TrimSpace(firstNonEmpty(topToken, string(head.APIKey), string(head.Token),
			string(head.Properties.Token), string(head.Properties.DollarToken), bearer)),
		Name: string(head.Event),
		UUID: string(head.UUID),
		JSON: raw,
	}
	if _, ok := parseTime(string(head.Timestamp)); ok && head.Offset == nil {
		return ev, nil // already absolute: keep the client's bytes
	}

	var offset flexInt
	_ = json.Unmarshal(head.Offset, &offset)
	ts := now
	if head.Offset != nil {
		base := now
		if t, ok := parseTime(firstNonEmpty(sentAt, string(head.SentAt))); ok {
			base = t
		}
		ts = base.Add(-time.Duration(offset) * time.Millisecond)
	}
	if t, ok := parseTime(string(head.Timestamp)); ok {
		ts = t
	}
	rewritten, err := withTimestamp(raw, ts)
	if err != nil {
		return RawEvent{}, err
	}
	ev.JSON = rewritten
	return ev, nil
}

// withTimestamp re-encodes an event with an absolute timestamp in place of
// its timestamp or offset.
func withTimestamp(raw json.RawMessage, ts time.Time) (json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, errNotObject
	}
	fields["timestamp"], _ = json.Marshal(ts.UTC().Format(timestampLayout))
	delete(fields, "offset") // now folded into timestamp
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fields); err != nil {
		return nil, fmt.Errorf("re-encode event: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

type eventError string

func (e eventError) Error() string { return string(e) }

const errNotObject = eventError("an event must be a JSON object")

// timestampLayout is how stacklens writes event times: UTC, milliseconds.
const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

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
