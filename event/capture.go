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

// DecodePostHog turns a PostHog capture request into its events. It undoes
// every body encoding PostHog clients use (form field data=, ?data=,
// base64, lz-string, gzip by header, parameter or magic bytes) and accepts
// every JSON shape they send (array, batch object, single event). now
// stands in for timestamps the client did not send. Errors are *Error.
func DecodePostHog(in CaptureInput, lim Limits, now time.Time) ([]RawEvent, error) {
	lim = lim.orDefaults()
	payload, err := capturePayload(in, lim)
	if err != nil {
		return nil, err
	}
	return splitEvents(payload, in.BearerToken, lim, now)
}

func (l Limits) orDefaults() Limits {
	d := DefaultLimits()
	if l.MaxDecompressed <= 0 {
		l.MaxDecompressed = d.MaxDecompressed
	}
	if l.MaxEvent <= 0 {
		l.MaxEvent = d.MaxEvent
	}
	return l
}

// capturePayload finds the JSON text of a capture request.
func capturePayload(in CaptureInput, lim Limits) ([]byte, error) {
	body, err := undoContentEncoding(in.Body, in.ContentEncoding, lim.MaxDecompressed)
	if err != nil {
		return nil, err
	}
	compression := strings.ToLower(in.Query.Get("compression"))
	payload := body
	if isFormBody(in.ContentType, body) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, badRequest("the form body cannot be parsed: %v", err)
		}
		if c := form.Get("compression"); c != "" {
			compression = strings.ToLower(c)
		}
		payload = []byte(form.Get("data"))
	} else if len(bytes.TrimSpace(body)) == 0 && in.Query.Has("data") {
		payload = []byte(in.Query.Get("data"))
	}

	switch compression {
	case "lz64", "lz-string", "lzstring":
		if !looksLikeJSON(payload) {
			out, err := lzDecompressBase64(strings.TrimSpace(string(payload)), lim.MaxDecompressed)
			if err != nil {
				return nil, asClientError(err, "the lz-string (compression=%s) data cannot be decompressed", compression)
			}
			payload = out
		}
	case "base64":
		if !looksLikeJSON(payload) && !isGzip(payload) {
			out, err := decodeBase64(string(payload))
			if err != nil {
				return nil, badRequest("the body says compression=base64 but is not base64: %v", err)
			}
			payload = out
		}
	}
	return sniffPayload(payload, lim.MaxDecompressed)
}

// sniffPayload undoes what is left by looking at the bytes: gzip by its
// magic number, base64 by not being JSON.
func sniffPayload(payload []byte, max int64) ([]byte, error) {
	triedBase64 := false
	for {
		switch {
		case isGzip(payload):
			out, err := gunzip(payload, max)
			if err != nil {
				return nil, err
			}
			payload = out
		case looksLikeJSON(payload):
			return payload, nil
		case len(bytes.TrimSpace(payload)) == 0:
			return nil, badRequest("the request has no body and no data parameter")
		case !triedBase64:
			triedBase64 = true
			out, err := decodeBase64(string(bytes.TrimSpace(payload)))
			if err != nil {
				return nil, badRequest("the body is neither JSON, gzip nor base64")
			}
			payload = out
		default:
			return nil, badRequest("the body is not JSON after decoding base64")
		}
	}
}

func undoContentEncoding(body []byte, header string, max int64) ([]byte, error) {
	codings := strings.Split(header, ",")
	for i := len(codings) - 1; i >= 0; i-- { // applied in order, undone in reverse
		var err error
		switch c := strings.ToLower(strings.TrimSpace(codings[i])); c {
		case "", "identity":
		case "gzip", "x-gzip":
			body, err = gunzip(body, max)
		case "deflate":
			body, err = inflate(body, max)
		default:
			return nil, badRequest("Content-Encoding %q is not supported; send gzip, deflate or no encoding", c)
		}
		if err != nil {
			return nil, err
		}
	}
	return body, nil
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
