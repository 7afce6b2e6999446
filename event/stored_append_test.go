package event

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// withResolutions gives every frame an answer made from its own fields, so
// the stored form of resolutions is compared too.
func withResolutions(ev *Event) {
	for i := range ev.Exceptions {
		for j := range ev.Exceptions[i].Frames {
			f := &ev.Exceptions[i].Frames[j]
			f.Resolution = &Resolution{Resolved: f.Lineno%2 == 0, Name: f.Function, Source: f.Filename + "\u2028<src>",
				SourceIndex: f.Colno % 3, Line: f.Lineno, Column: f.Colno, InApp: f.InApp, FailureCode: f.Module,
				SymbolSetRef: f.AbsPath, SymbolSetID: int64(f.Lineno) * 1000}
		}
	}
}

// FuzzAppendStored: the stored form the pipeline writes itself is what
// encoding/json writes, byte for byte, for every event it takes, and it
// takes the PostHog events the pipeline stores.
func FuzzAppendStored(f *testing.F) {
	for _, raw := range parseEdgeCases {
		f.Add([]byte(raw), false)
	}
	for _, r := range captureRequests(f) {
		raws, err := DecodePostHog(r.captureInput(f), DefaultLimits(), time.Unix(1700000000, 0))
		if err != nil {
			f.Fatal(err)
		}
		for _, ev := range raws {
			f.Add([]byte(ev.JSON), true)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte, resolve bool) {
		ev, err := ParsePostHogWithoutProperties(raw, time.Unix(1700000000, 0))
		if err != nil {
			return
		}
		if resolve {
			withResolutions(&ev)
		}
		for _, inRaw := range []bool{true, false} {
			got, ok := appendStored(nil, &ev, inRaw)
			if !ok {
				t.Fatalf("a parsed PostHog event is left to encoding/json: %+v", ev)
			}
			want, err := encodeStoredJSON(ev, inRaw)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("stored form\n got %s\nwant %s", got, want)
			}
		}
	})
}

// TestAppendStoredWritesWhatEncodingJSONWrites covers every field the fast
// encoding writes, set and unset, and the events it leaves to encoding/json.
func TestAppendStoredWritesWhatEncodingJSONWrites(t *testing.T) {
	yes, no, id, parent := true, false, 3, -1
	full := Event{UUID: "u\x00\x1f\"\\\b\f\n\r\t", DistinctID: "d\xff\xfe", Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC),
		Fingerprint: "fp", FingerprintParts: []string{"{{ default }}", "<&>"}, Level: "error", IssueName: "n", IssueDescription: "d",
		URL: "https://x.test/?a=1&b=<2>", Lib: "l", LibVersion: "1", Release: "r", SessionID: "s", Browser: "b", OS: "o",
		Environment: "e", Platform: "p", ServerName: "sn", Transaction: "t", Dist: "di",
		Exceptions: []Exception{
			{Type: "T", Value: "v\u2029", Mechanism: Mechanism{Type: "m", Handled: &no, Synthetic: true, Source: "src", ExceptionID: &id, ParentID: &parent},
				StacktraceType: "raw", Frames: []Frame{{RawID: "r", Platform: "web:javascript", Filename: "f", AbsPath: "a", Function: "fn",
					Module: "mod", Lineno: -7, Colno: 1 << 40, InApp: true, ChunkID: "c", DebugID: "dbg", ContextLine: "cl",
					PreContext: []string{"a", ""}, PostContext: []string{"😀"}, Resolution: &Resolution{}}, {}}},
			{Mechanism: Mechanism{Handled: &yes}},
			{Frames: []Frame{}},
		}}
	events := []Event{full, {}, {Exceptions: []Exception{}}, {UUID: "x", Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600))}}
	for i, ev := range events {
		withResolutions(&events[i])
		for _, e := range []Event{ev, events[i]} {
			for _, inRaw := range []bool{true, false} {
				got, ok := appendStored(nil, &e, inRaw)
				want, err := encodeStoredJSON(e, inRaw)
				if !ok || err != nil || !bytes.Equal(got, want) {
					t.Errorf("event %d (ok %v, %v):\n got %s\nwant %s", i, ok, err, got, want)
				}
			}
		}
	}
	for _, ev := range []Event{
		{Tags: map[string]string{"a": "b"}}, {User: map[string]any{"id": 1}}, {Contexts: map[string]json.RawMessage{"os": []byte(`{}`)}},
		{Breadcrumbs: []Breadcrumb{{Message: "m"}}}, {SDK: &SDK{Name: "s"}}, {Properties: json.RawMessage(`{"a":1}`)},
		{Timestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if _, ok := appendStored(nil, &ev, false); ok {
			t.Errorf("%+v: written by the fast encoding, want it left to encoding/json", ev)
		}
		got, err1 := EncodeStored(ev, false)
		want, err2 := encodeStoredJSON(ev, false)
		if !bytes.Equal(got, want) || (err1 == nil) != (err2 == nil) {
			t.Errorf("%+v: EncodeStored %s (%v), encoding/json %s (%v)", ev, got, err1, want, err2)
		}
	}
}
