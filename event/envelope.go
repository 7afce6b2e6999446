package event

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"
)

// SentryEndpoint says which Sentry ingest route a request came to.
type SentryEndpoint int

const (
	// SentryEnvelope is POST /api/{project}/envelope/: an envelope of items.
	SentryEnvelope SentryEndpoint = iota
	// SentryStore is the older POST /api/{project}/store/: one event as JSON.
	SentryStore
)

// SentryInput is one Sentry ingest request as the HTTP handler read it.
type SentryInput struct {
	Endpoint        SentryEndpoint
	ContentEncoding string
	Query           url.Values // sentry_key for browsers
	XSentryAuth     string     // X-Sentry-Auth header
	Authorization   string     // Authorization header ("Sentry …" or "DSN …")
	Body            []byte     // as received
}

// SentryRequest is what a Sentry request carries that stacklens keeps.
type SentryRequest struct {
	// PublicKey is the DSN's public key: from the query, the auth headers,
	// else the envelope header's dsn. Empty when none of them has one.
	PublicKey string
	// ProjectID is the project id of the envelope header's dsn, when it has one.
	ProjectID string
	// EnvelopeID is the envelope header's event_id (Sentry's form), if any.
	EnvelopeID string
	// Events are the request's error events (at most one per envelope).
	Events []SentryEvent
	// Ignored counts the items of other types, by type.
	Ignored map[string]int
}

// SentryEvent is one error event of a request.
type SentryEvent struct {
	// ID is the event id in Sentry's form (32 lowercase hex digits) from
	// the event or the envelope header; empty when neither has one.
	ID string
	// JSON is the event as sent.
	JSON json.RawMessage
}

// IgnoredSummary lists the ignored item types with counts ("session×1 client_report×2").
func (r SentryRequest) IgnoredSummary() string {
	types := make([]string, 0, len(r.Ignored))
	for t := range r.Ignored {
		types = append(types, t)
	}
	sort.Strings(types)
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = t + "×" + strconv.Itoa(r.Ignored[t])
	}
	return strings.Join(parts, " ")
}

// SentryKey is the public key the request itself names, before its body
// is read: X-Sentry-Auth, Authorization ("Sentry sentry_key=…" or
// "DSN http://key@host/1"), else the sentry_key query parameter.
func SentryKey(in SentryInput) string {
	if k := authHeaderKey(in.XSentryAuth); k != "" {
		return k
	}
	auth := strings.TrimSpace(in.Authorization)
	if scheme, rest, ok := strings.Cut(auth, " "); ok {
		switch strings.ToLower(scheme) {
		case "sentry":
			if k := authHeaderKey(auth); k != "" {
				return k
			}
		case "dsn":
			if k, _ := dsnKey(strings.TrimSpace(rest)); k != "" {
				return k
			}
		}
	}
	return strings.TrimSpace(in.Query.Get("sentry_key"))
}

