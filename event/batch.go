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

// tokenFields are the places an object may carry its project token.
type tokenFields struct {
	apiKey, token                string // api_key, token
	propsToken, propsDollarToken string // properties.token, properties.$token
}

// payloadScan is what walkPayload found in a capture payload, one of the
// JSON shapes PostHog clients send, tried in PostHog's order: an array of
// events, a batch object {"api_key"|"token", "batch":[…], "sent_at"}, a
// single event.
type payloadScan struct {
	array bool // an array of events
	batch bool // an object with a "batch" array
	// own are the object's own token fields: the batch's api_key/token, or
	// all of a single event's.
	own    tokenFields
	sentAt string
	first  tokenFields // of the first event of an array or batch
	events int         // events seen
	spans  []span      // where each event is, when asked for
	// stopped says the walk ended early because the token was known.
	stopped bool
}

type span struct{ start, end int64 }

// topToken is the token the object itself names (batch or single event).
func (p payloadScan) topToken() string { return firstNonEmpty(p.own.apiKey, p.own.token) }

// walkOptions say what walkPayload does besides checking grammar and limits.
type walkOptions struct {
	spans      bool // record where each event is (for input in memory)
	untilToken bool // stop as soon as the request's token is known
}

// errStopWalk ends a walk early; walkPayload does not return it.
var errStopWalk = errors.New("stop walking")

// maxTokenValue is the longest token field value worth reading; longer
// ones are not a token of this server.
const maxTokenValue = 1 << 10

// walkPayload reads a capture payload once, without holding it: it checks
// the JSON grammar, counts the events and measures each (refusing with a
// 413 past lim), and notes the token fields of the request and of its
// first event. With untilToken it stops once the token that decides the
// project is read, which for an unknown token is long before the end.
func walkPayload(s *jsonScanner, lim Limits, opt walkOptions) (payloadScan, error) {
	var res payloadScan
	c, err := s.nonSpace()
	if err != nil {
		return res, jsonProblem(err)
	}
	switch c {
	case '[':
		res.array = true
		err = s.eachElement(func(i int) (bool, error) { return true, walkEvent(s, lim, opt, &res, i) }, 1)
	case '{':
		err = s.eachMember(func(key []byte) (bool, error) { return walkTopMember(s, lim, opt, &res, key) }, 1)
	default:
		err = s.syntax("invalid character %q looking for the start of the body's JSON", c)
	}
	if errors.Is(err, errStopWalk) {
		res.stopped = true
		return res, nil
	}
	if err != nil {
		return res, jsonProblem(err)
	}
	if end, err := s.atEnd(); err != nil || !end {
		if err == nil {
			err = s.syntax("invalid character after the top-level value")
		}
		return res, jsonProblem(err)
	}
	if !res.array && !res.batch { // the object is one event
		res.events = 1
		if size := s.offset(); size > lim.MaxEvent {
			return res, tooLarge("the event is %d bytes; one event may be at most %d bytes", size, lim.MaxEvent)
		}
		if opt.spans {
			res.spans = []span{{0, s.offset()}}
		}
	}
	return res, nil
}

// jsonProblem turns a scanner error into a 400, keeping an *Error (a
// decompression cap hit while reading) as it is.
func jsonProblem(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return badRequest("the body is not valid JSON: %v", err)
}

// walkEvent reads event i of an array or batch.
func walkEvent(s *jsonScanner, lim Limits, opt walkOptions, res *payloadScan, i int) error {
	if i >= lim.MaxEvents {
		return tooLarge("the request holds more than %d events; send at most %d events per request", lim.MaxEvents, lim.MaxEvents)
	}
	c, err := s.nonSpace()
	if err != nil {
		return err
	}
	start := s.offset() - 1
	if i == 0 && c == '{' {
		res.first = tokenFields{}
		err = s.eachMember(func(key []byte) (bool, error) { return walkTokenMember(s, &res.first, key, 3) }, 2)
	} else {
		err = s.skipValue(c, 1)
	}
	if err != nil {
		return err
	}
	if size := s.offset() - start; size > lim.MaxEvent {
		return tooLarge("event %d is %d bytes; one event may be at most %d bytes", i, size, lim.MaxEvent)
	}
	res.events++
	if opt.spans {
		res.spans = append(res.spans, span{start, s.offset()})
	}
	if opt.untilToken && res.array {
		return errStopWalk // an array's first event decides the project
	}
	return nil
}

