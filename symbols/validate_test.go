package symbols

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/internal/testkit"
)

func uploadFixture(t *testing.T, build, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testkit.Fixtures(t), "bundles", build, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// manualCaptureFrames are the frames posthog-js sent for the manual capture of
// the posthog-browser fixture bundle.
func manualCaptureFrames() []event.Frame {
	var out []event.Frame
	for _, f := range []struct {
		fn  string
		col int
	}{{"HTMLButtonElement.Ag", 38843}, {"Yo", 38393}, {"Ig", 38365}, {"Og", 38322}} {
		out = append(out, event.Frame{Platform: "web:javascript", Function: f.fn, Filename: "http://127.0.0.1:8790/app.js", Lineno: 5, Colno: f.col, InApp: true})
	}
	return out
}

func TestValidateUploadMatchCheck(t *testing.T) {
	right := uploadFixture(t, "posthog-browser", "app.js.map")
	rightJS := uploadFixture(t, "posthog-browser", "app.js")
	other := uploadFixture(t, "sentry-browser", "app.js.map")
	otherJS := uploadFixture(t, "sentry-browser", "app.js")

	got, err := ValidateUpload(right, nil, manualCaptureFrames(), 0)
	if err != nil || got.Mismatch() || got.Frames != 4 {
		t.Fatalf("the build's own map: %+v, %v; want 4 frames, all matched", got, err)
	}
	if got, err = ValidateUpload(right, rightJS, manualCaptureFrames(), 0); err != nil || got.Mismatch() {
		t.Fatalf("the build's own map and minified file: %+v, %v", got, err)
	}

	got, err = ValidateUpload(other, nil, manualCaptureFrames(), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := "4 of 4 frames map to nothing in this map: it is probably from another build."
	if got.MismatchSentence() != want {
		t.Fatalf("another build's map: %q, want %q", got.MismatchSentence(), want)
	}
	if len(got.Examples) != 3 || !strings.Contains(got.Examples[0], "app.js:5:38843") {
		t.Fatalf("examples: %q", got.Examples)
	}
	// The right map with another build's minified file: the positions lie beyond its lines.
	if got, _ = ValidateUpload(right, otherJS, manualCaptureFrames(), 0); got.Unmatched != 4 {
		t.Fatalf("right map, wrong minified file: %d unmatched, want 4", got.Unmatched)
	}
	// No frames use the set yet: nothing to check, nothing refused.
	if got, err = ValidateUpload(other, nil, nil, 0); err != nil || got.Mismatch() || got.MismatchSentence() != "" {
		t.Fatalf("no frames: %+v, %v", got, err)
	}
}

func TestValidateUploadRefusals(t *testing.T) {
	right := uploadFixture(t, "posthog-browser", "app.js.map")
	js := uploadFixture(t, "posthog-browser", "app.js")
	cases := []struct {
		name          string
		sourceMap, js []byte
		max           int64
		says          string
	}{
		{"empty", nil, nil, 0, "empty"},
		{"garbage", []byte("this is not json at all"), nil, 0, "not a usable source map"},
		{"version 2", []byte(`{"version":2,"sources":[],"names":[],"mappings":""}`), nil, 0, "not a usable source map"},
		{"bad mappings", []byte(`{"version":3,"sources":["a.js"],"names":[],"mappings":"!!!"}`), nil, 0, "not a usable source map"},
		{"too large", right, nil, 1000, "the limit is"},
		{"swapped", js, right, 0, "swapped"},
		{"map as minified", right, right, 0, "minified file is a source map"},
	}
	for _, tc := range cases {
		_, err := ValidateUpload(tc.sourceMap, tc.js, manualCaptureFrames(), tc.max)
		var p *UploadProblem
		if !errors.As(err, &p) || !strings.Contains(p.Message, tc.says) {
			t.Errorf("%s: err = %v, want an UploadProblem saying %q", tc.name, err, tc.says)
		}
	}
}

func TestPairUploads(t *testing.T) {
	mapJSON := uploadFixture(t, "posthog-browser", "app.js.map")
	js := uploadFixture(t, "posthog-browser", "app.js")
	chunkMap := []byte(`{"version":3,"sources":["a.js"],"names":[],"mappings":"AAAA","chunk_id":"0192-chunk"}`)
	targets := []PairTarget{
		{ID: 1, Ref: "https://cdn.example.com/assets/app.js?v=3", Kind: RefURL},
		{ID: 2, Ref: "0192-chunk", Kind: RefChunkID},
		{ID: 3, Ref: "https://cdn.example.com/other.js", Kind: RefURL},
	}
	files := []UploadFile{
		{Name: "dist/app.js", Data: js},
		{Name: "dist/app.js.map", Data: mapJSON},
		{Name: "dist/chunk-x.js.map", Data: chunkMap},
		{Name: "dist/readme.txt", Data: []byte("hello")},
	}
	pairs, unpaired := PairUploads(targets, files)
	if len(pairs) != 2 {
		t.Fatalf("pairs = %+v, want 2", pairs)
	}
	if p := pairs[0]; p.Target.ID != 1 || p.MapName != "dist/app.js.map" || p.MinifiedName != "dist/app.js" || !strings.Contains(p.MatchedBy, "sourceMappingURL") {
		t.Errorf("URL pair: %s + %s by %q", p.MapName, p.MinifiedName, p.MatchedBy)
	}
	if p := pairs[1]; p.Target.ID != 2 || p.MapName != "dist/chunk-x.js.map" || !strings.Contains(p.MatchedBy, "chunk_id") {
		t.Errorf("chunk pair: %s by %q", p.MapName, p.MatchedBy)
	}
	if len(unpaired) != 1 || unpaired[0] != "dist/readme.txt" {
		t.Errorf("unpaired = %q", unpaired)
	}

	// An injected file: the chunkId comment names the set, its map comes by file name.
	injected := append([]byte("console.log(1)\n//# chunkId=abc-123\n"), []byte("//# sourceMappingURL=main.js.map\n")...)
	pairs, _ = PairUploads([]PairTarget{{ID: 9, Ref: "abc-123", Kind: RefChunkID}},
		[]UploadFile{{Name: "main.js", Data: injected}, {Name: "main.js.map", Data: chunkMap}})
	if len(pairs) != 1 || pairs[0].MinifiedName != "main.js" || !strings.Contains(pairs[0].MatchedBy, "chunkId") {
		t.Fatalf("injected pair: %+v", pairs)
	}
}
