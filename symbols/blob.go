package symbols

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// The posthog-cli upload blob ("posthog_error_tracking" symbol data): the
// ASCII magic, a u32 LE format version, a u32 LE data type, then for
// version 2 one compression byte; the payload is a u64 LE length and the
// minified source, then a u64 LE length and the source map JSON. With zstd
// the whole payload (both lengths included) is one compressed stream.
const (
	blobMagic = "posthog_error_tracking"
	// BlobVersion1 has no compression byte.
	BlobVersion1 = 1
	// BlobVersion2 adds the compression byte.
	BlobVersion2 = 2
	// blobTypeSourceAndMap is the only data type JavaScript uploads use.
	blobTypeSourceAndMap = 2

	blobCompressionNone = 0
	blobCompressionZstd = 1
)

// ErrInvalidUploadBlob is wrapped by every DecodeUploadBlob error.
var ErrInvalidUploadBlob = errors.New("invalid upload blob")

// maxBlobPayload bounds what a zstd payload may expand to, so a small
// upload cannot make the server allocate without limit.
const maxBlobPayload = 1 << 30

// DecodeUploadBlob splits a posthog-cli upload blob (version 1, or version
// 2 uncompressed or zstd) into the minified source and the source map.
func DecodeUploadBlob(b []byte) (minified, sourceMap []byte, err error) {
	fail := func(format string, args ...any) ([]byte, []byte, error) {
		return nil, nil, fmt.Errorf("%w: %s", ErrInvalidUploadBlob, fmt.Sprintf(format, args...))
	}
	if len(b) < len(blobMagic)+8 || string(b[:len(blobMagic)]) != blobMagic {
		return fail("it does not start with %q, so it is not a file posthog-cli or stacklens made", blobMagic)
	}
	rest := b[len(blobMagic):]
	version := binary.LittleEndian.Uint32(rest[0:4])
	dataType := binary.LittleEndian.Uint32(rest[4:8])
	rest = rest[8:]
	if version != BlobVersion1 && version != BlobVersion2 {
		return fail("format version %d is not supported (only 1 and 2 are)", version)
	}
	if dataType != blobTypeSourceAndMap {
		return fail("data type %d is not a JavaScript source and map (type 2)", dataType)
	}
	payload := rest
	if version == BlobVersion2 {
		if len(rest) < 1 {
			return fail("the compression byte is missing")
		}
		switch rest[0] {
		case blobCompressionNone:
			payload = rest[1:]
		case blobCompressionZstd:
			payload, err = unzstd(rest[1:])
			if err != nil {
				return fail("the zstd payload does not decompress: %v", err)
			}
		default:
			return fail("compression %d is unknown (0 is none, 1 is zstd)", rest[0])
		}
	}
	minified, payload, ok := lengthPrefixed(payload)
	if !ok {
		return fail("the minified source is cut short")
	}
	sourceMap, payload, ok = lengthPrefixed(payload)
	if !ok {
		return fail("the source map is cut short")
	}
	if len(payload) != 0 {
		return fail("%d bytes follow the source map", len(payload))
	}
	return minified, sourceMap, nil
}

func lengthPrefixed(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 8 {
		return nil, nil, false
	}
	n := binary.LittleEndian.Uint64(b[:8])
	if n > uint64(len(b)-8) {
		return nil, nil, false
	}
	return b[8 : 8+n], b[8+n:], true
}

func unzstd(b []byte) ([]byte, error) {
	dec, err := zstd.NewReader(bytes.NewReader(b), zstd.WithDecoderMaxMemory(maxBlobPayload))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	out, err := io.ReadAll(io.LimitReader(dec, maxBlobPayload+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxBlobPayload {
		return nil, fmt.Errorf("it expands beyond %d bytes", maxBlobPayload)
	}
	return out, nil
}

// EncodeUploadBlob builds the blob posthog-cli uploads: version 1 (never
// compressed) or version 2, zstd-compressed when zstd is true.
func EncodeUploadBlob(version int, zstdCompress bool, minified, sourceMap []byte) []byte {
	var payload bytes.Buffer
	payload.Grow(16 + len(minified) + len(sourceMap))
	_ = binary.Write(&payload, binary.LittleEndian, uint64(len(minified)))
	payload.Write(minified)
	_ = binary.Write(&payload, binary.LittleEndian, uint64(len(sourceMap)))
	payload.Write(sourceMap)

	var out bytes.Buffer
	out.WriteString(blobMagic)
	_ = binary.Write(&out, binary.LittleEndian, uint32(version))
	_ = binary.Write(&out, binary.LittleEndian, uint32(blobTypeSourceAndMap))
	if version == BlobVersion1 {
		out.Write(payload.Bytes())
		return out.Bytes()
	}
	if !zstdCompress {
		out.WriteByte(blobCompressionNone)
		out.Write(payload.Bytes())
		return out.Bytes()
	}
	out.WriteByte(blobCompressionZstd)
	enc, err := zstd.NewWriter(&out)
	if err != nil {
		// NewWriter fails only on invalid options, and we pass none.
		panic(fmt.Sprintf("zstd writer: %v", err))
	}
	_, _ = enc.Write(payload.Bytes())
	_ = enc.Close()
	return out.Bytes()
}