// walkTopMember reads one member of a top-level object; it reports
// whether it consumed the value.
func walkTopMember(s *jsonScanner, lim Limits, opt walkOptions, res *payloadScan, key []byte) (bool, error) {
	switch {
	case bytes.EqualFold(key, []byte("batch")):
		c, err := s.nonSpace()
		if err != nil {
			return true, err
		}
		switch c {
		case '[': // as encoding/json does, the last batch array counts
			res.batch, res.events, res.spans = true, 0, res.spans[:0]
			return true, s.eachElement(func(i int) (bool, error) { return true, walkEvent(s, lim, opt, res, i) }, 2)
		case 'n': // "batch": null is no batch: the object is one event
			res.batch, res.events, res.spans = false, 0, res.spans[:0]
		}
		return true, s.skipValue(c, 1)
	case bytes.EqualFold(key, []byte("sent_at")):
		v, err := recordString(s, false)
		res.sentAt = v
		return true, err
	}
	consumed, err := walkTokenMember(s, &res.own, key, 2)
	if err == nil && opt.untilToken && strings.TrimSpace(res.topToken()) != "" {
		return consumed, errStopWalk // a top-level token applies to every event
	}
	return consumed, err
}

// walkTokenMember reads the token fields of an event object at the given
// nesting depth; it reports whether it consumed the value.
func walkTokenMember(s *jsonScanner, dst *tokenFields, key []byte, depth int) (bool, error) {
	var err error
	switch {
	case bytes.EqualFold(key, []byte("api_key")):
		dst.apiKey, err = recordString(s, true)
	case bytes.EqualFold(key, []byte("token")):
		dst.token, err = recordString(s, true)
	case bytes.EqualFold(key, []byte("properties")):
		c, err := s.nonSpace()
		if err != nil || c != '{' {
			if err == nil {
				err = s.skipValue(c, depth)
			}
			return true, err
		}
		return true, s.eachMember(func(key []byte) (bool, error) {
			var err error
			switch {
			case bytes.EqualFold(key, []byte("token")):
				dst.propsToken, err = recordString(s, true)
			case bytes.EqualFold(key, []byte("$token")):
				dst.propsDollarToken, err = recordString(s, true)
			default:
				return false, nil
			}
			return true, err
		}, depth)
	default:
		return false, nil
	}
	return true, err
}

// recordString consumes a value and returns it as flexString reads it.
// A value longer than maxTokenValue is "", or for a token field a 401:
// no token of this server is that long.
func recordString(s *jsonScanner, token bool) (string, error) {
	c, err := s.nonSpace()
	if err != nil {
		return "", err
	}
	raw, err := s.recordValue(c, maxTokenValue)
	if err != nil {
		return "", err
	}
	if raw == nil {
		if token {
			return "", unauthorized("a project token field is longer than %d bytes; no token of this server is", maxTokenValue)
		}
		return "", nil
	}
	var v flexString
	_ = v.UnmarshalJSON(raw)
	return string(v), nil
}

// requestToken is the token that decides the project of a scanned
// request: the top-level one, else the first event's, else bearer. ok is
// false when the request holds no event.
func (p payloadScan) requestToken(bearer string) (token string, ok bool) {
	switch {
	case p.stopped && p.topToken() != "":
		return strings.TrimSpace(p.topToken()), true
	case p.array || p.batch:
		if p.events == 0 {
			return "", false
		}
		f := p.first
		return strings.TrimSpace(firstNonEmpty(p.topToken(), f.apiKey, f.token, f.propsToken, f.propsDollarToken, bearer)), true
	}
	return strings.TrimSpace(firstNonEmpty(p.topToken(), p.own.propsToken, p.own.propsDollarToken, bearer)), true
}

