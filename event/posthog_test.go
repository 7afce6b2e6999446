package event

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParsePostHogToleratesJunkTypes(t *testing.T) {
	raw := `{"uuid":"u","distinct_id":42,"timestamp":"2026-01-02T03:04:05Z","properties":{
		"$exception_list":[
			"not an exception",
			null,
			{"type":"Error","value":123,"mechanism":"junk","stacktrace":{"type":"raw","frames":[
				{"filename":"a.js","function":"f","lineno":"12","colno":3.7,"in_app":"true","pre_context":"junk"},
				7,
				{"filename":"b.js","lineno":{"x":1},"in_app":1,"platform":"node:javascript","context_line":null,"post_context":["x",null,5]}
			]}},
			{"type":"Cause","value":"no stacktrace","mechanism":{"handled":"false","exception_id":"1","parent_id":0.0}},
			{"type":"Odd","stacktrace":"not an object"}
		],
		"$exception_fingerprint":["a",1,true],
		"$exception_level":"warning",
		"$issue_name":"Custom","$issue_description":"desc",
		"$app_version":"1.2.3","$os":"Mac OS X","$os_version":"14.1","$browser":"Firefox"
	}}`
	e, err := ParsePostHog(json.RawMessage(raw), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if e.DistinctID != "42" || e.Release != "1.2.3" || e.OS != "Mac OS X 14.1" || e.Browser != "Firefox" {
		t.Errorf("fields: %+v", e)
	}
	if e.Fingerprint != "a:1:true" || e.Level != "warning" || e.IssueName != "Custom" || e.IssueDescription != "desc" {
		t.Errorf("fingerprint/level/issue: %q %q %q %q", e.Fingerprint, e.Level, e.IssueName, e.IssueDescription)
	}
	if len(e.Exceptions) != 3 {
		t.Fatalf("%d exceptions, want 3: %+v", len(e.Exceptions), e.Exceptions)
	}
	x := e.Exceptions[0]
	if x.Value != "123" || x.Mechanism.Type != "" || len(x.Frames) != 2 {
		t.Fatalf("first exception: %+v", x)
	}
	f := x.Frames[0]
	if f.Lineno != 12 || f.Colno != 3 || !f.InApp || f.Platform != DefaultPlatform || f.PreContext != nil || f.RawID == "" {
		t.Errorf("first frame: %+v", f)
	}
	g := x.Frames[1]
	if g.Lineno != 0 || !g.InApp || g.Platform != "node:javascript" || strings.Join(g.PostContext, "|") != "x|5" {
		t.Errorf("second frame: %+v", g)
	}
	m := e.Exceptions[1].Mechanism
	if m.Handled == nil || *m.Handled || m.ExceptionID == nil || *m.ExceptionID != 1 || m.ParentID == nil || *m.ParentID != 0 {
		t.Errorf("mechanism: %+v", m)
	}
	if e.Exceptions[2].Type != "Odd" || e.Exceptions[2].Frames != nil {
		t.Errorf("odd stacktrace: %+v", e.Exceptions[2])
	}
}

func TestParsePostHogLegacyAndEmpty(t *testing.T) {
	received := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	legacy := `{"event":"$exception","properties":{"$exception_type":"RangeError","$exception_message":"bad index",
		"$exception_stack_trace_raw":"[{\"filename\":\"x.js\",\"function\":\"g\",\"lineno\":3,\"colno\":4,\"in_app\":true}]",
		"$release_id":"r1","$app_version":"ignored"}}`
	e, err := ParsePostHog(json.RawMessage(legacy), received)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Exceptions) != 1 || e.Exceptions[0].Type != "RangeError" || e.Exceptions[0].Value != "bad index" {
		t.Fatalf("legacy: %+v", e.Exceptions)
	}
	if fr := e.Exceptions[0].Frames; len(fr) != 1 || fr[0].Function != "g" || fr[0].Colno != 4 {
		t.Errorf("legacy frames: %+v", fr)
	}
	if e.Release != "r1" || !e.Timestamp.Equal(received) {
		t.Errorf("release %q timestamp %v", e.Release, e.Timestamp)
	}

	for _, raw := range []string{`{"event":"$exception"}`, `{"properties":{"$exception_list":[]}}`, `{"properties":"junk"}`, `{"properties":{"$exception_list":{"type":"x"}}}`} {
		e, err := ParsePostHog(json.RawMessage(raw), received)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if len(e.Exceptions) != 1 || e.Exceptions[0].Type != "Error" || e.Exceptions[0].Value != noExceptionValue {
			t.Errorf("%s: %+v", raw, e.Exceptions)
		}
		if Fingerprint(e) == "" {
			t.Errorf("%s: no fingerprint", raw)
		}
	}

	for _, raw := range []string{`[]`, `"x"`, `null`, `{`, ``} {
		if _, err := ParsePostHog(json.RawMessage(raw), received); statusOf(err) != 400 {
			t.Errorf("%q: %v, want a 400 *Error", raw, err)
		}
	}
}

func TestParsePostHogPropertiesDropExceptionList(t *testing.T) {
	e, err := ParsePostHog(json.RawMessage(`{"properties":{"a":1,"b":"<x>","$exception_list":[{"type":"E"}]}}`), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Properties) != `{"a":1,"b":"<x>"}` {
		t.Errorf("properties: %s", e.Properties)
	}
}

func TestNormalizeAndFrameRawID(t *testing.T) {
	f := Frame{Filename: "https://x/app.js", Function: "?", Lineno: 1, Colno: 2, InApp: true}
	e := Event{Exceptions: []Exception{{Frames: []Frame{f, {Function: "", Platform: "python", Filename: "m.py"}}}}}
	e.Normalize()
	got := e.Exceptions[0].Frames
	if got[0].Platform != DefaultPlatform || got[0].Function != "?" || got[1].Function != "" || got[1].Platform != "python" {
		t.Errorf("normalised frames: %+v", got)
	}
	if len(got[0].RawID) != 16 || got[0].RawID != FrameRawID(f) {
		t.Errorf("raw id %q vs %q", got[0].RawID, FrameRawID(f))
	}
	// Context, in_app and symbolication results do not change a frame's identity.
	same := f
	same.ContextLine, same.InApp, same.Resolution = "code", false, &Resolution{Resolved: true}
	if FrameRawID(same) != FrameRawID(f) {
		t.Error("raw id depends on context or resolution")
	}
	for _, change := range []func(*Frame){
		func(f *Frame) { f.Platform = "node:javascript" },
		func(f *Frame) { f.Filename = "https://x/other.js" },
		func(f *Frame) { f.AbsPath = "/srv/app.js" },
		func(f *Frame) { f.Function = "g" },
		func(f *Frame) { f.Module = "m" },
		func(f *Frame) { f.Lineno = 2 },
		func(f *Frame) { f.Colno = 3 },
		func(f *Frame) { f.ChunkID = "c" },
		func(f *Frame) { f.DebugID = "d" },
		// Length-prefixed parts: moving text between fields is a change.
		func(f *Frame) { f.Filename, f.Function = "https://x/app.js?", "" },
	} {
		other := f
		change(&other)
		if FrameRawID(other) == FrameRawID(f) {
			t.Errorf("raw id ignores a change: %+v", other)
		}
	}
}
