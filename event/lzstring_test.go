package event

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// testdata/lzstring_vectors.json holds strings and their compressToBase64
// output, produced by running lz-string 1.4.4's own compressor under Node.
type lzVector struct {
	Input  string `json:"input"`
	Base64 string `json:"base64"`
}

func loadLZVectors(t testing.TB) []lzVector {
	t.Helper()
	b, err := os.ReadFile("testdata/lzstring_vectors.json")
	if err != nil {
		t.Fatalf("read lz-string vectors: %v", err)
	}
	var vs []lzVector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatalf("parse lz-string vectors: %v", err)
	}
	if len(vs) < 5 {
		t.Fatalf("only %d lz-string vectors", len(vs))
	}
	return vs
}

func TestLZDecompressBase64MatchesLZString(t *testing.T) {
	for _, v := range loadLZVectors(t) {
		got, err := lzDecompressBase64(v.Base64, 1<<20)
		if err != nil {
			t.Errorf("decompress %.30q: %v", v.Input, err)
			continue
		}
		if string(got) != v.Input {
			t.Errorf("decompress %.30q: got %.60q", v.Input, got)
		}
		// Form decoding turns '+' into ' '; that must not matter.
		spaced := strings.ReplaceAll(v.Base64, "+", " ")
		if got, err := lzDecompressBase64(spaced, 1<<20); err != nil || string(got) != v.Input {
			t.Errorf("decompress %.30q with spaces for '+': %q, %v", v.Input, got, err)
		}
	}
}

func TestLZDecompressBase64Refuses(t *testing.T) {
	vs := loadLZVectors(t)
	long := vs[len(vs)-1]
	if _, err := lzDecompressBase64(long.Base64[:len(long.Base64)/2], 1<<20); err == nil {
		t.Error("truncated lz-string data decompressed without error")
	}
	_, err := lzDecompressBase64(long.Base64, int64(len(long.Input)/2))
	var e *Error
	if !errors.As(err, &e) || e.Status != 413 {
		t.Errorf("output past the cap: got %v, want a 413 *Error", err)
	}
	if _, err := lzDecompressBase64("", 100); err == nil {
		t.Error("empty input decompressed without error")
	}
	if _, err := lzDecompressBase64("////////////", 100); err == nil {
		t.Error("junk decompressed without error")
	}
}
