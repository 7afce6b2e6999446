package event

import (
	"crypto/sha256"
	"encoding/hex"
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
	var buf [512]byte
	h := partsHash{buf: buf[:0]}
	h.add("frame/v1", platform, f.Filename, f.AbsPath, f.Function, f.Module)
	h.addInt(f.Lineno)
	h.addInt(f.Colno)
	h.add(f.ChunkID, f.DebugID)
	sum := h.sum()
	return hex.EncodeToString(sum[:8])
}

// partsHash is a SHA-256 over parts, each written with its length in
// front, so that no two different lists of parts hash the same bytes. The
// parts are gathered first and hashed at once: it runs for every frame of
// every event, and a hash.Hash took a copy of every part.
type partsHash struct{ buf []byte }

func (h *partsHash) add(parts ...string) {
	for _, p := range parts {
		h.buf = strconv.AppendInt(h.buf, int64(len(p)), 10)
		h.buf = append(h.buf, ':')
		h.buf = append(h.buf, p...)
	}
}

// addInt adds n's decimal digits as one part.
func (h *partsHash) addInt(n int) {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], int64(n), 10)
	h.buf = strconv.AppendInt(h.buf, int64(len(d)), 10)
	h.buf = append(h.buf, ':')
	h.buf = append(h.buf, d...)
}

func (h *partsHash) sum() [sha256.Size]byte { return sha256.Sum256(h.buf) }
