package event

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func minifiedFrames(col int) []Frame {
	return []Frame{
		{Platform: DefaultPlatform, Filename: "https://x/app.js", Function: "Ag", Lineno: 5, Colno: col, InApp: true},
		{Platform: DefaultPlatform, Filename: "https://x/app.js", Function: "Og", Lineno: 5, Colno: col + 100, InApp: true},
	}
}

func resolve(frames []Frame, names ...string) []Frame {
	out := make([]Frame, len(frames))
	for i, f := range frames {
		f.Resolution = &Resolution{Resolved: true, Name: names[i], Source: "src/app.js", Line: 10 + i, InApp: true}
		out[i] = f
	}
	return out
}

func eventWith(typ, value string, frames []Frame) Event {
	return Event{Exceptions: []Exception{{Type: typ, Value: value, Frames: frames}}}
}

func TestFingerprintSameErrorTwice(t *testing.T) {
	raw := `{"properties":{"$exception_list":[{"type":"Error","value":"boom","stacktrace":{"type":"raw","frames":[
		{"filename":"https://x/app.js","function":"Og","lineno":5,"colno":38322,"in_app":true}]}}]}}`
	a, _ := ParsePostHog(json.RawMessage(raw), time.Now())
	b, _ := ParsePostHog(json.RawMessage(strings.Replace(raw, `"properties"`, `"uuid":"other","properties"`, 1)), time.Now())
	fa := Fingerprint(a)
	if len(fa) != 64 || fa != Fingerprint(b) {
		t.Errorf("same error twice: %q vs %q", fa, Fingerprint(b))
	}
}

func TestFingerprintResolvedFramesIgnoreValueAndColumns(t *testing.T) {
	a := eventWith("PaymentDeclinedError", "order ord_42", resolve(minifiedFrames(100), "level1", "level2"))
	b := eventWith("PaymentDeclinedError", "order ord_43", resolve(minifiedFrames(900), "level1", "level2"))
	if Fingerprint(a) != Fingerprint(b) {
		t.Error("different values with the same resolved frames grouped apart")
	}
	c := eventWith("PaymentDeclinedError", "order ord_42", resolve(minifiedFrames(100), "level1", "other"))
	if Fingerprint(a) == Fingerprint(c) {
		t.Error("different resolved functions grouped together")
	}
	d := eventWith("TypeError", "order ord_42", resolve(minifiedFrames(100), "level1", "level2"))
	if Fingerprint(a) == Fingerprint(d) {
		t.Error("different types grouped together")
	}
}

func TestFingerprintUnresolvedFramesUseValueAndPosition(t *testing.T) {
	a := eventWith("Error", "boom", minifiedFrames(100))
	if Fingerprint(a) == Fingerprint(eventWith("Error", "bang", minifiedFrames(100))) {
		t.Error("unresolved: value ignored")
	}
	if Fingerprint(a) == Fingerprint(eventWith("Error", "boom", minifiedFrames(101))) {
		t.Error("unresolved: column ignored")
	}
	noPlatform := eventWith("Error", "boom", minifiedFrames(100))
	for i := range noPlatform.Exceptions[0].Frames {
		noPlatform.Exceptions[0].Frames[i].Platform = ""
	}
	if Fingerprint(a) != Fingerprint(noPlatform) {
		t.Error("a frame without platform fingerprints unlike a normalised one")
	}
}

func TestFingerprintNoFramesValueDecides(t *testing.T) {
	a, b := eventWith("Error", "one", nil), eventWith("Error", "two", nil)
	if Fingerprint(a) == Fingerprint(b) {
		t.Error("no frames: different values grouped together")
	}
	if Fingerprint(a) != Fingerprint(eventWith("Error", "one", nil)) {
		t.Error("no frames: same value grouped apart")
	}
}

func TestFingerprintFrameSelection(t *testing.T) {
	// No in-app frame: only the first frame counts.
	lib := []Frame{
		{Platform: "node:javascript", Filename: "node:internal/a", Function: "run", Lineno: 1},
		{Platform: "node:javascript", Filename: "node:internal/b", Function: "load", Lineno: 2},
	}
	other := append([]Frame{lib[0]}, Frame{Platform: "node:javascript", Filename: "node:internal/c", Function: "x", Lineno: 9})
	if Fingerprint(eventWith("Error", "v", lib)) != Fingerprint(eventWith("Error", "v", other)) {
		t.Error("no in-app frame: frames after the first changed the fingerprint")
	}
	// In-app frames present: library frames do not count.
	app := minifiedFrames(100)
	withLib := append(append([]Frame{}, lib...), app...)
	if Fingerprint(eventWith("Error", "v", app)) != Fingerprint(eventWith("Error", "v", withLib)) {
		t.Error("library frames changed the fingerprint of an event with in-app frames")
	}
	// Some in-app frames resolved: only those count, so an unresolved one may differ.
	mixed := resolve(minifiedFrames(100), "level1", "level2")
	mixed[1].Resolution = &Resolution{Resolved: false, FailureCode: "missing"}
	mixed2 := append([]Frame{}, mixed...)
	mixed2[1].Colno = 777
	if Fingerprint(eventWith("E", "v", mixed)) != Fingerprint(eventWith("E", "v", mixed2)) {
		t.Error("an unresolved frame counted while another in-app frame is resolved")
	}
	// Symbolication's in-app verdict wins over the client's.
	notApp := resolve(minifiedFrames(100), "level1", "vendorFn")
	notApp[1].Resolution.InApp = false
	notApp2 := resolve(minifiedFrames(100), "level1", "otherVendorFn")
	notApp2[1].Resolution.InApp = false
	if Fingerprint(eventWith("E", "v", notApp)) != Fingerprint(eventWith("E", "v", notApp2)) {
		t.Error("a frame resolved as not in-app counted")
	}
}

func TestFingerprintChainOrderAndClientOverride(t *testing.T) {
	a := Event{Exceptions: []Exception{{Type: "A", Value: "1"}, {Type: "B", Value: "2"}}}
	b := Event{Exceptions: []Exception{{Type: "B", Value: "2"}, {Type: "A", Value: "1"}}}
	if Fingerprint(a) == Fingerprint(b) {
		t.Error("exception order ignored")
	}
	a.Fingerprint, b.Fingerprint = "checkout-failures", "checkout-failures"
	if Fingerprint(a) != Fingerprint(b) {
		t.Error("client fingerprint did not win")
	}
	long := Event{Fingerprint: strings.Repeat("x", 100000)}
	if len(Fingerprint(long)) != 64 {
		t.Error("client fingerprint not hashed")
	}
	if Fingerprint(Event{Fingerprint: "A"}) == Fingerprint(Event{Exceptions: []Exception{{Type: "A"}}}) {
		t.Error("a client fingerprint collides with a computed one")
	}
}
