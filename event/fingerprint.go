package event

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Fingerprint is the key events are grouped into issues by (hex SHA-256).
// It follows PostHog's rule so that the same events group the same way:
// over the exceptions in list order, the type; the value only when the
// exception has no resolved frame; then the frames that identify the
// code path (see fingerprintFrames). A client's $exception_fingerprint
// replaces all of that, hashed too so its length is bounded. A Sentry
// client fingerprint with {{ default }} parts (FingerprintParts) is hashed
// with the computed fingerprint in place of those parts.
func Fingerprint(e Event) string {
	h := sha256.New()
	if e.Fingerprint != "" {
		writeParts(h, "client", e.Fingerprint)
		return hex.EncodeToString(h.Sum(nil))
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
		writeParts(h, "client-extends-default")
		writeParts(h, parts...)
		return hex.EncodeToString(h.Sum(nil))
	}
	for _, x := range e.Exceptions {
		writeParts(h, "exception", x.Type)
		if !hasResolvedFrame(x.Frames) {
			writeParts(h, "value", x.Value)
		}
		for _, f := range fingerprintFrames(x.Frames) {
			if isResolved(f) {
				writeParts(h, "resolved", f.Resolution.Name, f.Resolution.Source)
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
			writeParts(h, "raw", f.Function, path, strconv.Itoa(f.Lineno), strconv.Itoa(f.Colno), platform)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
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
