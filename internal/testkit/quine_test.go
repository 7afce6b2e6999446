package testkit

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
)

func TestGzipQuineInflatesToItself(t *testing.T) {
	q := GzipQuine()
	zr, err := gzip.NewReader(bytes.NewReader(q))
	if err != nil {
		t.Fatalf("gzip header: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("inflate the %d-byte quine: %v", len(q), err)
	}
	if !bytes.Equal(out, q) {
		t.Fatalf("the %d-byte quine inflates to %d different bytes", len(q), len(out))
	}
}
