package event

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// gzipMagic starts every gzip stream; current posthog-js sends raw gzip as
// text/plain with nothing else saying it is compressed.
var gzipMagic = []byte{0x1f, 0x8b}

func isGzip(b []byte) bool { return bytes.HasPrefix(b, gzipMagic) }

// gunzip undoes gzip (all concatenated members), refusing output past max.
func gunzip(b []byte, max int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, badRequest("the body looks like gzip but is not valid gzip: %v", err)
	}
	return readDecompressed(zr, "gzip", max)
}

// inflate undoes Content-Encoding: deflate, which is zlib-wrapped by the
// standard but sent raw by some clients.
func inflate(b []byte, max int64) ([]byte, error) {
	if len(b) >= 2 && b[0]&0x0f == 8 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0 {
		zr, err := zlib.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, badRequest("the body is not valid deflate data: %v", err)
		}
		return readDecompressed(zr, "deflate", max)
	}
	return readDecompressed(flate.NewReader(bytes.NewReader(b)), "deflate", max)
}

// readDecompressed reads r to the end, growing its buffer no further than
// max+1 bytes so a compression bomb costs at most the cap.
func readDecompressed(r io.Reader, what string, max int64) ([]byte, error) {
	buf := make([]byte, 0, min(max+1, 64<<10))
	for {
		if int64(len(buf)) > max {
			return nil, tooLarge("the %s body decompresses to more than %d bytes", what, max)
		}
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(int64(cap(buf))*2, max+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			if int64(len(buf)) > max {
				return nil, tooLarge("the %s body decompresses to more than %d bytes", what, max)
			}
			return buf, nil
		}
		if err != nil {
			return nil, badRequest("the %s body is truncated or corrupt: %v", what, err)
		}
	}
}

// decodeBase64 accepts every base64 dialect clients send: standard or
// URL-safe alphabet, with or without padding, with line breaks, and with
// '+' turned into ' ' by form decoding.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ':
			return '+'
		case '-':
			return '+'
		case '_':
			return '/'
		case '\n', '\r', '\t':
			return -1
		}
		return r
	}, s)
	s = strings.TrimRight(s, "=")
	out, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decode base64: %w", err)
	}
	return out, nil
}
