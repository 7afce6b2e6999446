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
