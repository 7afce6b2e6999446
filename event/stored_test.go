package event

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestStoredPostHogEventReadsItsPropertiesFromTheRawEvent: the stored form
// of a PostHog event leaves its properties to the event as sent, and reads
// back as ParsePostHog reads the raw event.
func TestStoredPostHogEventReadsItsPropertiesFromTheRawEvent(t *testing.T) {
	raw := json.RawMessage(`{"uuid":"u1","properties":{"plan":"pro","$current_url":"https://shop.test/?a=1&b=<2>",` +
		`"$exception_list":[{"type":"TypeError","value":"x","stacktrace":{"frames":[{"filename":"app.js","lineno":1,"colno":2}]}}]}}`)
	full, err := ParsePostHog(raw, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	lean, err := ParsePostHogWithoutProperties(raw, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if lean.Properties != nil || lean.URL != full.URL || lean.Exceptions[0].Type != "TypeError" {
		t.Errorf("parsed without properties: %+v", lean)
	}
	data, err := EncodeStored(lean, true)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), `"plan"`) {
		t.Errorf("stored form repeats the properties: %s", data)
	}
	got, err := DecodeStored(data, raw)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Properties) != string(full.Properties) || got.URL != full.URL || got.Exceptions[0].Frames[0].RawID != full.Exceptions[0].Frames[0].RawID {
		t.Errorf("read back %s / %+v, want %s / %+v", got.Properties, got, full.Properties, full)
	}

	// A Sentry event, and events stored as plain Event JSON before, keep
	// their properties in the stored form.
	plain, _ := json.Marshal(full)
	for _, data := range [][]byte{plain, must(EncodeStored(full, false))} {
		got, err := DecodeStored(data, []byte(`{"properties":{"plan":"other"}}`))
		if err != nil || !sameJSON(got.Properties, full.Properties) {
			t.Errorf("%s: properties %s (%v)", data, got.Properties, err)
		}
	}
	if _, err := DecodeStored([]byte(`{"properties_in_raw":true}`), []byte(`not json`)); err == nil {
		t.Error("properties of a raw event that is not JSON read without an error")
	}
}

func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// BenchmarkParsePostHog parses posthog-js's recorded exception events (the
// full-config case) as the pages do (with properties) and as the pipeline
// does (without).
func BenchmarkParsePostHog(b *testing.B) {
	events := recordedExceptionEvents(b)
	for _, c := range []struct {
		name  string
		parse func(json.RawMessage, time.Time) (Event, error)
	}{{"with-properties", ParsePostHog}, {"without-properties", ParsePostHogWithoutProperties}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := c.parse(events[i%len(events)], time.Time{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// recordedExceptionEvents are the $exception events of posthog-js's
// recorded full-config requests, as capture decoded them.
func recordedExceptionEvents(b *testing.B) [][]byte {
	b.Helper()
	var events [][]byte
	for name, r := range captureRequests(b) {
		if !strings.HasPrefix(name, "posthog-js/full-config") {
			continue
		}
		raws, err := DecodePostHog(r.captureInput(b), DefaultLimits(), time.Now())
		if err != nil {
			b.Fatal(err)
		}
		for _, ev := range raws {
			if ev.Name == "$exception" {
				events = append(events, ev.JSON)
			}
		}
	}
	if len(events) == 0 {
		b.Fatal("no recorded exception events")
	}
	return events
}
