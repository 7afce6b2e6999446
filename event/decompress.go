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

// maxCompressionLayers is how many layers of compression (gzip, deflate,
// lz-string) a capture body may carry. Clients compress once; a body that
// inflates to more compressed data is refused, so a gzip quine (a file
// that inflates to itself) or a stack of bombs costs one pass at most.
// base64 and form encoding are not compression and do not count.
const maxCompressionLayers = 1

func tooManyLayers(inner string) *Error {
	return badRequest("the body is compressed more than once (%s inside an already decompressed body); "+
		"this server undoes one layer of compression: send the JSON compressed once", inner)
}

// encoded is a capture payload whose last compression layer, if any, is
// still to be undone: raw inflated by codec. Keeping that layer lazy lets
// the decoder read the token and count events while inflating, before it
// holds the whole inflated payload.
type encoded struct {
	raw    []byte
	codec  string // "", "gzip" or "deflate"
	undone int    // compression layers already undone to get raw
}

// layers counts the compression layers undone or pending.
func (p encoded) layers() int {
	if p.codec != "" {
		return p.undone + 1
	}
	return p.undone
}

// plain is what a payload becomes once its pending layer is undone.
func (p encoded) plain(raw []byte) encoded { return encoded{raw: raw, undone: p.layers()} }

// open reads the payload, inflating it on the way; reading more than max
// bytes fails with a 413 *Error, corrupt data with a 400 *Error.
func (p encoded) open(max int64) (io.Reader, error) {
	var r io.Reader
	switch p.codec {
	case "":
		r = bytes.NewReader(p.raw)
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(p.raw))
		if err != nil {
			return nil, badRequest("the body looks like gzip but is not valid gzip: %v", err)
		}
		r = zr
	case "deflate":
		// zlib-wrapped by the standard, but sent raw by some clients.
		b := p.raw
		if len(b) >= 2 && b[0]&0x0f == 8 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0 {
			zr, err := zlib.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, badRequest("the body is not valid deflate data: %v", err)
			}
			r = zr
		} else {
			r = flate.NewReader(bytes.NewReader(b))
		}
	default:
		return nil, fmt.Errorf("unknown codec %q", p.codec)
	}
	what := p.codec
	if what == "" {
		what = "decoded"
	}
	return &cappedReader{r: r, left: max, max: max, what: what}, nil
}

// bytes is the whole payload with its pending layer undone.
func (p encoded) bytes(max int64) ([]byte, error) {
	if p.codec == "" {
		if int64(len(p.raw)) > max {
			return nil, tooLarge("the decoded body is %d bytes, more than the %d this server accepts", len(p.raw), max)
		}
		return p.raw, nil
	}
	r, err := p.open(max)
	if err != nil {
		return nil, err
	}
	return readAll(r, max)
}

// peekSize is how much of a payload the decoder looks at to tell gzip,
// JSON, form data and base64 apart.
const peekSize = 512

// peek returns the start of the payload after leading whitespace.
func (p encoded) peek(max int64) ([]byte, error) {
	if p.codec == "" {
		b := bytes.TrimLeft(p.raw, " \t\r\n")
		return b[:min(len(b), peekSize)], nil
	}
	r, err := p.open(max)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 0, peekSize)
	chunk := make([]byte, peekSize)
	for len(buf) < peekSize {
		n, err := r.Read(chunk[:peekSize-len(buf)])
		part := chunk[:n]
		if len(buf) == 0 {
			part = bytes.TrimLeft(part, " \t\r\n")
		}
		buf = append(buf, part...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// cappedReader passes at most max bytes of r through and says in a
// sentence what went wrong: too much output (413) or corrupt input (400).
type cappedReader struct {
	r         io.Reader
	left, max int64
	what      string
}

func (c *cappedReader) Read(b []byte) (int, error) {
	if int64(len(b)) > c.left+1 {
		b = b[:c.left+1]
	}
	n, err := c.r.Read(b)
	c.left -= int64(n)
	if c.left < 0 {
		return 0, tooLarge("the %s body decompresses to more than %d bytes", c.what, c.max)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		var e *Error
		if errors.As(err, &e) {
			return n, e
		}
		return n, badRequest("the %s body is truncated or corrupt: %v", c.what, err)
	}
	return n, err
}

// readAll reads r (a cappedReader) to the end, growing its buffer no
// further than max+1 bytes.
func readAll(r io.Reader, max int64) ([]byte, error) {
	buf := make([]byte, 0, min(max+1, 64<<10))
	for {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(int64(cap(buf))*2, max+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
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

// gunzip undoes gzip (all concatenated members), refusing output past max.
func gunzip(b []byte, max int64) ([]byte, error) { return encoded{raw: b, codec: "gzip"}.bytes(max) }

// inflate undoes deflate, zlib-wrapped or raw, refusing output past max.
func inflate(b []byte, max int64) ([]byte, error) {
	return encoded{raw: b, codec: "deflate"}.bytes(max)
}

// readDecompressed reads a decompressing reader to the end, refusing
// output past max (413) and corrupt input (400).
func readDecompressed(r io.Reader, what string, max int64) ([]byte, error) {
	return readAll(&cappedReader{r: r, left: max, max: max, what: what}, max)
}
