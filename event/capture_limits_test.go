package event

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/internal/testkit"
)

func TestDecodePostHogUndoesOneCompressionLayer(t *testing.T) {
	quine := testkit.GzipQuine()
	batch := `{"api_key":"phc_a","batch":[` + oneEvent + `]}`
	gz := gzipped(t, batch)
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	cases := []struct {
		name string
		in   CaptureInput
		want int // 0: decodes
	}{
		{"gzip quine by magic bytes", CaptureInput{Method: "POST", Body: quine}, 400},
		{"gzip quine by Content-Encoding", CaptureInput{Method: "POST", ContentEncoding: "gzip", Body: quine}, 400},
		{"gzip quine as base64 form data", CaptureInput{Method: "POST", ContentType: "application/x-www-form-urlencoded",
			Body: []byte("data=" + url.QueryEscape(b64(quine)))}, 400},
		{"gzip inside gzip", CaptureInput{Method: "POST", Body: gzipped(t, string(gz))}, 400},
		{"gzip inside Content-Encoding gzip", CaptureInput{Method: "POST", ContentEncoding: "gzip", Body: gzipped(t, string(gz))}, 400},
		{"Content-Encoding gzip, gzip", CaptureInput{Method: "POST", ContentEncoding: "gzip, gzip", Body: gzipped(t, string(gz))}, 400},
		{"gzip inside deflate", CaptureInput{Method: "POST", ContentEncoding: "deflate", Body: deflated(t, gz)}, 400},
		{"gzip", CaptureInput{Method: "POST", Body: gz}, 0},
		{"gzip inside base64 form data", CaptureInput{Method: "POST", ContentType: "application/x-www-form-urlencoded",
			Body: []byte("compression=gzip-js&data=" + url.QueryEscape(b64(gz)))}, 0},
		{"base64 inside gzip", CaptureInput{Method: "POST", Body: gzipped(t, b64([]byte(batch)))}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, err := DecodePostHog(c.in, DefaultLimits(), testNow)
			if got := statusOf(err); got != c.want {
				t.Fatalf("status %d (%v), want %d", got, err, c.want)
			}
			if c.want == 400 && !strings.Contains(err.Error(), "compressed more than once") {
				t.Errorf("message %q does not say the body is compressed more than once", err)
			}
			if c.want == 0 && (len(evs) != 1 || evs[0].Token != "phc_a") {
				t.Errorf("decoded %+v, want the one event of phc_a", evs)
			}
		})
	}
}

