package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stacklens/stacklens/internal/testkit"
)

// The fuzz targets below run their seeds in every `go test`: the ones
// added here and the corpus committed under testdata/fuzz/<target>/
// (recorded SDK requests among them), so they fuzz real input in a fresh
// clone. Explore with `go test -run '^$' -fuzz '^FuzzX$' ./event/`.

// fuzzLimits are small, so the fuzzer reaches every cap.
var fuzzLimits = Limits{MaxDecompressed: 1 << 20, MaxEvent: 256 << 10, MaxEvents: 64}

// FuzzDecodePostHog feeds arbitrary bodies through the whole decode path:
// it never panics, refuses only with a 400, 401 or 413 *Error, keeps
// every cap, and whatever it accepts parses and fingerprints.
func FuzzDecodePostHog(f *testing.F) {
	f.Add([]byte(oneEvent), "application/json", "", "")
	f.Add([]byte(`[`+oneEvent+`]`), "", "", "")
	f.Add([]byte(`{"batch":[{"offset":"12","properties":{"$exception_list":[{"frames":1}]}}]}`), "", "", "base64")
	f.Add([]byte("data=eyJldmVudCI6IngifQ=="), "application/x-www-form-urlencoded", "", "")
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}, "", "gzip", "gzip-js")
	f.Add(testkit.GzipQuine(), "text/plain", "", "")
	f.Add(gzipped(f, string(gzipped(f, `{"api_key":"phc_a","batch":[`+oneEvent+`]}`))), "text/plain", "", "gzip-js")
	for _, v := range loadLZVectors(f) {
		f.Add([]byte("data="+url.QueryEscape(v.Base64)), "application/x-www-form-urlencoded", "", "lz64")
	}

	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, body []byte, contentType, contentEncoding, compression string) {
		in := CaptureInput{Method: "POST", ContentType: contentType, ContentEncoding: contentEncoding,
			Query: url.Values{"compression": {compression}}, Body: body}
		evs, err := DecodePostHog(in, fuzzLimits, now)
		if err != nil {
			switch statusOf(err) {
			case 400, 401, 413:
			default:
				t.Fatalf("error is not a 400, 401 or 413 *Error: %v", err)
			}
			return
		}
		if len(evs) > fuzzLimits.MaxEvents {
			t.Fatalf("%d events accepted past the cap of %d", len(evs), fuzzLimits.MaxEvents)
		}
		_, _ = Tokens(evs)
		for _, ev := range evs {
			// The decoder may add a timestamp; nothing else grows an event.
			if int64(len(ev.JSON)) > fuzzLimits.MaxEvent+64 {
				t.Fatalf("an event of %d bytes passed the cap of %d", len(ev.JSON), fuzzLimits.MaxEvent)
			}
			e, err := ParsePostHog(ev.JSON, now)
			if err != nil {
				t.Fatalf("decoded event does not parse: %v\n%s", err, ev.JSON)
			}
			if len(e.Exceptions) == 0 || len(Fingerprint(e)) != 64 {
				t.Fatalf("parsed event without exceptions or fingerprint: %+v", e)
			}
			// The pipeline's parse, which picks properties by key, reads the same event.
			lean, err := ParsePostHogWithoutProperties(ev.JSON, now)
			if lean.Properties = e.Properties; err != nil || !reflect.DeepEqual(lean, e) {
				t.Fatalf("parsed without properties: %+v (%v), with: %+v\n%s", lean, err, e, ev.JSON)
			}
		}
	})
}