// authHeaderKey reads sentry_key from "Sentry sentry_version=7, sentry_key=abc, …".
func authHeaderKey(h string) string {
	h = strings.TrimSpace(h)
	if len(h) >= 7 && strings.EqualFold(h[:7], "sentry ") {
		h = h[7:]
	}
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.TrimSpace(k) == "sentry_key" {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// dsnKey splits a DSN (http://key@host/project) into its public key and project id.
func dsnKey(dsn string) (key, project string) {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return "", ""
	}
	project = path.Base(strings.TrimRight(u.Path, "/"))
	if project == "." || project == "/" {
		project = ""
	}
	return u.User.Username(), project
}

// DecodeSentry undoes the body's compression and reads its event items:
// an envelope (header line, then item headers each followed by a payload
// of `length` bytes or up to the next newline), or for /store/ a single
// event. Item types other than "event" are counted and ignored. Errors
// are *Error (400 for malformed envelopes, 413 for oversized items).
func DecodeSentry(in SentryInput, lim Limits) (SentryRequest, error) {
	lim = lim.orDefaults()
	req := SentryRequest{PublicKey: SentryKey(in), Ignored: map[string]int{}}
	body, err := sentryBody(in.Body, in.ContentEncoding, lim.MaxDecompressed)
	if err != nil {
		return req, err
	}
	if in.Endpoint == SentryStore {
		ev, err := storeEvent(body, lim)
		if err != nil {
			return req, err
		}
		req.Events = []SentryEvent{ev}
		return req, nil
	}
	return req, readEnvelope(body, lim, &req)
}

// sentryBody undoes Content-Encoding (gzip, deflate or br; one of them,
// as for PostHog bodies: see maxCompressionLayers), or gzip sent without
// saying so. It is the one place Sentry bodies are decompressed.
func sentryBody(body []byte, encoding string, max int64) ([]byte, error) {
	codings := strings.Split(encoding, ",")
	decoded := false
	for i := len(codings) - 1; i >= 0; i-- {
		c := strings.ToLower(strings.TrimSpace(codings[i]))
		if c == "" || c == "identity" {
			continue
		}
		if decoded {
			return nil, tooManyLayers("Content-Encoding " + c)
		}
		var err error
		switch c {
		case "gzip", "x-gzip":
			body, err = gunzip(body, max)
		case "deflate":
			body, err = inflate(body, max)
		case "br":
			body, err = readDecompressed(brotli.NewReader(bytes.NewReader(body)), "brotli", max)
		default:
			return nil, badRequest("Content-Encoding %q is not supported; send gzip, deflate, br or no encoding", c)
		}
		if err != nil {
			return nil, err
		}
		decoded = true
	}
	if !decoded && isGzip(body) {
		return gunzip(body, max)
	}
	if int64(len(body)) > max {
		return nil, tooLarge("the body is %d bytes; at most %d bytes are accepted", len(body), max)
	}
	return body, nil
}

// storeEvent reads a /store/ body: the event JSON, or as old SDKs sent it,
// base64 of zlib-compressed JSON.
func storeEvent(body []byte, lim Limits) (SentryEvent, error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] != '{' {
		decoded, err := decodeBase64(string(body))
		if err != nil {
			return SentryEvent{}, badRequest("the /store/ body is not a JSON event (nor base64 of one)")
		}
		inflated, err := inflate(decoded, lim.MaxDecompressed)
		switch e, _ := err.(*Error); {
		case err == nil:
			body = inflated
		case e != nil && e.Status == http.StatusRequestEntityTooLarge:
			return SentryEvent{}, e
		default:
			body = decoded // base64 of plain JSON
		}
	}
	if int64(len(body)) > lim.MaxEvent {
		return SentryEvent{}, tooLarge("the event is %d bytes; one event may be at most %d bytes", len(body), lim.MaxEvent)
	}
	return sentryEvent(body, "")
}

// envelopeHeader is the envelope's first line.
type envelopeHeader struct {
	EventID flexString `json:"event_id"`
	DSN     flexString `json:"dsn"`
}

// itemHeader is the line before each item's payload.
type itemHeader struct {
	Type   flexString      `json:"type"`
	Length json.RawMessage `json:"length"`
}

