package event

import "testing"

// pinnedEvents are events whose fingerprints and frame raw ids are pinned
// below: both are stored (issue_fingerprints, frame_resolutions,
// event_frames), so the way they are computed must never change.
func pinnedEvents() []Event {
	yes := true
	return []Event{
		{Exceptions: []Exception{{Type: "TypeError", Value: "x is undefined", Frames: []Frame{
			{Platform: "web:javascript", Filename: "https://app.test/static/app.min.js", Function: "a", Lineno: 1, Colno: 12345, InApp: true, ChunkID: "c1"},
			{Filename: "app.js", AbsPath: "/srv/app.js", Function: "handleClick", Module: "m", Lineno: 120, Colno: 7, InApp: true, DebugID: "d-1"},
		}}, {Type: "Error", Value: "cause", Mechanism: Mechanism{Handled: &yes}}}},
		{Exceptions: []Exception{{Type: "E", Value: "v", Frames: []Frame{
			{Filename: "a.js", Lineno: -3, Colno: 0, InApp: true, Resolution: &Resolution{Resolved: true, Name: "orig", Source: "src/a.ts", InApp: true}},
			{Filename: "vendor.js", Lineno: 99, Colno: 100},
		}}}},
		{Fingerprint: "custom:group"},
		{FingerprintParts: []string{"{{ default }}", "tenant-7"}, Exceptions: []Exception{{Type: "E"}}},
		{Exceptions: []Exception{{Type: "Ünïcode", Value: "ß 😀", Frames: []Frame{{Filename: "x.js", Function: "ƒ", Lineno: 1 << 31, Colno: 2}}}}},
	}
}

// TestFingerprintsAndRawIDsAreStable pins Fingerprint and FrameRawID
// for a few events (as computed when they were first written).
func TestFingerprintsAndRawIDsAreStable(t *testing.T) {
	want := []struct {
		fingerprint string
		rawIDs      []string
	}{
		{"382aff092a8857a5f56f0bd96640ce7af06161a0d14345c14f7f3520fa92b855", []string{"1fd9a2719675f5c5", "01ce3a98e9bf1c93"}},
		{"55e5f7508f44a32c729e0ab59bcd709d19e6dc7e858ccabdeaf5592323eb4be7", []string{"27bc0a51c6d5d31a", "bf09f08cffd8931c"}},
		{"265523f6b18661e6308e9353f350bb673bde460a9266caa293b1f867715dfd78", nil},
		{"a2fbfdec56f50cbf94f1a34f2d08ffe5037ba543ee482944287f492abcf7e440", nil},
		{"6eb42756eb51431fa5d7a48f3dfc95c89e072b08e28ac19a7f96f8dffa4ffbac", []string{"820806ba415f5bdc"}},
	}
	for i, e := range pinnedEvents() {
		if got := Fingerprint(e); got != want[i].fingerprint {
			t.Errorf("event %d: fingerprint %s, want %s", i, got, want[i].fingerprint)
		}
		var n int
		for _, x := range e.Exceptions {
			for _, f := range x.Frames {
				if got := FrameRawID(f); got != want[i].rawIDs[n] {
					t.Errorf("event %d frame %d: raw id %s, want %s", i, n, got, want[i].rawIDs[n])
				}
				n++
			}
		}
	}
}