// splitEvents cuts a payload held in memory into its events, checking the
// count and size of each before anything is copied.
func splitEvents(payload []byte, bearer string, lim Limits, now time.Time) ([]RawEvent, error) {
	scan, err := walkPayload(scanBytes(payload), lim, walkOptions{spans: true})
	if err != nil {
		return nil, err
	}
	// For a single event its own api_key/token is its top-level token.
	topToken, sentAt := scan.topToken(), scan.sentAt
	events := make([]RawEvent, 0, len(scan.spans))
	for i, sp := range scan.spans {
		ev, err := rawEvent(payload[sp.start:sp.end:sp.end], topToken, bearer, sentAt, now)
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

// scanEventHead reads an event object (in memory) into an eventHead as
// json.Unmarshal does, in one pass of the scanner: keys matched
// case-insensitively, a repeated one applied in order, values of the wrong
// kind skipped. ok is false when raw is not a valid JSON object or has a key
// that is escaped or not ASCII (encoding/json would unescape and fold it):
// json.Unmarshal reads those. It was most of a capture request's CPU time.
func scanEventHead(raw []byte) (head eventHead, ok bool) {
	s := scanBytes(raw)
	if c, err := s.nonSpace(); err != nil || c != '{' {
		return head, false
	}
	err := s.eachMember(func(key []byte) (bool, error) {
		if !foldableKey(s, key) {
			return false, errUnplainKey
		}
		var dst *flexString
		switch {
		case asciiEqualFold(key, "event"):
			dst = &head.Event
		case asciiEqualFold(key, "uuid"):
			dst = &head.UUID
		case asciiEqualFold(key, "api_key"):
			dst = &head.APIKey
		case asciiEqualFold(key, "token"):
			dst = &head.Token
		case asciiEqualFold(key, "sent_at"):
			dst = &head.SentAt
		case asciiEqualFold(key, "timestamp"):
			dst = &head.Timestamp
		case asciiEqualFold(key, "offset"):
			v, err := s.memberValue(1)
			head.Offset = v
			return true, err
		case asciiEqualFold(key, "properties"):
			return true, scanHeadProperties(s, &head)
		default:
			return false, nil
		}
		return true, s.flexValue(dst)
	}, 1)
	if err != nil {
		return head, false
	}
	if end, err := s.atEnd(); err != nil || !end {
		return head, false
	}
	return head, true
}

// scanHeadProperties reads the properties value into head.Properties as
// encoding/json decodes it into that struct: an object's token fields,
// merged into what an earlier properties gave; anything else changes nothing.
func scanHeadProperties(s *jsonScanner, head *eventHead) error {
	c, err := s.nonSpace()
	if err != nil {
		return err
	}
	if c != '{' {
		return s.skipValue(c, 1)
	}
	return s.eachMember(func(key []byte) (bool, error) {
		if !foldableKey(s, key) {
			return false, errUnplainKey
		}
		switch {
		case asciiEqualFold(key, "token"):
			return true, s.flexValue(&head.Properties.Token)
		case asciiEqualFold(key, "$token"):
			return true, s.flexValue(&head.Properties.DollarToken)
		}
		return false, nil
	}, 2)
}

// foldableKey reports whether a key the scanner read can be matched to a
// field's name by asciiEqualFold: it is ASCII and not escaped (a long one
// is, for a short name, never a match either way).
func foldableKey(s *jsonScanner, key []byte) bool {
	if key == nil {
		return bytes.IndexByte(s.keyRaw, '\\') < 0
	}
	return isASCII(key)
}

func rawEvent(raw json.RawMessage, topToken, bearer, sentAt string, now time.Time) (RawEvent, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return RawEvent{}, errNotObject
	}
	head, ok := scanEventHead(raw)
	if !ok {
		if err := json.Unmarshal(raw, &head); err != nil && !isTypeError(err) {
			return RawEvent{}, errNotObject
		}
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
