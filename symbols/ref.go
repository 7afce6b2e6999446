package symbols

import (
	"net/url"
	"strings"

	"github.com/stacklens/stacklens/event"
)

// RefKind says what a frame's symbol-set reference is. Its values are
// stored in the database.
type RefKind string

// Reference kinds, in the order FrameRef prefers them.
const (
	RefNone    RefKind = ""         // nothing to resolve the frame by
	RefChunkID RefKind = "chunk_id" // posthog-cli's injected chunk id
	RefDebugID RefKind = "debug_id" // sentry-cli's debug id
	RefURL     RefKind = "url"      // the http(s) URL of the minified file
)

// FrameRef returns the reference that identifies the symbol set of a frame:
// its chunk id, else its debug id (lowercase, as uploads store it), else the http(s) URL of its filename or
// abs_path without the trailing ":line:col" and fragment (the query is kept:
// it often names a build). Frames that are not JavaScript have RefNone.
func FrameRef(f event.Frame) (ref string, kind RefKind) {
	if !isJavaScriptPlatform(f.Platform) {
		return "", RefNone
	}
	if id := strings.TrimSpace(f.ChunkID); id != "" {
		return id, RefChunkID
	}
	if id := strings.ToLower(strings.TrimSpace(f.DebugID)); id != "" {
		return id, RefDebugID
	}
	for _, candidate := range []string{f.Filename, f.AbsPath} {
		if u, ok := frameFileURL(candidate); ok {
			return u, RefURL
		}
	}
	return "", RefNone
}

func isJavaScriptPlatform(platform string) bool {
	switch strings.ToLower(strings.TrimSpace(platform)) {
	case "", "javascript", "web:javascript", "node:javascript":
		return true
	}
	return false
}

// frameFileURL turns a frame's filename into the URL of the file, when it is an
// http(s) URL.
func frameFileURL(name string) (string, bool) {
	name = strings.TrimSpace(name)
	if i := strings.IndexByte(name, '#'); i >= 0 {
		name = name[:i]
	}
	name = stripLineCol(name)
	u, err := url.Parse(name)
	if err != nil || u.Host == "" {
		return "", false
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return "", false
	}
	return name, true
}

// stripLineCol removes a trailing ":line:col" or ":line" that some stack
// formats glue to the file URL. It never touches the authority, so the port
// of "http://host:8080" stays.
func stripLineCol(name string) string {
	pathStart := len(name)
	if i := strings.Index(name, "://"); i >= 0 {
		if j := strings.IndexByte(name[i+3:], '/'); j >= 0 {
			pathStart = i + 3 + j
		}
	}
	for range 2 {
		i := strings.LastIndexByte(name, ':')
		if i <= pathStart || i == len(name)-1 || !lineColDigits(name[i+1:]) {
			break
		}
		name = name[:i]
	}
	return name
}

func lineColDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
