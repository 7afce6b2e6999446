package db

import (
	"bytes"
	_ "embed"
	"fmt"
	"runtime"

	"github.com/klauspost/compress/zstd"
)

// zstdMagic starts every zstd frame. A stored raw event (events.raw) or
// stored event (events.data) that starts with it is compressed; one that
// does not is the JSON itself (rows stored before they were compressed, or
// ones that did not shrink). JSON never starts with this byte.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// eventDictionaryV1 is a zstd raw-content dictionary for events: two
// recorded exception events, each as sent and as stored (Sentry's browser
// SDK and posthog-js's min-config case, from testdata/fixtures/sdk). Events
// of one SDK share most of their keys and many values, and one event alone
// is too short for zstd to find them, so with the dictionary a posthog-js
// exception shrinks about three times as much as without. It is kept small
// (9 KB) because the encoder loads it again for every event. Stored frames
// name the dictionary by id: never change this file; a better dictionary
// gets a new file and id, and the decoder keeps every old one.
//
//go:embed event_dictionary_v1.jsonl
var eventDictionaryV1 []byte

const eventDictionaryV1ID = 1

// newRawCodec compresses events at zstd's fastest level with the event
// dictionary: it runs for every event, and JSON events shrink several times
// anyway. The pipeline compresses on every CPU (Pack) and an encoder takes
// one call at a time, so there is one per CPU (at most 8: each holds its
// tables). Its decoder reads frames with and without the dictionary.
func newRawCodec() (blobCodec, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(min(runtime.GOMAXPROCS(0), 8)),
		zstd.WithEncoderDictRaw(eventDictionaryV1ID, eventDictionaryV1))
	if err != nil {
		return blobCodec{}, fmt.Errorf("zstd encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderDictRaw(eventDictionaryV1ID, eventDictionaryV1))
	if err != nil {
		return blobCodec{}, fmt.Errorf("zstd decoder: %w", err)
	}
	return blobCodec{enc: enc, dec: dec}, nil
}

// Pack compresses the event's raw form and stored form as StoreBatch keeps
// them. The pipeline calls it while it prepares events on every CPU, so the
// one writer transaction does not; StoreBatch packs what was not packed.
func (d *DB) Pack(ev *NewEvent) {
	if ev.packed {
		return
	}
	if ev.SearchTerms == nil {
		ev.SearchTerms = searchTerms(ev.Data) // read before Data is compressed
	}
	ev.Raw, ev.Data, ev.packed = d.packBlob(ev.Raw), d.packBlob(ev.Data), true
}

// packBlob is how a raw or stored event is kept: compressed when that makes it smaller.
func (d *DB) packBlob(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	if packed := d.raws.compress(b); len(packed) < len(b) {
		return packed
	}
	return b
}

// unpackBlob is a stored raw or stored event as its JSON.
func (d *DB) unpackBlob(stored []byte) ([]byte, error) {
	if !bytes.HasPrefix(stored, zstdMagic) {
		return stored, nil
	}
	raw, err := d.raws.decompress(stored)
	if err != nil {
		return nil, fmt.Errorf("decompress stored event: %w", err)
	}
	return raw, nil
}

// unpackStored turns the blobs of a stored event read back into JSON.
func (d *DB) unpackStored(e *StoredEvent) error {
	var err error
	if e.Raw, err = d.unpackBlob(e.Raw); err != nil {
		return err
	}
	e.Data, err = d.unpackBlob(e.Data)
	return err
}
