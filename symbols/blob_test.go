package symbols

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stacklens/stacklens/internal/testkit"
)

func TestUploadBlobRoundTrip(t *testing.T) {
	dir := filepath.Join(testkit.Fixtures(t), "bundles", "posthog-browser")
	minified, err := os.ReadFile(filepath.Join(dir, "app.js"))
	if err != nil {
		t.Fatal(err)
	}
	sourceMap, err := os.ReadFile(filepath.Join(dir, "app.js.map"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		version int
		zstd    bool
	}{{"v1", 1, false}, {"v2 plain", 2, false}, {"v2 zstd", 2, true}} {
		t.Run(tc.name, func(t *testing.T) {
			blob := EncodeUploadBlob(tc.version, tc.zstd, minified, sourceMap)
			if !bytes.HasPrefix(blob, []byte("posthog_error_tracking")) {
				t.Fatalf("blob does not start with the magic: %q", blob[:30])
			}
			if got := binary.LittleEndian.Uint32(blob[22:26]); got != uint32(tc.version) {
				t.Fatalf("version field %d, want %d", got, tc.version)
			}
			if tc.zstd && len(blob) >= len(minified)+len(sourceMap) {
				t.Fatalf("zstd blob is %d bytes, not smaller than its %d-byte content", len(blob), len(minified)+len(sourceMap))
			}
			gotMin, gotMap, err := DecodeUploadBlob(blob)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !bytes.Equal(gotMin, minified) || !bytes.Equal(gotMap, sourceMap) {
				t.Fatalf("decoded %d+%d bytes, want %d+%d", len(gotMin), len(gotMap), len(minified), len(sourceMap))
			}
		})
	}
}

// TestUploadBlobLayout checks the exact bytes of a version 1 blob, the
// layout PostHog's construct_js_data_object writes.
func TestUploadBlobLayout(t *testing.T) {
	got := EncodeUploadBlob(1, false, []byte("ab"), []byte("{}"))
	want := append([]byte("posthog_error_tracking"), 1, 0, 0, 0, 2, 0, 0, 0,
		2, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', 2, 0, 0, 0, 0, 0, 0, 0, '{', '}')
	if !bytes.Equal(got, want) {
		t.Fatalf("v1 blob\n got %v\nwant %v", got, want)
	}
	v2 := EncodeUploadBlob(2, false, []byte("ab"), []byte("{}"))
	if v2[30] != 0 || !bytes.Equal(v2[31:], want[30:]) {
		t.Fatalf("v2 uncompressed blob should be v1's with a 0 compression byte after the type: %v", v2)
	}
}

func TestDecodeUploadBlobRefusesBadBlobs(t *testing.T) {
	good := EncodeUploadBlob(1, false, []byte("var a=1"), []byte(`{"version":3}`))
	header := func(version, typ uint32) []byte {
		b := []byte("posthog_error_tracking")
		b = binary.LittleEndian.AppendUint32(b, version)
		return binary.LittleEndian.AppendUint32(b, typ)
	}
	cases := map[string][]byte{
		"empty":            nil,
		"json map":         []byte(`{"version":3,"mappings":""}`),
		"version 3":        append(header(3, 2), good[30:]...),
		"hermes type":      append(header(1, 3), good[30:]...),
		"bad compression":  append(header(2, 2), 7),
		"no compression":   header(2, 2),
		"bad zstd":         append(append(header(2, 2), 1), "not zstd"...),
		"truncated":        good[:len(good)-3],
		"trailing bytes":   append(append([]byte(nil), good...), 'x'),
		"huge length":      append(header(1, 2), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
		"magic only":       []byte("posthog_error_tracking"),
		"missing map part": append(header(1, 2), 1, 0, 0, 0, 0, 0, 0, 0, 'x'),
	}
	for name, b := range cases {
		if _, _, err := DecodeUploadBlob(b); !errors.Is(err, ErrInvalidUploadBlob) {
			t.Errorf("%s: err = %v, want ErrInvalidUploadBlob", name, err)
		}
	}
}
