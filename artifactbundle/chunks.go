package artifactbundle

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"strings"
)

// Chunk is one piece of an uploaded file, uncompressed, named by its SHA-1.
type Chunk struct {
	SHA1 string
	Data []byte
}

// ValidSHA1 reports whether s is a SHA-1 written as 40 hex digits.
func ValidSHA1(s string) bool {
	if len(s) != 40 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// SHA1Hex is the lowercase hex SHA-1 of b.
func SHA1Hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

// DecodeChunk checks one uploaded part: name is the SHA-1 sentry-cli
// computed of the uncompressed chunk, body the part as sent (gzip when
// gzipped). A chunk whose content does not have that SHA-1, or that is
// larger than maxBytes uncompressed, is refused.
func DecodeChunk(name string, body []byte, gzipped bool, maxBytes int64) (Chunk, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if !ValidSHA1(name) {
		return Chunk{}, problemf("A chunk must be named by the SHA-1 of its content (40 hex digits), not %q.", clip(name, 60))
	}
	data := body
	if gzipped {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return Chunk{}, problemf("Chunk %s is sent as file_gzip but is not gzip: %v.", name, err)
		}
		data, err = io.ReadAll(io.LimitReader(zr, maxBytes+1))
		if err != nil {
			return Chunk{}, problemf("Chunk %s does not decompress: %v.", name, err)
		}
	}
	if int64(len(data)) > maxBytes {
		return Chunk{}, problemf("Chunk %s is larger than the chunk size of %d MiB this server asked for.", name, maxBytes>>20)
	}
	if got := SHA1Hex(data); got != name {
		return Chunk{}, problemf("Chunk %s has SHA-1 %s: it was damaged on the way. Nothing was stored; upload it again.", name, got)
	}
	return Chunk{SHA1: name, Data: data}, nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
