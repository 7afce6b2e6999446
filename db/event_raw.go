package db

import (
	"bytes"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// zstdMagic starts every zstd frame. A stored raw event (events.raw) that
// starts with it is compressed; one that does not is the JSON as sent (rows
// stored before raw events were compressed, or ones that did not shrink).
// JSON never starts with this byte.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// newRawCodec compresses raw events at zstd's fastest level: it runs in the
// one writer transaction, and JSON events shrink about threefold anyway.
func newRawCodec() (blobCodec, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return blobCodec{}, fmt.Errorf("zstd encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
	if err != nil {
		return blobCodec{}, fmt.Errorf("zstd decoder: %w", err)
	}
	return blobCodec{enc: enc, dec: dec}, nil
}

// packRaw is how a raw event is stored.
func (d *DB) packRaw(raw []byte) []byte {
	if len(raw) == 0 {
		return raw
	}
	if packed := d.raws.compress(raw); len(packed) < len(raw) {
		return packed
	}
	return raw
}

// unpackRaw is a stored raw event as it was sent.
func (d *DB) unpackRaw(stored []byte) ([]byte, error) {
	if !bytes.HasPrefix(stored, zstdMagic) {
		return stored, nil
	}
	raw, err := d.raws.decompress(stored)
	if err != nil {
		return nil, fmt.Errorf("decompress stored raw event: %w", err)
	}
	return raw, nil
}
