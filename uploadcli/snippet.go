package uploadcli

import (
	"strings"
)

// snippetHead and snippetTail surround the JSON-encoded chunk id in the code
// posthog-cli prepends to every minified file. posthog-js reads
// window._posthogChunkIds (keyed by a stack trace taken inside the file) to
// stamp chunk_id on the frames of that file.
const (
	snippetHead = `!function(){try{var e="undefined"!=typeof window?window:"undefined"!=typeof global?global:"undefined"!=typeof globalThis?globalThis:"undefined"!=typeof self?self:{},n=(new e.Error).stack;n&&(e._posthogChunkIds=e._posthogChunkIds||{},e._posthogChunkIds[n]=`
	snippetTail = `)}catch(e){}}();`

	// chunkIDCommentPrefix starts the line posthog-cli appends, and the line
	// both tools look for to tell an injected file.
	chunkIDCommentPrefix = "//# chunkId="
)

// Snippet is the code prepended to a minified file for chunkID.
func Snippet(chunkID string) string {
	var b strings.Builder
	b.WriteString(snippetHead)
	writeJSONString(&b, chunkID)
	b.WriteString(snippetTail)
	return b.String()
}

// InjectSource returns the minified source with the snippet in front and the
// chunk id comment at the end, as posthog-cli writes it.
func InjectSource(source, chunkID string) string {
	return Snippet(chunkID) + source + "\n" + chunkIDCommentPrefix + chunkID
}

// ChunkIDOf returns the chunk id of an injected file: the value of the last
// line that starts with "//# chunkId=".
func ChunkIDOf(source string) (string, bool) {
	return lastCommentValue(source, chunkIDCommentPrefix)
}

// lastCommentValue scans lines from the end, as posthog-cli does, and returns
// what follows the first '=' of the last line starting with prefix. Lines end
// at "\n" with a trailing "\r" dropped.
func lastCommentValue(source, prefix string) (string, bool) {
	rest := strings.TrimSuffix(source, "\n")
	for {
		i := strings.LastIndexByte(rest, '\n')
		line := rest[i+1:]
		line = strings.TrimSuffix(line, "\r")
		if strings.HasPrefix(line, prefix) {
			_, value, _ := strings.Cut(line, "=")
			return value, true
		}
		if i < 0 {
			return "", false
		}
		rest = rest[:i]
	}
}

// sourceMappingURL returns the last "//# sourceMappingURL=" (or "//@")
// reference of a minified file, compared on trimmed lines.
func sourceMappingURL(source string) (string, bool) {
	rest := strings.TrimSuffix(source, "\n")
	for {
		i := strings.LastIndexByte(rest, '\n')
		line := strings.TrimSpace(rest[i+1:])
		for _, p := range []string{"//# sourceMappingURL=", "//@ sourceMappingURL="} {
			if v, ok := strings.CutPrefix(line, p); ok {
				return v, true
			}
		}
		if i < 0 {
			return "", false
		}
		rest = rest[:i]
	}
}

// generatedLineCount is the number of lines of source that hold at least one
// character (a line's "\n" counts). posthog-cli's edit map has one segment
// per such line, so mappings on any later line do not survive its shift.
func generatedLineCount(source string) int {
	n := strings.Count(source, "\n")
	if !strings.HasSuffix(source, "\n") && source != "" {
		n++
	}
	return n
}
