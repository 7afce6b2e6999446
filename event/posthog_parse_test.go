package event

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// parseEdgeCases are event objects whose heads, properties or exception
// lists a scan could read differently from encoding/json: repeated,
// escaped, long, non-ASCII or differently cased keys, nulls, values of the
// wrong kind, numbers in strings, invalid JSON.
var parseEdgeCases = []string{
	`{"uuid":"a","properties":{"\u0024lib":"web","$exception_list":[{"type":"E","value":"v"}]}}`,
	`{"uuid":"b","properties":{"$lib":"one","$lib":"two","$os":"Linux","$os_version":12,"$exception_type":"T"}}`,
	`{"uuid":"c","properties":"not an object"}`,
	`{"uuid":"d","properties":null,"distinct_id":"x"}`,
	`{"uuid":"e","Properties":{"$current_url":"https://x.test/","$exception_message":"m"}}`,
	`{"uuid":"f","properties":{"` + strings.Repeat("k", 80) + `":1,"$environment":"prod","$exception_list":[]}}`,
	`{"uuid":"g","properties":{"$exception_fingerprint":["a","b"],"$exception_list":[{"type":"E","stacktrace":{"frames":[{"filename":"a.js","lineno":"3"}]}}]}}`,
	`{"UUID":"h","uuid":null,"Distinct_ID":7,"properties":{"$lib":"x"},"properties":{"$os":"y"}}`,
	`{"uuid":"i","properties":{"$exception_list":[{"type":"A"},{"type":"B","type":null},5,null,` +
		`{"typ\u0065":" C ","value":1.5e3,"mechanism":{"handled":"no","synthetic":1,"exception_id":"4","parent_id":2.9},` +
		`"stacktrace":{"type":"raw","frames":[{"lineno":"1e2","colno":-3,"in_app":"yes","pre_context":["a",1,null,{},true]},7,` +
		`{"Lineno":5,"lineno":1e400,"in_app":1e400,"platform":" node ","context_line":"\ud83d\ude00 \u00e9"}]}}]}}`,
	`{"uuid":"j","properties":{"$exception_list":[{"mechanism":{"handled":true,"handled":"maybe"},"mechanism":5,"stacktrace":[]}]}}`,
	`{"uuid":"k","properties":{"$exception_list":{"type":"not a list"},"$exception_type":"Legacy","$exception_stack_trace_raw":"[{\"filename\":\"l.js\"}]"}}`,
	`{"uuid":"l","timestamp":"2026-01-02T03:04:05Z","timestamp":null,"properties":{"$exception_list":[{"value":"\xff\xfe"}]}}`,
	`{"uu\u0069d":"m","properties":{}}`,
	`{"uuıd":"n","properties":{}}`,
	`{"diſtinct_id":"o","properties":{}}`,
	`{"uuid":"p","properties":{"$lib":"x"}} trailing`,
	`{"uuid":"q",}`,
	`[{"uuid":"r"}]`,
	" \t{\"uuid\":\"s\",\"properties\":{\"$exception_list\":[{\"type\":\"E\",\"stacktrace\":{\"frames\":[{\"lineno\":1}]}}]}}\n",
	`{"uuid":"t","properties":{"$exception_list":[{"stacktrace":{"frames":[{"function":"f","function":"g","chunk_id":"c","debug_id":{"x":1}}]}}]}}`,
	`{"uuid":"u","properties":{"$exception_list":[{"stacktrace":{"frames":[{"` + strings.Repeat("l", 70) + `":1,"lineno":"  12  ","colno":"1.9"}]}}]}}`,
	`{"uuid":"v","properties":{"$exception_list":[{"value":"a\nb","value":"tab\there"}]},"properties":{"$exception_list":[{"type":"Last"}]}}`,
}

// FuzzParsePostHog: the pipeline's parse of an event object, which scans it
// itself, reads every input as encoding/json and generic decoding do
// (referenceParsePostHog), with and without properties, and refuses the
// same inputs.
func FuzzParsePostHog(f *testing.F) {
	for _, raw := range parseEdgeCases {
		f.Add([]byte(raw))
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
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, withProperties := range []bool{true, false} {
			got, err := parsePostHog(raw, now, withProperties)
			want, wantErr := referenceParsePostHog(raw, now, withProperties)
			if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
				t.Fatalf("with properties %v: error %v, want %v\n%q", withProperties, err, wantErr, raw)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("with properties %v:\n got %+v\nwant %+v\n%q", withProperties, got, want, raw)
			}
		}
	})
}

// TestParseWithoutPropertiesReadsWhatParsePostHogReads: picking properties
// by key reads escaped keys, duplicates and odd property values the way
// decoding them all does.
func TestParseWithoutPropertiesReadsWhatParsePostHogReads(t *testing.T) {
	for _, raw := range parseEdgeCases {
		full, err := ParsePostHog(json.RawMessage(raw), time.Time{})
		lean, leanErr := ParsePostHogWithoutProperties(json.RawMessage(raw), time.Time{})
		if (err == nil) != (leanErr == nil) {
			t.Fatalf("%s: error %v with properties, %v without", raw, err, leanErr)
		}
		if err != nil {
			continue
		}
		if lean.Properties != nil {
			t.Errorf("%s: properties %s", raw, lean.Properties)
		}
		lean.Properties = full.Properties
		if !reflect.DeepEqual(lean, full) {
			t.Errorf("%s:\nwithout properties %+v\nwith %+v", raw, lean, full)
		}
	}
}

// TestParsePostHogReadsOddExceptionLists pins what a few odd exception
// lists become, so the forgiving reading is a rule and not an accident of
// either parse.
func TestParsePostHogReadsOddExceptionLists(t *testing.T) {
	ev, err := ParsePostHogWithoutProperties(json.RawMessage(parseEdgeCases[8]), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Exceptions) != 3 {
		t.Fatalf("%d exceptions, want the 3 objects of the list: %+v", len(ev.Exceptions), ev.Exceptions)
	}
	if ev.Exceptions[1].Type != "" {
		t.Errorf("a type given twice, last as null, reads %q", ev.Exceptions[1].Type)
	}
	x := ev.Exceptions[2]
	if x.Type != "C" || x.Value != "1.5e3" {
		t.Errorf("escaped key and numeric value: type %q, value %q", x.Type, x.Value)
	}
	if x.Mechanism.Handled == nil || *x.Mechanism.Handled || !x.Mechanism.Synthetic ||
		x.Mechanism.ExceptionID == nil || *x.Mechanism.ExceptionID != 4 || x.Mechanism.ParentID == nil || *x.Mechanism.ParentID != 2 {
		t.Errorf("mechanism %+v", x.Mechanism)
	}
	if len(x.Frames) != 2 {
		t.Fatalf("frames %+v, want the 2 objects", x.Frames)
	}
	if f := x.Frames[0]; f.Lineno != 100 || f.Colno != -3 || !f.InApp || !reflect.DeepEqual(f.PreContext, []string{"a", "1", "true"}) {
		t.Errorf("first frame %+v", f)
	}
	// 1e400 is out of range as an integer and as a float: no line.
	if f := x.Frames[1]; f.Lineno != 0 || !f.InApp || f.Platform != "node" || f.ContextLine != "😀 é" {
		t.Errorf("second frame %+v", f)
	}
}
