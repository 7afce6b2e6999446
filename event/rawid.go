package event

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strconv"
)

// DefaultPlatform is the platform of frames that do not name one: PostHog
// treats them as JavaScript.
const DefaultPlatform = "web:javascript"

// Normalize brings an event into the shape the rest of stacklens relies
// on: every frame has a platform and its RawID. Function names are kept as
// sent ("" and "?" included). Normalize may be called more than once.
func (e *Event) Normalize() {
	for i := range e.Exceptions {
		frames := e.Exceptions[i].Frames
		for j := range frames {
			if frames[j].Platform == "" {
				frames[j].Platform = DefaultPlatform
			}
			frames[j].RawID = FrameRawID(frames[j])
		}
	}
}

// FrameRawID identifies a frame as the client sent it: a 16-hex-character
// hash of its platform, file, function, module, position and chunk/debug
// id. Identical frames in different events share it, which lets
// symbolication results be stored and looked up once per distinct frame.
func FrameRawID(f Frame) string {
	platform := f.Platform
	if platform == "" {
		platform = DefaultPlatform
	}
	h := sha256.New()
	writeParts(h, "frame/v1", platform, f.Filename, f.AbsPath, f.Function, f.Module,
		strconv.Itoa(f.Lineno), strconv.Itoa(f.Colno), f.ChunkID, f.DebugID)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// writeParts writes each part with its length in front, so that no two
// different lists of parts hash the same bytes.
func writeParts(h hash.Hash, parts ...string) {
	var n [20]byte
	for _, p := range parts {
		h.Write(strconv.AppendInt(n[:0], int64(len(p)), 10))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
}
