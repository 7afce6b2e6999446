package event

import (
	"encoding/base64"
	"net/url"
	"testing"
	"time"
)

// FuzzDecodePostHog feeds arbitrary bodies through the whole decode path;
// it must never panic, and whatever it accepts must parse and fingerprint.
func FuzzDecodePostHog(f *testing.F) {
	for _, r := range captureRequests(f) {
		body, _ := base64.StdEncoding.DecodeString(r.RawBodyBase64)
		f.Add(body, r.Headers["content-type"], r.Headers["content-encoding"], "")
	}
	for _, v := range loadLZVectors(f) {
		f.Add([]byte("data="+url.QueryEscape(v.Base64)), "application/x-www-form-urlencoded", "", "lz64")
	}
	f.Add([]byte(oneEvent), "application/json", "", "")
	f.Add([]byte(`[`+oneEvent+`]`), "", "", "")
	f.Add([]byte(`{"batch":[{"offset":"12","properties":{"$exception_list":[{"frames":1}]}}]}`), "", "", "base64")
	f.Add([]byte("data=eyJldmVudCI6IngifQ=="), "application/x-www-form-urlencoded", "", "")
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}, "", "gzip", "gzip-js")

	lim := Limits{MaxDecompressed: 1 << 20, MaxEvent: 256 << 10}
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, body []byte, contentType, contentEncoding, compression string) {
		in := CaptureInput{Method: "POST", ContentType: contentType, ContentEncoding: contentEncoding,
			Query: url.Values{"compression": {compression}}, Body: body}
		evs, err := DecodePostHog(in, lim, now)
		if err != nil {
			if statusOf(err) == 0 {
				t.Fatalf("error is not an *Error: %v", err)
			}
			return
		}
		_, _ = Tokens(evs)
		for _, ev := range evs {
			e, err := ParsePostHog(ev.JSON, now)
			if err != nil {
				t.Fatalf("decoded event does not parse: %v\n%s", err, ev.JSON)
			}
			if len(e.Exceptions) == 0 || len(Fingerprint(e)) != 64 {
				t.Fatalf("parsed event without exceptions or fingerprint: %+v", e)
			}
		}
	})
}

func BenchmarkDecodePostHog(b *testing.B) {
	var in CaptureInput
	for name, r := range captureRequests(b) {
		if name == "posthog-node/manual.json#0" {
			in = r.captureInput(b)
		}
	}
	if in.Body == nil {
		b.Fatal("posthog-node/manual.json fixture not found")
	}
	b.SetBytes(int64(len(in.Body)))
	b.ReportAllocs()
	now := time.Now()
	for b.Loop() {
		evs, err := DecodePostHog(in, DefaultLimits(), now)
		if err != nil {
			b.Fatal(err)
		}
		for _, ev := range evs {
			e, err := ParsePostHog(ev.JSON, now)
			if err != nil {
				b.Fatal(err)
			}
			_ = Fingerprint(e)
		}
	}
}
