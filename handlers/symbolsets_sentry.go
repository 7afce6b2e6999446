package handlers

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/views"
)

// sentryDebugIDHelp is the diagnosis of a debug-id symbol set: the debug
// id the events carried (from their debug_meta), for which files, whether
// a map with it was uploaded, and the sentry-cli commands that upload one
// to this server.
func (h *Handlers) sentryDebugIDHelp(ctx context.Context, set db.SymbolSetRow, publicURL string) (*views.SentryDebugID, error) {
	frames, err := h.symbolSets.FramesOfSymbolSet(ctx, set.ProjectID, set.ID)
	if err != nil {
		return nil, fmt.Errorf("frames of symbol set %d: %w", set.ID, err)
	}
	files := map[string]bool{}
	for _, f := range frames {
		if name := firstNonEmpty(f.AbsPath, f.Filename); name != "" && len(files) < 20 {
			files[name] = true
		}
	}
	v := &views.SentryDebugID{DebugID: set.Ref, Uploaded: set.Stored, APIKeysURL: "/settings/project",
		Env: []string{
			"export SENTRY_AUTH_TOKEN=<a personal API key of this server>",
			"export SENTRY_ORG=stacklens",
			"export SENTRY_PROJECT=" + strconv.FormatInt(set.ProjectID, 10),
		},
		InjectCommand: "npx sentry-cli sourcemaps inject ./dist",
		UploadCommand: "npx sentry-cli --url " + publicURL + " sourcemaps upload ./dist",
	}
	if set.Release != "" {
		v.UploadCommand = "npx sentry-cli --url " + publicURL + " sourcemaps upload --release " + shellQuote(set.Release) + " ./dist"
	}
	for name := range files {
		v.CodeFiles = append(v.CodeFiles, name)
	}
	sort.Strings(v.CodeFiles)
	return v, nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' || r == '@' || r == '+' || r == '/') {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