func deflated(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tinyEvents gzips head, n copies of event separated by commas, and tail.
func tinyEvents(t testing.TB, head, event, tail string, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write([]byte(head))
	chunk := []byte(strings.Repeat(","+event, 1000))
	zw.Write([]byte(event))
	for i := 1; i < n; i += 1000 {
		zw.Write(chunk[:min(1000, n-i)*(len(event)+1)])
	}
	zw.Write([]byte(tail))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCaptureTokenReadsOnlyAsFarAsTheToken(t *testing.T) {
	const n = 2_000_000 // about 60 MB inflated
	// A batch object without a top-level token is read to its end (the
	// token may follow the batch), so there the event cap answers first.
	cases := []struct {
		name, head, event, tail, bearer string
		want                            string
		status                          int
	}{
		{"api_key before the batch", `{"api_key":"phc_top","batch":[`, `{"event":"$exception"}`, `]}`, "", "phc_top", 0},
		{"token in each event of an array", `[`, `{"event":"$exception","properties":{"token":"phc_each"}}`, `]`, "", "phc_each", 0},
		{"Bearer token only", `[`, `{"event":"$exception"}`, `]`, "phc_bearer", "phc_bearer", 0},
		{"no token anywhere", `[`, `{"event":"$exception"}`, `]`, "", "", 401},
		{"$token in each event of a batch", `{"batch":[`, `{"event":"$exception","properties":{"$token":"phc_dollar"}}`, `]}`, "", "", 413},
		{"api_key after the batch", `{"batch":[`, `{"event":"$exception"}`, `],"api_key":"phc_late"}`, "", "", 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := tinyEvents(t, c.head, c.event, c.tail, n)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			capture, err := OpenPostHog(CaptureInput{Method: "POST", Body: body, BearerToken: c.bearer}, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			token, err := capture.Token()
			runtime.ReadMemStats(&after)
			if statusOf(err) != c.status || token != c.want {
				t.Fatalf("Token() = %q, %v; want %q with status %d", token, err, c.want, c.status)
			}
			if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 4<<20 {
				t.Errorf("reading the token of a %d-byte body allocated %d bytes", len(body), allocated)
			}
		})
	}
}

func TestCaptureTokenOfEveryShape(t *testing.T) {
	cases := map[string]struct{ body, bearer, want string }{
		"single event":                      {oneEvent, "", "phc_a"},
		"single event with api_key":         {`{"api_key":"phc_k","event":"x","properties":{"token":"phc_p"}}`, "", "phc_k"},
		"array":                             {`[` + oneEvent + `]`, "", "phc_a"},
		"batch, event token":                {`{"batch":[` + oneEvent + `]}`, "", "phc_a"},
		"batch, token after the batch":      {`{"batch":[` + oneEvent + `],"token":"phc_t"}`, "", "phc_t"},
		"batch, API_KEY in capitals":        {`{"API_KEY":"phc_c","batch":[{"event":"x"}]}`, "", "phc_c"},
		"batch: null is one event":          {`{"batch":null,"properties":{"token":"phc_n"}}`, "", "phc_n"},
		"token as a number":                 {`{"api_key":12345,"batch":[{"event":"x"}]}`, "", "12345"},
		"escaped token":                     {`[{"properties":{"token":"phc_A"}}]`, "", "phc_A"},
		"empty array":                       {`[]`, "phc_b", ""},
		"empty batch":                       {`{"batch":[]}`, "", ""},
		"bearer when events carry no token": {`{"batch":[{"event":"x"}]}`, "phc_b", "phc_b"},
	}
	for name, c := range cases {
		for _, compressed := range []bool{false, true} {
			body := []byte(c.body)
			if compressed {
				body = gzipped(t, c.body)
			}
			capture, err := OpenPostHog(CaptureInput{Method: "POST", Body: body, BearerToken: c.bearer}, DefaultLimits())
			if err != nil {
				t.Fatalf("%s: open: %v", name, err)
			}
			if token, err := capture.Token(); err != nil || token != c.want {
				t.Errorf("%s (gzip %v): Token() = %q, %v; want %q", name, compressed, token, err, c.want)
			}
			evs, err := capture.Events(testNow)
			if err != nil {
				t.Errorf("%s (gzip %v): Events: %v", name, compressed, err)
				continue
			}
			if all, _ := Tokens(evs); all != c.want {
				t.Errorf("%s (gzip %v): Tokens(Events()) = %q, Token() %q", name, compressed, all, c.want)
			}
		}
	}
}

func TestCaptureEventsCapsTheCountBeforeHoldingTheBody(t *testing.T) {
	lim := DefaultLimits()
	body := tinyEvents(t, `{"api_key":"phc_a","batch":[`, `{"event":"$exception"}`, `]}`, 2_000_000)
	capture, err := OpenPostHog(CaptureInput{Method: "POST", Body: body}, lim)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = capture.Events(testNow)
	runtime.ReadMemStats(&after)
	if statusOf(err) != 413 || !strings.Contains(err.Error(), fmt.Sprintf("more than %d events", lim.MaxEvents)) {
		t.Fatalf("2,000,000 events: %v, want 413 saying more than %d events", err, lim.MaxEvents)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 4<<20 {
		t.Errorf("refusing 2,000,000 events allocated %d bytes", allocated)
	}

	// At the cap exactly, every shape decodes; one more is refused.
	small := Limits{MaxEvents: 3}
	for name, tmpl := range map[string]string{"array": `[%s]`, "batch": `{"api_key":"phc_a","batch":[%s]}`} {
		three := fmt.Sprintf(tmpl, strings.Repeat(oneEvent+",", 2)+oneEvent)
		four := fmt.Sprintf(tmpl, strings.Repeat(oneEvent+",", 3)+oneEvent)
		for _, compressed := range []bool{false, true} {
			in := func(s string) CaptureInput {
				if compressed {
					return CaptureInput{Method: "POST", Body: gzipped(t, s)}
				}
				return CaptureInput{Method: "POST", Body: []byte(s)}
			}
			if evs, err := DecodePostHog(in(three), small, testNow); err != nil || len(evs) != 3 {
				t.Errorf("%s (gzip %v) of 3 with a cap of 3: %d events, %v", name, compressed, len(evs), err)
			}
			if _, err := DecodePostHog(in(four), small, testNow); statusOf(err) != 413 {
				t.Errorf("%s (gzip %v) of 4 with a cap of 3: %v, want 413", name, compressed, err)
			}
		}
	}
}

func TestCaptureTokenTooLong(t *testing.T) {
	long := strings.Repeat("x", maxTokenValue+1)
	body := `{"api_key":"` + long + `","batch":[` + oneEvent + `]}`
	capture, err := OpenPostHog(CaptureInput{Method: "POST", Body: []byte(body)}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if token, err := capture.Token(); statusOf(err) != 401 {
		t.Fatalf("a %d-byte api_key: Token() = %.20q, %v; want 401", len(long), token, err)
	}
}
