package event

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"io"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

const oneEvent = `{"event":"$exception","uuid":"u1","distinct_id":"d1","timestamp":"2026-01-02T03:04:05.678Z",` +
	`"properties":{"token":"phc_a","$exception_list":[{"type":"TypeError","value":"x is undefined"}]}}`

func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

func mustDecode(t *testing.T, in CaptureInput) []RawEvent {
	t.Helper()
	evs, err := DecodePostHog(in, DefaultLimits(), testNow)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return evs
}

func gzipped(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := io.WriteString(zw, s); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodePostHogShapes(t *testing.T) {
	cases := map[string]string{
		"single event":       oneEvent,
		"array":              `[` + oneEvent + `]`,
		"batch with api_key": `{"api_key":"phc_a","batch":[` + oneEvent + `],"sent_at":"2026-01-02T03:04:06Z"}`,
		"batch with token":   `{"token":"phc_a","batch":[` + oneEvent + `]}`,
		"batch only":         `{"batch":[` + oneEvent + `]}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			evs := mustDecode(t, CaptureInput{Method: "POST", ContentType: "application/json", Body: []byte(body)})
			if len(evs) != 1 {
				t.Fatalf("%d events", len(evs))
			}
			ev := evs[0]
			if ev.Token != "phc_a" || ev.Name != "$exception" || ev.UUID != "u1" {
				t.Errorf("got %+v", ev)
			}
			p, err := ParsePostHog(ev.JSON, testNow)
			if err != nil || p.Exceptions[0].Type != "TypeError" || p.DistinctID != "d1" {
				t.Errorf("parse: %+v %v", p, err)
			}
		})
	}
	evs := mustDecode(t, CaptureInput{Method: "POST", Body: []byte(`{"api_key":"phc_a","batch":[]}`)})
	if len(evs) != 0 {
		t.Errorf("empty batch gave %d events", len(evs))
	}
}

func TestDecodePostHogEncodings(t *testing.T) {
	batch := `{"api_key":"phc_a","batch":[` + oneEvent + `]}`
	b64 := base64.StdEncoding.EncodeToString([]byte(batch))
	var zl, raw bytes.Buffer
	zw := zlib.NewWriter(&zl)
	io.WriteString(zw, batch)
	zw.Close()
	fw, _ := flate.NewWriter(&raw, flate.BestSpeed)
	io.WriteString(fw, batch)
	fw.Close()

	cases := map[string]CaptureInput{
		"gzip header":          {Method: "POST", ContentEncoding: "gzip", Body: gzipped(t, batch)},
		"gzip magic only":      {Method: "POST", ContentType: "text/plain", Body: gzipped(t, batch)},
		"gzip-js parameter":    {Method: "POST", Query: url.Values{"compression": {"gzip-js"}}, Body: gzipped(t, batch)},
		"deflate zlib":         {Method: "POST", ContentEncoding: "deflate", Body: zl.Bytes()},
		"deflate raw":          {Method: "POST", ContentEncoding: "deflate", Body: raw.Bytes()},
		"base64 form":          {Method: "POST", ContentType: "application/x-www-form-urlencoded", Query: url.Values{"compression": {"base64"}}, Body: []byte("data=" + url.QueryEscape(b64))},
		"base64 form, no hint": {Method: "POST", ContentType: "application/x-www-form-urlencoded", Body: []byte("data=" + url.QueryEscape(b64))},
		"form compression":     {Method: "POST", ContentType: "text/plain", Body: []byte("compression=base64&data=" + url.QueryEscape(b64))},
		"GET ?data= base64":    {Method: "GET", Query: url.Values{"data": {b64}}},
		"GET ?data= JSON":      {Method: "GET", Query: url.Values{"data": {batch}}},
		"gzip inside base64":   {Method: "POST", ContentType: "application/x-www-form-urlencoded", Body: []byte("data=" + url.QueryEscape(base64.StdEncoding.EncodeToString(gzipped(t, batch))))},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			evs := mustDecode(t, in)
			if len(evs) != 1 || evs[0].UUID != "u1" || evs[0].Token != "phc_a" {
				t.Fatalf("got %+v", evs)
			}
		})
	}
}

func TestDecodePostHogBase64FormWithSpacesForPlus(t *testing.T) {
	// Find a payload whose base64 has '+', then send it unescaped, as a
	// client that forgets to URL-encode does: form decoding makes it ' '.
	var b64 string
	for pad := 0; !strings.Contains(b64, "+"); pad++ {
		ev := strings.Replace(oneEvent, `"d1"`, `"d1`+strings.Repeat("~", pad)+`>>"`, 1)
		b64 = base64.StdEncoding.EncodeToString([]byte(ev))
	}
	in := CaptureInput{Method: "POST", ContentType: "application/x-www-form-urlencoded",
		Query: url.Values{"compression": {"base64"}}, Body: []byte("data=" + b64)}
	evs := mustDecode(t, in)
	p, err := ParsePostHog(evs[0].JSON, testNow)
	if err != nil || !strings.HasPrefix(p.DistinctID, "d1~") {
		t.Fatalf("parse: %+v %v", p.DistinctID, err)
	}
	// The same with ?data= on a GET, where url parsing did the same damage.
	q, _ := url.ParseQuery("data=" + b64)
	if evs := mustDecode(t, CaptureInput{Method: "GET", Query: q}); len(evs) != 1 {
		t.Fatalf("GET: %d events", len(evs))
	}
}

func TestDecodePostHogLZ64(t *testing.T) {
	var v lzVector
	for _, c := range loadLZVectors(t) {
		if strings.HasPrefix(c.Input, `{"api_key":"phc_lz"`) {
			v = c
		}
	}
	if v.Base64 == "" {
		t.Fatal("no batch among the lz-string vectors")
	}
	for name, in := range map[string]CaptureInput{
		"query lz64":     {Method: "POST", ContentType: "application/x-www-form-urlencoded", Query: url.Values{"compression": {"lz64"}}, Body: []byte("data=" + url.QueryEscape(v.Base64))},
		"form lz-string": {Method: "POST", ContentType: "application/x-www-form-urlencoded", Body: []byte("compression=lz-string&data=" + url.QueryEscape(v.Base64))},
		"unescaped +":    {Method: "POST", ContentType: "application/x-www-form-urlencoded", Query: url.Values{"compression": {"lz64"}}, Body: []byte("data=" + v.Base64)},
	} {
		t.Run(name, func(t *testing.T) {
			evs := mustDecode(t, in)
			if len(evs) != 1 || evs[0].Token != "phc_lz" {
				t.Fatalf("got %+v", evs)
			}
			p, err := ParsePostHog(evs[0].JSON, testNow)
			if err != nil || p.Exceptions[0].Value != "x is undefined — ünïcødé 😀" {
				t.Fatalf("parse: %q %v", p.Exceptions[0].Value, err)
			}
		})
	}
}

func TestDecodePostHogRefuses(t *testing.T) {
	full := gzipped(t, `{"api_key":"phc_a","batch":[`+oneEvent+`]}`)
	big := `{"event":"$exception","properties":{"token":"t","pad":"` + strings.Repeat("x", 3<<20) + `"}}`
	cases := []struct {
		name string
		in   CaptureInput
		want int
	}{
		{"truncated gzip", CaptureInput{Method: "POST", Body: full[:len(full)-12]}, 400},
		{"truncated gzip by header", CaptureInput{Method: "POST", ContentEncoding: "gzip", Body: full[:len(full)/2]}, 400},
		{"gzip header, plain body", CaptureInput{Method: "POST", ContentEncoding: "gzip", Body: []byte(oneEvent)}, 400},
		{"invalid JSON", CaptureInput{Method: "POST", Body: []byte(`{"event":"$exception",`)}, 400},
		{"JSON with trailing junk", CaptureInput{Method: "POST", Body: []byte(oneEvent + `}`)}, 400},
		{"event that is not an object", CaptureInput{Method: "POST", Body: []byte(`[1]`)}, 400},
		{"not base64", CaptureInput{Method: "POST", Body: []byte(`hello, world!`)}, 400},
		{"empty body", CaptureInput{Method: "POST"}, 400},
		{"bad lz64", CaptureInput{Method: "POST", Query: url.Values{"compression": {"lz64"}}, Body: []byte("data=AAAA")}, 400},
		{"unknown content encoding", CaptureInput{Method: "POST", ContentEncoding: "br", Body: []byte(oneEvent)}, 400},
		{"event too large", CaptureInput{Method: "POST", Body: []byte(big)}, 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, err := DecodePostHog(c.in, DefaultLimits(), testNow)
			if got := statusOf(err); got != c.want {
				t.Fatalf("status %d (%v, %d events), want %d", got, err, len(evs), c.want)
			}
			if err.Error() == "" {
				t.Error("empty message")
			}
		})
	}
}

// zeroBomb is gzip of n MiB of zeros, written through a streaming writer.
func zeroBomb(t testing.TB, mib int) []byte { return byteBomb(t, mib, 0) }

// byteBomb is gzip of n MiB of the byte b.
func byteBomb(t testing.TB, mib int, b byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zeros := bytes.Repeat([]byte{b}, 1<<20)
	for range mib {
		if _, err := zw.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodePostHogGzipBomb(t *testing.T) {
	member := byteBomb(t, 1, 'A')
	// 1 GiB of base64-looking text as 1024 concatenated gzip members (legal gzip).
	bomb := bytes.Repeat(member, 1024)
	lim := Limits{MaxDecompressed: 1 << 20, MaxEvent: 1 << 20}

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := DecodePostHog(CaptureInput{Method: "POST", ContentEncoding: "gzip", Body: bomb}, lim, testNow)
	runtime.ReadMemStats(&after)
	if statusOf(err) != 413 {
		t.Fatalf("1 GiB bomb: %v, want 413", err)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 8<<20 {
		t.Errorf("decoding allocated %d bytes for a 1 MiB cap", allocated)
	}

	// One stream of base64-looking text just past the default cap, found by magic bytes alone.
	mib := int(DefaultLimits().MaxDecompressed>>20) + 1
	single := byteBomb(t, mib, 'A')
	if _, err := DecodePostHog(CaptureInput{Method: "POST", Body: single}, DefaultLimits(), testNow); statusOf(err) != 413 {
		t.Fatalf("%d MiB bomb: %v, want 413", mib, err)
	}
	// Zeros are neither JSON nor base64: refused from their first bytes.
	if _, err := DecodePostHog(CaptureInput{Method: "POST", Body: zeroBomb(t, 8)}, DefaultLimits(), testNow); statusOf(err) != 400 {
		t.Fatalf("8 MiB of gzipped zeros: %v, want 400", err)
	}
}

func TestDecodePostHogTimestamps(t *testing.T) {
	body := `{"api_key":"phc_a","sent_at":"2026-01-01T00:00:10Z","batch":[
		{"event":"a","timestamp":"2025-12-31T23:00:00.123Z"},
		{"event":"b","offset":1500},
		{"event":"c"},
		{"event":"d","timestamp":"not a time","offset":"250"},
		{"event":"e","timestamp":"2025-12-31T23:00:00"}
	]}`
	evs := mustDecode(t, CaptureInput{Method: "POST", Body: []byte(body)})
	want := []time.Time{
		time.Date(2025, 12, 31, 23, 0, 0, 123e6, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 8, 500e6, time.UTC),
		testNow,
		time.Date(2026, 1, 1, 0, 0, 9, 750e6, time.UTC),
		time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC),
	}
	for i, ev := range evs {
		p, err := ParsePostHog(ev.JSON, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if !p.Timestamp.Equal(want[i]) {
			t.Errorf("event %s: %v, want %v", ev.Name, p.Timestamp, want[i])
		}
		if bytes.Contains(ev.JSON, []byte(`"offset"`)) {
			t.Errorf("event %s still has its offset: %s", ev.Name, ev.JSON)
		}
	}
	// Without sent_at an offset counts back from now.
	evs = mustDecode(t, CaptureInput{Method: "POST", Body: []byte(`[{"event":"x","offset":2000,"properties":{"token":"t"}}]`)})
	p, _ := ParsePostHog(evs[0].JSON, time.Time{})
	if !p.Timestamp.Equal(testNow.Add(-2 * time.Second)) {
		t.Errorf("offset without sent_at: %v", p.Timestamp)
	}
}

func TestTokens(t *testing.T) {
	decode := func(body, bearer string) []RawEvent {
		return mustDecode(t, CaptureInput{Method: "POST", Body: []byte(body), BearerToken: bearer})
	}
	if tok, err := Tokens(decode(`[{"event":"a","properties":{"token":"t1"}},{"event":"b","properties":{"$token":"t1"}}]`, "")); err != nil || tok != "t1" {
		t.Errorf("same token: %q %v", tok, err)
	}
	if tok, err := Tokens(decode(`{"api_key":"top","batch":[{"event":"a","properties":{"token":"other"}}]}`, "")); err != nil || tok != "top" {
		t.Errorf("top-level token wins: %q %v", tok, err)
	}
	if tok, err := Tokens(decode(`{"event":"a","properties":{}}`, "phc_bearer")); err != nil || tok != "phc_bearer" {
		t.Errorf("bearer token: %q %v", tok, err)
	}
	_, err := Tokens(decode(`[{"event":"a","properties":{"token":"t1"}},{"event":"b","properties":{"token":"t2"}}]`, ""))
	if statusOf(err) != 401 || !strings.Contains(err.Error(), "several projects") {
		t.Errorf("mixed tokens: %v", err)
	}
	if _, err := Tokens(decode(`[{"event":"a","properties":{"token":"t1"}},{"event":"b"}]`, "")); statusOf(err) != 401 {
		t.Errorf("missing token: %v", err)
	}
	if tok, err := Tokens(nil); tok != "" || err != nil {
		t.Errorf("no events: %q %v", tok, err)
	}
}