func readEnvelope(body []byte, lim Limits, req *SentryRequest) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("the envelope is empty; it must start with a JSON header line")
	}
	line, rest := cutLine(body)
	var head envelopeHeader
	if !looksLikeObject(line) || json.Unmarshal(line, &head) != nil {
		return badRequest("the envelope's first line is not a JSON object (the envelope header)")
	}
	headerID := string(head.EventID)
	if id, ok := SentryEventID(headerID); ok {
		req.EnvelopeID = id
	}
	if dsn := strings.TrimSpace(string(head.DSN)); dsn != "" {
		key, project := dsnKey(dsn)
		if req.PublicKey == "" {
			req.PublicKey = key
		}
		req.ProjectID = project
	}
	for n := 1; ; n++ {
		rest = bytes.TrimLeft(rest, "\r\n")
		if len(rest) == 0 {
			return nil
		}
		line, rest = cutLine(rest)
		var item itemHeader
		if !looksLikeObject(line) || json.Unmarshal(line, &item) != nil {
			return badRequest("item %d of the envelope: its header line is not a JSON object", n)
		}
		var payload []byte
		if len(item.Length) > 0 && string(item.Length) != "null" {
			length, err := strconv.ParseInt(string(item.Length), 10, 64)
			if err != nil || length < 0 {
				return badRequest("item %d of the envelope: length %s is not a byte count", n, item.Length)
			}
			if length > int64(len(rest)) {
				return badRequest("item %d of the envelope says it is %d bytes long but only %d bytes follow", n, length, len(rest))
			}
			payload, rest = rest[:length], rest[length:]
			if len(rest) > 0 && rest[0] != '\n' && !bytes.HasPrefix(rest, []byte("\r\n")) {
				return badRequest("item %d of the envelope: its payload is not followed by a newline after %d bytes", n, length)
			}
		} else {
			payload, rest = cutLine(rest)
		}
		typ := strings.TrimSpace(string(item.Type))
		if typ == "" {
			return badRequest("item %d of the envelope has no type", n)
		}
		if typ != "event" {
			req.Ignored[typ]++
			continue
		}
		if len(req.Events) > 0 {
			return badRequest("the envelope carries more than one event item; send one event per envelope")
		}
		if int64(len(payload)) > lim.MaxEvent {
			return tooLarge("the event item is %d bytes; one event may be at most %d bytes", len(payload), lim.MaxEvent)
		}
		ev, err := sentryEvent(payload, headerID)
		if err != nil {
			return badRequest("item %d of the envelope: %s", n, err.(*Error).Msg)
		}
		req.Events = append(req.Events, ev)
	}
}

// sentryEvent checks an event payload and finds its id: the event's
// event_id, else the envelope header's.
func sentryEvent(payload []byte, headerID string) (SentryEvent, error) {
	payload = bytes.TrimSpace(payload)
	var head struct {
		EventID flexString `json:"event_id"`
	}
	if !looksLikeObject(payload) {
		return SentryEvent{}, badRequest("the event is not a JSON object")
	}
	if err := json.Unmarshal(payload, &head); err != nil && !isTypeError(err) {
		return SentryEvent{}, badRequest("the event is not valid JSON: %v", err)
	}
	raw := firstNonEmpty(string(head.EventID), headerID)
	if strings.TrimSpace(raw) == "" {
		return SentryEvent{JSON: payload}, nil
	}
	id, ok := SentryEventID(raw)
	if !ok {
		return SentryEvent{}, badRequest("event_id %q is not a UUID (32 hex digits)", raw)
	}
	return SentryEvent{ID: id, JSON: payload}, nil
}

// SentryEventID puts an event id into Sentry's form: 32 lowercase hex
// digits, from a UUID written with or without dashes.
func SentryEventID(s string) (string, bool) {
	s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "-", ""))
	if len(s) != 32 {
		return "", false
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", false
	}
	return s, true
}

// WithSentryEventID returns the event JSON with event_id set to id,
// re-encoding it only when it does not already say so.
func WithSentryEventID(raw json.RawMessage, id string) (json.RawMessage, error) {
	var head struct {
		EventID flexString `json:"event_id"`
	}
	_ = json.Unmarshal(raw, &head)
	if got, ok := SentryEventID(string(head.EventID)); ok && got == id {
		return raw, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, badRequest("the event is not a JSON object")
	}
	fields["event_id"], _ = json.Marshal(id)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fields); err != nil {
		return nil, badRequest("the event cannot be re-encoded: %v", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// cutLine splits at the first newline (dropping it and a \r before it).
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.TrimSuffix(b, []byte("\r")), nil
	}
	return bytes.TrimSuffix(b[:i], []byte("\r")), b[i+1:]
}

func looksLikeObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

// SentryDSN is the DSN Sentry SDKs are configured with to send a project's
// events to the server at baseURL ("http://host:8000"): the project token
// is the DSN's public key, and the project id its path.
func SentryDSN(baseURL, key string, projectID int64) string {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || u.Host == "" {
		return ""
	}
	u.User = url.User(key)
	u.Path = strings.TrimRight(u.Path, "/") + "/" + strconv.FormatInt(projectID, 10)
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}
