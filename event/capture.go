package event

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/url"
	"strings"
	"time"
)

// CaptureInput is one PostHog capture request as the HTTP handler read it.
type CaptureInput struct {
	Method, ContentType, ContentEncoding string
	Query                                url.Values // request query
	Body                                 []byte     // raw body as received (may be empty for GET)
	BearerToken                          string     // from Authorization: Bearer (used by /i/v1/analytics/events)
}

// RawEvent is one event of a capture request, split out of its batch but
// otherwise as the client sent it.
type RawEvent struct {
	Token string // the token that applies to this event
	Name  string // "event" field, e.g. "$exception"
	UUID  string // empty when the client sent none
	// JSON is the event object, re-encoded with an absolute "timestamp"
	// (from timestamp, or offset ms before sent_at, or now) and no "offset".
	JSON json.RawMessage
}

// Capture is a PostHog capture request whose encodings are undone, all
// but the last compression layer, which is undone while reading: Token
// finds the project's token by reading only as far as it must, so the
// handler can refuse an unknown token before Events materialises and
// splits the batch.
type Capture struct {
	payload encoded
	bearer  string
	lim     Limits
}

// OpenPostHog undoes the encodings of a capture request that PostHog
// clients use (form field data=, ?data=, base64, lz-string, gzip by header,
// parameter or magic bytes), at most one of them compression. Errors are
// *Error.
func OpenPostHog(in CaptureInput, lim Limits) (*Capture, error) {
	lim = lim.orDefaults()
	payload, err := capturePayload(in, lim)
	if err != nil {
		return nil, err
	}
	return &Capture{payload: payload, bearer: in.BearerToken, lim: lim}, nil
}

// Token returns the project token that decides where the request goes:
// the top-level api_key/token, else the first event's token, else the
// Bearer token; "" when the request holds no event. It reads the payload
// only until it knows, inflating on the way, so a huge body with an
// unknown token costs little. Events checks that every event agrees.
func (c *Capture) Token() (string, error) {
	r, err := c.payload.open(c.lim.MaxDecompressed)
	if err != nil {
		return "", err
	}
	scan, err := walkPayload(scanReader(r), c.lim, walkOptions{untilToken: true})
	if err != nil {
		return "", err
	}
	token, ok := scan.requestToken(c.bearer)
	if ok && token == "" {
		return "", unauthorized("event 0 has no project token (api_key, token or properties.token)")
	}
	return token, nil
}

// Events splits the request into its events, accepting every JSON shape
// PostHog clients send (array, batch object, single event). A compressed
// payload is first read through once without keeping it, so too many or
// too large events are refused (413) before the inflated body is held.
// now stands in for timestamps the client did not send.
func (c *Capture) Events(now time.Time) ([]RawEvent, error) {
	if c.payload.codec != "" {
		r, err := c.payload.open(c.lim.MaxDecompressed)
		if err != nil {
			return nil, err
		}
		if _, err := walkPayload(scanReader(r), c.lim, walkOptions{}); err != nil {
			return nil, err
		}
	}
	payload, err := c.payload.bytes(c.lim.MaxDecompressed)
	if err != nil {
		return nil, err
	}
	return splitEvents(payload, c.bearer, c.lim, now)
}

// DecodePostHog turns a PostHog capture request into its events: OpenPostHog
// then Events, for callers that do not need to check the token first.
func DecodePostHog(in CaptureInput, lim Limits, now time.Time) ([]RawEvent, error) {
	c, err := OpenPostHog(in, lim)
	if err != nil {
		return nil, err
	}
	return c.Events(now)
}

func (l Limits) orDefaults() Limits {
	d := DefaultLimits()
	if l.MaxDecompressed <= 0 {
		l.MaxDecompressed = d.MaxDecompressed
	}
	if l.MaxEvent <= 0 {
		l.MaxEvent = d.MaxEvent
	}
	if l.MaxEvents <= 0 {
		l.MaxEvents = d.MaxEvents
	}
	return l
}

