package event

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzScanEventHead: what the capture decoder reads of each event by
// scanning it is what json.Unmarshal into eventHead reads, whenever the scan
// takes the event (and it takes every event of the recorded requests).
func FuzzScanEventHead(f *testing.F) {
	for _, s := range []string{
		`{"event":"$exception","uuid":"u","timestamp":"2026-01-02T03:04:05Z","properties":{"token":"phc_a","$token":"b"}}`,
		`{"Event":"x","EVENT":null,"api_key":7,"Token":true,"sent_at":"s","offset":12,"offset":null}`,
		`{"properties":{"token":"a"},"properties":{"$TOKEN":"b"},"properties":null,"properties":"str","properties":[1]}`,
		`{"uuid":{"a":1},"uuid":"kept","timestamp":[1],"` + strings.Repeat("x", 70) + `":1}`,
		`{"\u0065vent":"escaped"}`, `{"evént":"accent"}`, `{"properties":{"tok\u0065n":"t"}}`,
		`{"uuid":"a"} x`, `{"uuid":"a",}`, `[1]`, ` {"offset":-3.5e2} `,
	} {
		f.Add([]byte(s))
	}
	for _, r := range captureRequests(f) {
		raws, err := DecodePostHog(r.captureInput(f), DefaultLimits(), time.Unix(1700000000, 0))
		if err != nil {
			f.Fatal(err)
		}
		for _, ev := range raws {
			f.Add([]byte(ev.JSON))
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, ok := scanEventHead(raw)
		if !ok {
			return
		}
		var want eventHead
		if err := json.Unmarshal(raw, &want); err != nil && !isTypeError(err) {
			t.Fatalf("the scan took %q, which json.Unmarshal refuses: %v", raw, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("scanned %+v, json.Unmarshal reads %+v from %q", got, want, raw)
		}
	})
}

// TestScanEventHeadTakesRecordedEvents: the scan reads every event the
// SDKs sent; json.Unmarshal is left to keys spelt in ways they do not use.
func TestScanEventHeadTakesRecordedEvents(t *testing.T) {
	for name, r := range captureRequests(t) {
		raws, err := DecodePostHog(r.captureInput(t), DefaultLimits(), time.Unix(1700000000, 0))
		if err != nil {
			t.Fatal(err)
		}
		for i, ev := range raws {
			if _, ok := scanEventHead(ev.JSON); !ok {
				t.Errorf("%s event %d: not scanned: %s", name, i, ev.JSON)
			}
		}
	}
	for _, raw := range []string{`{"\u0065vent":"x"}`, `{"evént":"x"}`, `{"a":1`} {
		if _, ok := scanEventHead([]byte(raw)); ok {
			t.Errorf("%s: scanned, want it left to json.Unmarshal", raw)
		}
	}
}