// FuzzCaptureToken builds requests of every shape from fuzzed tokens and
// checks that Token, which reads only as far as it must, names the token
// PostHog's rule gives (top level, else the first event's, else Bearer)
// and that Events agrees with it, compressed or not.
func FuzzCaptureToken(f *testing.F) {
	f.Add("phc_top", "phc_event", "", uint8(0), uint8(2), false)
	f.Add("", "phc_event", "phc_bearer", uint8(1), uint8(3), true)
	f.Add("", "", "phc_bearer", uint8(2), uint8(1), false)
	f.Add("phc_after", "", "", uint8(3), uint8(5), true)
	f.Add("", "phc_e", "", uint8(4), uint8(1), false)
	f.Add("", "", "", uint8(0), uint8(0), false)
	f.Fuzz(func(t *testing.T, top, eventToken, bearer string, shape, n uint8, compressed bool) {
		if len(top) > maxTokenValue/8 || len(eventToken) > maxTokenValue/8 || len(bearer) > maxTokenValue/8 {
			return // longer token fields are refused outright (TestCaptureTokenTooLong)
		}
		// json.Marshal writes invalid UTF-8 as U+FFFD; so does every client.
		top, eventToken = strings.ToValidUTF8(top, "\uFFFD"), strings.ToValidUTF8(eventToken, "\uFFFD")
		event := map[string]any{"event": "$exception"}
		if eventToken != "" {
			event["properties"] = map[string]any{"token": eventToken}
		}
		events := make([]any, int(n)%8)
		for i := range events {
			events[i] = event
		}
		var body []byte
		var err error
		want := firstNonEmpty(eventToken, bearer)
		switch shape % 5 {
		case 0: // array
			body, err = json.Marshal(events)
		case 1: // batch, api_key first
			body, err = json.Marshal(map[string]any{"api_key": top, "batch": events})
			want = firstNonEmpty(top, eventToken, bearer)
		case 2: // batch with token
			body, err = json.Marshal(map[string]any{"batch": events, "token": top})
			want = firstNonEmpty(top, eventToken, bearer)
		case 3: // batch, api_key after it
			var b []byte
			b, err = json.Marshal(events)
			k, _ := json.Marshal(top)
			body = fmt.Appendf(nil, `{"batch":%s,"api_key":%s}`, b, k)
			want = firstNonEmpty(top, eventToken, bearer)
		case 4: // single event
			one := map[string]any{"event": "$exception", "api_key": top}
			if eventToken != "" {
				one["properties"] = map[string]any{"token": eventToken}
			}
			body, err = json.Marshal(one)
			events = []any{one}
			want = firstNonEmpty(top, eventToken, bearer)
		}
		if err != nil {
			t.Fatal(err)
		}
		want = strings.TrimSpace(want)
		if len(events) == 0 && shape%5 != 1 && shape%5 != 2 {
			want = ""
		}
		if compressed {
			body = gzipped(t, string(body))
		}
		capture, err := OpenPostHog(CaptureInput{Method: "POST", Body: body, BearerToken: bearer}, fuzzLimits)
		if err != nil {
			t.Fatalf("open %s: %v", body, err)
		}
		token, tokenErr := capture.Token()
		evs, eventsErr := capture.Events(time.Unix(1700000000, 0))
		if eventsErr != nil {
			t.Fatalf("Events: %v", eventsErr)
		}
		all, allErr := Tokens(evs)
		switch {
		case len(evs) == 0:
			// An empty batch may still name its project.
			if tokenErr != nil || (token != "" && token != strings.TrimSpace(top)) {
				t.Fatalf("no events: Token() = %q, %v", token, tokenErr)
			}
		case want == "":
			if statusOf(tokenErr) != 401 || statusOf(allErr) != 401 {
				t.Fatalf("no token anywhere: Token() %q, %v; Tokens %q, %v", token, tokenErr, all, allErr)
			}
		default:
			if tokenErr != nil || token != want || allErr != nil || all != want {
				t.Fatalf("Token() = %q, %v; Tokens(Events()) = %q, %v; want %q", token, tokenErr, all, allErr, want)
			}
		}
	})
}

// FuzzJSONScanner checks the scanner's grammar against encoding/json:
// it accepts exactly what json.Valid accepts, and recordValue returns
// the value's exact text.
func FuzzJSONScanner(f *testing.F) {
	for _, s := range []string{oneEvent, `[1,-0.5e+7,"a\u00e9\n",true,false,null,{}]`, `{"a":[]}`, `01`, `[1,]`,
		`{"a" 1}`, `"\x"`, `1e`, `-`, ` [ ] `, `{"a":"b"}x`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := scanBytes(b)
		err := func() error {
			c, err := s.nonSpace()
			if err != nil {
				return err
			}
			start := s.offset() - 1
			raw, err := s.recordValue(c, len(b)+1)
			if err != nil {
				return err
			}
			if want := b[start:s.offset()]; !bytes.Equal(raw, want) {
				t.Fatalf("recorded %q, the value is %q", raw, want)
			}
			if end, err := s.atEnd(); err != nil || !end {
				return errors.New("trailing data")
			}
			return nil
		}()
		if valid := json.Valid(b); valid != (err == nil) {
			t.Fatalf("json.Valid = %v, scanner error = %v, for %q", valid, err, b)
		}
		if err == nil {
			// Streaming the same bytes agrees with scanning them in memory.
			r := scanReader(iotestOneByte(b))
			c, err := r.nonSpace()
			if err == nil {
				err = r.skipValue(c, 0)
			}
			if err != nil {
				t.Fatalf("streamed one byte at a time, %q fails: %v", b, err)
			}
		}
	})
}

