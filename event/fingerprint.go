package event

import "encoding/hex"

// Fingerprint is the key events are grouped into issues by (hex SHA-256).
// It follows PostHog's rule so that the same events group the same way:
// over the exceptions in list order, the type; the value only when the
// exception has no resolved frame; then the frames that identify the
// code path (see fingerprintFrames). A client's $exception_fingerprint
// replaces all of that, hashed too so its length is bounded. A Sentry
// client fingerprint with {{ default }} parts (FingerprintParts) is hashed
// with the computed fingerprint in place of those parts.
func Fingerprint(e Event) string {
	var buf [1024]byte
	h := partsHash{buf: buf[:0]}
	if e.Fingerprint != "" {
		h.add("client", e.Fingerprint)
		return h.hex()
	}
	if len(e.FingerprintParts) > 0 {
		computed := e
		computed.FingerprintParts = nil
		def := Fingerprint(computed)
		parts := make([]string, len(e.FingerprintParts))
		for i, p := range e.FingerprintParts {
			if p == DefaultFingerprintPart {
				p = def
			}
			parts[i] = p
		}
		h.add("client-extends-default")
		h.add(parts...)
		return h.hex()
	}
	for _, x := range e.Exceptions {
		h.add("exception", x.Type)
		if !hasResolvedFrame(x.Frames) {
			h.add("value", x.Value)
		}
		for _, f := range fingerprintFrames(x.Frames) {
			if isResolved(f) {
				h.add("resolved", f.Resolution.Name, f.Resolution.Source)
				continue
			}
			path := f.AbsPath
			if path == "" {
				path = f.Filename
			}
			platform := f.Platform
			if platform == "" {
				platform = DefaultPlatform // as Normalize would set it
			}
			h.add("raw", f.Function, path)
			h.addInt(f.Lineno)
			h.addInt(f.Colno)
			h.add(platform)
		}
	}
	return h.hex()
}

// DefaultFingerprintPart is how a Sentry client fingerprint says "the
// grouping the server would do anyway" (written {{ default }} or
// {{default}} by clients).
const DefaultFingerprintPart = "{{ default }}"

// fingerprintFrames picks the frames that count: if none is in-app, only
// the first; else every in-app frame that is resolved, or all in-app
// frames when none of them is resolved.
func fingerprintFrames(frames []Frame) []Frame {
	var inApp, resolvedInApp []Frame
	for _, f := range frames {
		if !isInApp(f) {
			continue
		}
		inApp = append(inApp, f)
		if isResolved(f) {
			resolvedInApp = append(resolvedInApp, f)
		}
	}
	switch {
	case len(resolvedInApp) > 0:
		return resolvedInApp
	case len(inApp) > 0:
		return inApp
	case len(frames) > 0:
		return frames[:1]
	}
	return nil
}

func (h *partsHash) hex() string {
	sum := h.sum()
	return hex.EncodeToString(sum[:])
}

func isResolved(f Frame) bool { return f.Resolution != nil && f.Resolution.Resolved }

// isInApp trusts symbolication over the client once a frame is resolved:
// the original source path says better whether code is the app's own.
func isInApp(f Frame) bool {
	if isResolved(f) {
		return f.Resolution.InApp
	}
	return f.InApp
}

func hasResolvedFrame(frames []Frame) bool {
	for _, f := range frames {
		if isResolved(f) {
			return true
		}
	}
	return false
}
