package artifactbundle

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"strings"
	"testing"
)

// The bundle the real sentry-cli 3.8.0 uploaded for `sourcemaps upload
// --org o --project p dist` after `sourcemaps inject dist` on an esbuild
// build: "SYSB", version 2, then the zip.
func realBundle(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/sentry-cli-3.8.0.sysb")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadSentryCLIBundle(t *testing.T) {
	data := realBundle(t)
	if !bytes.HasPrefix(data, []byte("SYSB\x02\x00\x00\x00PK")) {
		t.Fatalf("fixture does not start with the source bundle header: %q", data[:12])
	}
	b, err := Read(data, DefaultLimits(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	if b.Attributes["org"] != "o" || b.Attributes["project"] != "p" || b.Attributes["debug_id"] == "" {
		t.Errorf("attributes = %v", b.Attributes)
	}
	sets, withoutID := b.Sets()
	if len(withoutID) != 0 {
		t.Errorf("files without debug id: %v", withoutID)
	}
	if len(sets) != 1 {
		t.Fatalf("sets = %+v", sets)
	}
	s := sets[0]
	if s.DebugID != "517b81d8-c6fd-5743-9d27-df64050f6eaa" || s.MinifiedURL != "~/app.js" || s.MapURL != "~/app.js.map" {
		t.Errorf("set = %s %s %s", s.DebugID, s.MinifiedURL, s.MapURL)
	}
	if !strings.Contains(string(s.Minified), "//# debugId=517b81d8-c6fd-5743-9d27-df64050f6eaa") || !strings.Contains(string(s.SourceMap), `"mappings"`) {
		t.Errorf("files not as sent: minified %d bytes, map %d bytes", len(s.Minified), len(s.SourceMap))
	}
	// The zip alone (without the SYSB header) reads the same.
	if b2, err := Read(data[8:], DefaultLimits(1<<20)); err != nil || len(b2.Files) != len(b.Files) {
		t.Errorf("plain zip: %v, %d files", err, len(b2.Files))
	}
}

type zipEntry struct {
	name string
	data []byte
}

func makeZip(t *testing.T, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const smallManifest = `{"files":{"files/_/_/a.js":{"type":"minified_source","url":"~/a.js","headers":{"debug-id":"AAAA0000-0000-0000-0000-000000000001","sourcemap":"a.js.map"}},
"files/_/_/a.js.map":{"type":"source_map","url":"~/a.js.map","headers":{}}}}`

func TestReadRefusesWhatCostsTooMuch(t *testing.T) {
	limits := Limits{MaxEntryBytes: 1 << 20, MaxTotalBytes: 2 << 20, MaxEntries: 10}
	bomb := bytes.Repeat([]byte("A"), 8<<20) // deflates to a few KiB
	cases := []struct {
		name, want string
		data       []byte
	}{
		{"entry larger than the cap once decompressed", "larger than", makeZip(t, zipEntry{"manifest.json", []byte(`{"files":{"x":{"type":"source_map","url":"~/x"}}}`)}, zipEntry{"x", bomb})},
		{"too many entries", "entries", makeZip(t, func() []zipEntry {
			var es []zipEntry
			for i := range 11 {
				es = append(es, zipEntry{strings.Repeat("e", i+1), nil})
			}
			return es
		}()...)},
		{"no manifest", "no manifest.json", makeZip(t, zipEntry{"a.js", []byte("x")})},
		{"manifest names a missing file", "not in the bundle", makeZip(t, zipEntry{"manifest.json", []byte(smallManifest)})},
		{"not a zip", "not a zip", []byte("SYSB\x02\x00\x00\x00hello")},
		{"bad manifest", "not valid JSON", makeZip(t, zipEntry{"manifest.json", []byte("{")})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(c.data, limits)
			var p *Problem
			if !errors.As(err, &p) || !strings.Contains(p.Message, c.want) {
				t.Fatalf("err = %v, want a problem saying %q", err, c.want)
			}
		})
	}
}

func TestSetsPairByDebugIDOrSourcemapHeader(t *testing.T) {
	data := makeZip(t, zipEntry{"manifest.json", []byte(smallManifest)},
		zipEntry{"files/_/_/a.js", []byte("a()")}, zipEntry{"files/_/_/a.js.map", []byte(`{"version":3}`)})
	b, err := Read(data, DefaultLimits(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	sets, withoutID := b.Sets()
	// The map has no debug-id header; the minified file's sourcemap header names it.
	if len(sets) != 1 || sets[0].DebugID != "aaaa0000-0000-0000-0000-000000000001" || sets[0].MapURL != "~/a.js.map" || string(sets[0].Minified) != "a()" {
		t.Fatalf("sets = %+v", sets)
	}
	if len(withoutID) != 0 {
		t.Errorf("withoutID = %v", withoutID)
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestDecodeChunk(t *testing.T) {
	data := []byte("some chunk of a bundle")
	sum := SHA1Hex(data)
	if c, err := DecodeChunk(strings.ToUpper(sum), gz(data), true, 1<<20); err != nil || c.SHA1 != sum || string(c.Data) != string(data) {
		t.Fatalf("gzip chunk: %+v, %v", c, err)
	}
	if c, err := DecodeChunk(sum, data, false, 1<<20); err != nil || string(c.Data) != string(data) {
		t.Fatalf("plain chunk: %+v, %v", c, err)
	}
	for name, call := range map[string]func() error{
		"sha1 mismatch": func() error { _, err := DecodeChunk(SHA1Hex([]byte("other")), gz(data), true, 1<<20); return err },
		"not gzip":      func() error { _, err := DecodeChunk(sum, data, true, 1<<20); return err },
		"not a sha1":    func() error { _, err := DecodeChunk("chunk.bin", data, false, 1<<20); return err },
		"too big":       func() error { _, err := DecodeChunk(sum, gz(data), true, 4); return err },
	} {
		var p *Problem
		if err := call(); !errors.As(err, &p) {
			t.Errorf("%s: err = %v, want a *Problem", name, err)
		}
	}
}