// capturePayload finds the JSON text of a capture request, leaving its
// last compression layer to be undone while reading.
func capturePayload(in CaptureInput, lim Limits) (encoded, error) {
	max := lim.MaxDecompressed
	p, err := undoContentEncoding(in.Body, in.ContentEncoding)
	if err != nil {
		return encoded{}, err
	}
	head, err := p.peek(max)
	if err != nil {
		return encoded{}, err
	}
	compression := strings.ToLower(in.Query.Get("compression"))
	switch {
	case isFormBody(in.ContentType, head):
		body, err := p.bytes(max)
		if err != nil {
			return encoded{}, err
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return encoded{}, badRequest("the form body cannot be parsed: %v", err)
		}
		if c := form.Get("compression"); c != "" {
			compression = strings.ToLower(c)
		}
		p = p.plain([]byte(form.Get("data")))
	case len(head) == 0 && in.Query.Has("data"):
		p = p.plain([]byte(in.Query.Get("data")))
	}

	switch compression {
	case "lz64", "lz-string", "lzstring":
		data, err := p.bytes(max)
		if err != nil {
			return encoded{}, err
		}
		if !looksLikeJSON(data) {
			if p.layers() >= maxCompressionLayers {
				return encoded{}, tooManyLayers("lz-string")
			}
			out, err := lzDecompressBase64(strings.TrimSpace(string(data)), max)
			if err != nil {
				return encoded{}, asClientError(err, "the lz-string (compression=%s) data cannot be decompressed", compression)
			}
			p = encoded{raw: out, undone: p.layers() + 1}
		}
	case "base64":
		data, err := p.bytes(max)
		if err != nil {
			return encoded{}, err
		}
		if !looksLikeJSON(data) && !isGzip(data) {
			out, err := decodeBase64(string(data))
			if err != nil {
				return encoded{}, badRequest("the body says compression=base64 but is not base64: %v", err)
			}
			p = p.plain(out)
		}
	}
	return sniffPayload(p, max)
}

// sniffPayload undoes what is left by looking at the bytes: gzip by its
// magic number, base64 by not being JSON.
func sniffPayload(p encoded, max int64) (encoded, error) {
	triedBase64 := false
	for {
		head, err := p.peek(max)
		if err != nil {
			return encoded{}, err
		}
		switch {
		case isGzip(head):
			if p.layers() >= maxCompressionLayers {
				return encoded{}, tooManyLayers("gzip")
			}
			p = encoded{raw: p.raw, codec: "gzip", undone: p.undone}
		case looksLikeJSON(head):
			return p, nil
		case len(head) == 0:
			return encoded{}, badRequest("the request has no body and no data parameter")
		case !triedBase64 && looksLikeBase64(head):
			triedBase64 = true
			data, err := p.bytes(max)
			if err != nil {
				return encoded{}, err
			}
			out, err := decodeBase64(string(bytes.TrimSpace(data)))
			if err != nil {
				return encoded{}, badRequest("the body is neither JSON, gzip nor base64")
			}
			p = p.plain(out)
		case !triedBase64:
			return encoded{}, badRequest("the body is neither JSON, gzip nor base64")
		default:
			return encoded{}, badRequest("the body is not JSON after decoding base64")
		}
	}
}

// undoContentEncoding reads the Content-Encoding header: at most one
// compression, to be undone while reading.
func undoContentEncoding(body []byte, header string) (encoded, error) {
	p := encoded{raw: body}
	for _, c := range strings.Split(header, ",") {
		switch c := strings.ToLower(strings.TrimSpace(c)); c {
		case "", "identity":
		case "gzip", "x-gzip", "deflate":
			if p.codec != "" {
				return encoded{}, tooManyLayers("Content-Encoding " + c)
			}
			p.codec = strings.TrimPrefix(c, "x-")
		default:
			return encoded{}, badRequest("Content-Encoding %q is not supported; send gzip, deflate or no encoding", c)
		}
	}
	return p, nil
}

func isFormBody(contentType string, body []byte) bool {
	if isGzip(body) || looksLikeJSON(body) {
		return false // mislabelled: the bytes say what they are
	}
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && mt == "application/x-www-form-urlencoded" {
		return true
	}
	// sendBeacon and older clients may label a form body as text/plain.
	return bytes.HasPrefix(body, []byte("data=")) || bytes.HasPrefix(body, []byte("compression="))
}

// looksLikeBase64 reports whether b holds only characters of the base64
// dialects decodeBase64 reads, so other bodies are refused unread.
func looksLikeBase64(b []byte) bool {
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case strings.IndexByte("+/-_= \t\r\n", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func looksLikeJSON(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// asClientError keeps an *Error as it is and turns anything else into a 400.
func asClientError(err error, format string, args ...any) error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return badRequest(format, args...)
}
