package symbols

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"

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
			gotMin, gotMap, err := DecodeUploadBlob(blob, 0)
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
		if _, _, err := DecodeUploadBlob(b, 0); !errors.Is(err, ErrInvalidUploadBlob) {
			t.Errorf("%s: err = %v, want ErrInvalidUploadBlob", name, err)
		}
	}
}

// zstdBlob is a version 2 zstd blob whose payload is the u64 LE declared,
// then mib MiB of zeros, compressed with the given encoder options.
func zstdBlob(t *testing.T, declared uint64, mib int, opts ...zstd.EOption) []byte {
	return zstdBlobOf(t, [][2]uint64{{declared, uint64(mib) << 20}}, opts...)
}

// zstdBlobOf is a version 2 zstd blob whose payload is, per field, a u64
// LE length followed by that many zeros (which may differ from it).
func zstdBlobOf(t *testing.T, fields [][2]uint64, opts ...zstd.EOption) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString(blobMagic)
	_ = binary.Write(&out, binary.LittleEndian, uint32(BlobVersion2))
	_ = binary.Write(&out, binary.LittleEndian, uint32(blobTypeSourceAndMap))
	out.WriteByte(blobCompressionZstd)
	enc, err := zstd.NewWriter(&out, opts...)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for _, f := range fields {
		_ = binary.Write(enc, binary.LittleEndian, f[0])
		for left := f[1]; left > 0; {
			n := min(left, uint64(len(zeros)))
			if _, err := enc.Write(zeros[:n]); err != nil {
				t.Fatal(err)
			}
			left -= n
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestDecodeUploadBlobRefusesZstdBombsWithBoundedMemory(t *testing.T) {
	const limit = 4 << 20
	cases := []struct {
		name string
		blob []byte
		want error
	}{
		{"declares a 1 GiB minified file", zstdBlob(t, 1<<30, 1024), ErrUploadBlobTooLarge},
		{"1 GiB of zeros after an empty map", zstdBlob(t, 0, 1024), ErrInvalidUploadBlob},
		{"declares 3 MiB twice", zstdBlobOf(t, [][2]uint64{{3 << 20, 3 << 20}, {3 << 20, 64 << 20}}), ErrUploadBlobTooLarge},
		{"declares 3 MiB, holds 1 KiB", zstdBlobOf(t, [][2]uint64{{3 << 20, 1 << 10}}), ErrInvalidUploadBlob},
		{"asks for a 64 MiB window", zstdBlob(t, 8, 1, zstd.WithWindowSize(64<<20), zstd.WithSingleSegment(false)), ErrInvalidUploadBlob},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, _, err := DecodeUploadBlob(c.blob, limit)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, c.want) {
				t.Fatalf("%d-byte blob: err = %v, want %v", len(c.blob), err, c.want)
			}
			// The fields read so far (growing) plus the decoder's window,
			// 8 MiB for the encoder's default level: far below the 1 GiB.
			const window = 8 << 20
			if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 2*limit+2*window {
				t.Errorf("decoding the %d-byte blob allocated %d bytes with a %d-byte limit", len(c.blob), allocated, limit)
			}
		})
	}
}

func TestDecodeUploadBlobKeepsTheLimit(t *testing.T) {
	minified, sourceMap := bytes.Repeat([]byte("a"), 600), bytes.Repeat([]byte("b"), 500)
	for _, zstdCompress := range []bool{false, true} {
		blob := EncodeUploadBlob(BlobVersion2, zstdCompress, minified, sourceMap)
		if gotMin, gotMap, err := DecodeUploadBlob(blob, 1100); err != nil || !bytes.Equal(gotMin, minified) || !bytes.Equal(gotMap, sourceMap) {
			t.Errorf("zstd %v: 1100 bytes within a 1100-byte limit: %v", zstdCompress, err)
		}
		if _, _, err := DecodeUploadBlob(blob, 1099); !errors.Is(err, ErrUploadBlobTooLarge) {
			t.Errorf("zstd %v: 1100 bytes with a 1099-byte limit: err = %v, want ErrUploadBlobTooLarge", zstdCompress, err)
		}
	}
}
