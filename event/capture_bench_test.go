package event

import (
	"bytes"
	"testing"
	"time"
)

// BenchmarkCaptureBatch decodes a /batch/ body of 50 of posthog-js's
// recorded exception events (the full-config case) as the capture handler
// and the no-op baseline do: OpenPostHog, Token, Events, Tokens.
func BenchmarkCaptureBatch(b *testing.B) {
	events := recordedExceptionEvents(b)
	var body bytes.Buffer
	body.WriteString(`{"api_key":"phc_bench","batch":[`)
	for i := range 50 {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(events[i%len(events)])
	}
	body.WriteString(`]}`)
	in := CaptureInput{Method: "POST", ContentType: "application/json", Body: body.Bytes()}
	b.SetBytes(int64(body.Len()))
	for b.Loop() {
		c, err := OpenPostHog(in, DefaultLimits())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Token(); err != nil {
			b.Fatal(err)
		}
		raws, err := c.Events(time.Now())
		if err != nil || len(raws) != 50 {
			b.Fatal(len(raws), err)
		}
		if _, err := Tokens(raws); err != nil {
			b.Fatal(err)
		}
	}
}
