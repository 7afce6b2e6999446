package symbols

import (
	"testing"

	"github.com/stacklens/stacklens/event"
)

func TestFrameRef(t *testing.T) {
	cases := []struct {
		name  string
		frame event.Frame
		ref   string
		kind  RefKind
	}{
		{"chunk id wins", event.Frame{Platform: "web:javascript", ChunkID: "c1", DebugID: "d1", Filename: "http://x/app.js"}, "c1", RefChunkID},
		{"debug id", event.Frame{Platform: "node:javascript", DebugID: " d1 ", Filename: "http://x/app.js"}, "d1", RefDebugID},
		{"posthog-js filename", event.Frame{Platform: "web:javascript", Filename: "http://127.0.0.1:8790/app.js", Lineno: 5, Colno: 38322}, "http://127.0.0.1:8790/app.js", RefURL},
		{"line and column stripped", event.Frame{Platform: "javascript", Filename: "https://cdn.example.com/a/app.js:5:38322"}, "https://cdn.example.com/a/app.js", RefURL},
		{"line stripped", event.Frame{Filename: "https://cdn.example.com/app.js:12"}, "https://cdn.example.com/app.js", RefURL},
		{"port kept", event.Frame{Filename: "http://host:8080"}, "http://host:8080", RefURL},
		{"port kept, line stripped", event.Frame{Filename: "http://host:8080/app.js:1:2"}, "http://host:8080/app.js", RefURL},
		{"query kept, fragment removed", event.Frame{Filename: "https://x/app.js?v=3#frag"}, "https://x/app.js?v=3", RefURL},
		{"query kept, line stripped", event.Frame{Filename: "https://x/app.js?v=3:4:5"}, "https://x/app.js?v=3", RefURL},
		{"abs_path when filename is not a URL", event.Frame{Filename: "app.js", AbsPath: "http://x/app.js"}, "http://x/app.js", RefURL},
		{"file path", event.Frame{Platform: "node:javascript", Filename: "/srv/app/index.js"}, "", RefNone},
		{"node internal", event.Frame{Platform: "node:javascript", Filename: "node:internal/timers"}, "", RefNone},
		{"file URL", event.Frame{Filename: "file:///srv/app.js"}, "", RefNone},
		{"webpack URL", event.Frame{Filename: "webpack://app/src/a.js"}, "", RefNone},
		{"no host", event.Frame{Filename: "http:///app.js"}, "", RefNone},
		{"empty", event.Frame{}, "", RefNone},
		{"python frame", event.Frame{Platform: "python", Filename: "https://x/app.js", ChunkID: "c1"}, "", RefNone},
		{"custom platform", event.Frame{Platform: "custom", Filename: "https://x/app.js"}, "", RefNone},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref, kind := FrameRef(c.frame)
			if ref != c.ref || kind != c.kind {
				t.Fatalf("FrameRef = (%q, %q), want (%q, %q)", ref, kind, c.ref, c.kind)
			}
		})
	}
}