// iotestOneByte reads b one byte per Read, the worst case for buffering.
func iotestOneByte(b []byte) *oneByteReader { return &oneByteReader{b: b} }

type oneByteReader struct{ b []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0], r.b = r.b[0], r.b[1:]
	return 1, nil
}

// FuzzLZDecompressBase64: never panics, never returns more than max
// bytes, returns valid UTF-8, and the cap is exact: what decodes within a
// large cap decodes the same with a cap of its own length and is refused
// (413) with one byte less.
func FuzzLZDecompressBase64(f *testing.F) {
	for _, v := range loadLZVectors(f) {
		f.Add(v.Base64, uint16(1000))
	}
	f.Add("", uint16(10))
	f.Add("A", uint16(0))
	f.Fuzz(func(t *testing.T, in string, max uint16) {
		out, err := lzDecompressBase64(in, int64(max))
		if err != nil {
			if !errors.Is(err, errLZCorrupt) && statusOf(err) != 413 {
				t.Fatalf("error is neither corrupt data nor a 413: %v", err)
			}
			return
		}
		if len(out) > int(max) {
			t.Fatalf("%d bytes out with a cap of %d", len(out), max)
		}
		if !utf8.Valid(out) {
			t.Fatalf("output is not UTF-8: %q", out)
		}
		again, err := lzDecompressBase64(in, int64(len(out)))
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("with a cap of exactly %d bytes: %q, %v; want %q", len(out), again, err, out)
		}
		if len(out) > 0 {
			if _, err := lzDecompressBase64(in, int64(len(out)-1)); statusOf(err) != 413 {
				t.Fatalf("with a cap one byte short: %v, want 413", err)
			}
		}
	})
}

// FuzzDecodeSentry feeds arbitrary envelope and /store/ bodies through
// the Sentry decoder: it never panics, refuses only with a 400, 401 or 413
// *Error, keeps the per-event cap, and every event it returns parses.
func FuzzDecodeSentry(f *testing.F) {
	f.Add(envelopeOf(`{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}`, `{"type":"event"}`, sampleEvent), "", false)
	f.Add(envelopeOf(`{}`, `{"type":"event","length":`+fmt.Sprint(len(sampleEvent))+`}`, sampleEvent, `{"type":"session"}`, `{}`), "", false)
	f.Add(envelopeOf(`{}`, `{"type":"event","length":99999999}`, sampleEvent), "", false)
	f.Add(gzipped(f, string(envelopeOf(`{}`, `{"type":"event"}`, sampleEvent))), "gzip", false)
	f.Add(testkit.GzipQuine(), "", false)
	f.Add([]byte(sampleEvent), "", true)
	f.Add([]byte("eJyrVkrLz1eyUkpKLFKqBQAb4wPH"), "", true)
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, body []byte, contentEncoding string, store bool) {
		in := SentryInput{ContentEncoding: contentEncoding, Body: body}
		if store {
			in.Endpoint = SentryStore
		}
		req, err := DecodeSentry(in, fuzzLimits)
		if err != nil {
			switch statusOf(err) {
			case 400, 401, 413:
			default:
				t.Fatalf("error is not a 400, 401 or 413 *Error: %v", err)
			}
			return
		}
		for _, ev := range req.Events {
			if int64(len(ev.JSON)) > fuzzLimits.MaxEvent {
				t.Fatalf("an event of %d bytes passed the cap of %d", len(ev.JSON), fuzzLimits.MaxEvent)
			}
			if _, err := ParseSentry(ev.JSON, now); err != nil {
				t.Fatalf("decoded event does not parse: %v\n%s", err, ev.JSON)
			}
		}
	})
}
