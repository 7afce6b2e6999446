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

// ErrInvalidUploadBlob is wrapped by every DecodeUploadBlob error but
// ErrUploadBlobTooLarge.
var ErrInvalidUploadBlob = errors.New("invalid upload blob")

// ErrUploadBlobTooLarge is wrapped when a blob holds, or a zstd payload
// would inflate to, more than the upload limit.
var ErrUploadBlobTooLarge = errors.New("too large for this server")

// maxZstdWindow bounds the history a zstd frame may ask the decoder to
// keep. zstd's own levels use at most 8 MiB (--ultra and --long up to
// 128 MiB, which no uploader uses); a frame asking for more is refused
// instead of making the server allocate it.
const maxZstdWindow = 32 << 20

// DecodeUploadBlob splits a posthog-cli upload blob (version 1, or version
// 2 uncompressed or zstd) into the minified source and the source map,
// which together may hold at most maxBytes (0 means
// DefaultMaxUploadBytes). A zstd payload is inflated as it is read and
// refused as soon as it claims or yields more, so a small blob that
// inflates to gigabytes costs no more memory than the limit.
func DecodeUploadBlob(b []byte, maxBytes int64) (minified, sourceMap []byte, err error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxUploadBytes
	}
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
			return decodeZstdPayload(rest[1:], maxBytes)
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
	if total := int64(len(minified)) + int64(len(sourceMap)); total > maxBytes {
		return nil, nil, tooLargeBlob(total, maxBytes)
	}
	return minified, sourceMap, nil
}

func tooLargeBlob(size, maxBytes int64) error {
	return fmt.Errorf("%w: it holds %s of minified source and source map; the limit is %s",
		ErrUploadBlobTooLarge, byteSize(size), byteSize(maxBytes))
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

// decodeZstdPayload reads the two length-prefixed fields out of a zstd
// stream as it inflates, never holding more than the fields' declared
// sizes, which must fit in maxBytes together.
func decodeZstdPayload(compressed []byte, maxBytes int64) (minified, sourceMap []byte, err error) {
	fail := func(format string, args ...any) ([]byte, []byte, error) {
		return nil, nil, fmt.Errorf("%w: %s", ErrInvalidUploadBlob, fmt.Sprintf(format, args...))
	}
	dec, err := zstd.NewReader(bytes.NewReader(compressed),
		zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(maxZstdWindow)) // no WithDecoderMaxMemory: it also caps the window, and readField keeps the budget

	if err != nil {
		return fail("the zstd payload cannot be read: %v", err)
	}
	defer dec.Close()
	zstdFail := func(what string, err error) ([]byte, []byte, error) {
		switch {
		case errors.Is(err, zstd.ErrWindowSizeExceeded):
			return fail("the zstd payload asks for a window larger than %s; compress it with a standard level", byteSize(maxZstdWindow))
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return fail("the %s is cut short", what)
		}
		return fail("the zstd payload does not decompress: %v", err)
	}
	budget := maxBytes
	readField := func(what string) ([]byte, error) {
		var n [8]byte
		if _, err := io.ReadFull(dec, n[:]); err != nil {
			_, _, err = zstdFail(what, err)
			return nil, err
		}
		size := binary.LittleEndian.Uint64(n[:])
		if size > uint64(budget) {
			return nil, fmt.Errorf("%w: its %s is said to be %s; with the rest the limit is %s",
				ErrUploadBlobTooLarge, what, byteSize(int64(min(size, 1<<62))), byteSize(maxBytes))
		}
		field, err := readExactly(dec, int64(size))
		if err != nil {
			_, _, err = zstdFail(what, err)
			return nil, err
		}
		budget -= int64(size)
		return field, nil
	}
	if minified, err = readField("minified source"); err != nil {
		return nil, nil, err
	}
	if sourceMap, err = readField("source map"); err != nil {
		return nil, nil, err
	}
	var one [1]byte
	switch n, err := dec.Read(one[:]); {
	case n > 0:
		return fail("more data follows the source map")
	case err != nil && !errors.Is(err, io.EOF):
		return zstdFail("source map", err)
	}
	return minified, sourceMap, nil
}

// readExactly reads n bytes, growing its buffer as data arrives rather
// than trusting n up front: a stream that claims much and holds little
// costs what it holds.
func readExactly(r io.Reader, n int64) ([]byte, error) {
	buf := make([]byte, 0, min(n, 1<<20))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, int64(cap(buf))*2))
			copy(grown, buf)
			buf = grown
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil && int64(len(buf)) < n {
			if errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return buf, nil
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
