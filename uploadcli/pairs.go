package uploadcli

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Pair is a minified file and its source map, read from disk.
type Pair struct {
	JSPath  string
	MapPath string
	Source  string     // the minified file
	Map     *SourceMap // its map
}

// Skipped says why a file found in the build was left out.
type Skipped struct {
	Path   string
	Reason string
}

// FindPairs walks every directory (or file) given, recursively, and returns
// each .js, .mjs and .cjs file that has a source map, in walk order. Files
// without a map, or whose file or map cannot be read, are returned as skipped,
// as posthog-cli skips them with a warning.
func FindPairs(roots []string) ([]*Pair, []Skipped, error) {
	var pairs []*Pair
	var skipped []Skipped
	seen := map[string]bool{}
	for _, root := range roots {
		if _, err := os.Stat(root); err != nil {
			return nil, nil, fmt.Errorf("%s does not exist", root)
		}
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // unreadable entries are skipped, as walkdir's errors are
			}
			if !d.Type().IsRegular() || !isJavaScript(path) {
				return nil
			}
			real, err := filepath.EvalSymlinks(path)
			if err != nil {
				return nil
			}
			real, _ = filepath.Abs(real)
			if seen[real] {
				return nil
			}
			seen[real] = true
			p, why := readPair(path)
			if p == nil {
				skipped = append(skipped, Skipped{Path: path, Reason: why})
				return nil
			}
			pairs = append(pairs, p)
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("walk %s: %w", root, err)
		}
	}
	return pairs, skipped, nil
}

func isJavaScript(path string) bool {
	switch filepath.Ext(path) {
	case ".js", ".mjs", ".cjs":
		return true
	}
	return false
}

func readPair(jsPath string) (*Pair, string) {
	src, err := os.ReadFile(jsPath)
	if err != nil {
		return nil, "cannot be read: " + err.Error()
	}
	if !validUTF8(src) {
		return nil, "is not UTF-8"
	}
	mapPath, err := findMapPath(jsPath, string(src))
	if err != nil {
		return nil, err.Error()
	}
	if mapPath == "" {
		return nil, "has no source map"
	}
	raw, err := os.ReadFile(mapPath)
	if err != nil {
		return nil, fmt.Sprintf("its source map %s cannot be read: %v", mapPath, err)
	}
	m, err := ParseSourceMap(raw)
	if err != nil {
		return nil, fmt.Sprintf("its source map %s is not valid: %v", mapPath, err)
	}
	return &Pair{JSPath: jsPath, MapPath: mapPath, Source: string(src), Map: m}, ""
}

// findMapPath tries the file's sourceMappingURL (percent-decoded, resolved
// beside the file), then <file>.map; the first that exists wins.
func findMapPath(jsPath, src string) (string, error) {
	var candidates []string
	if ref, ok := sourceMappingURL(src); ok {
		decoded, err := url.PathUnescape(strings.ReplaceAll(ref, "+", "%2B"))
		if err != nil {
			return "", fmt.Errorf("its sourceMappingURL %q cannot be decoded", ref)
		}
		if filepath.IsAbs(decoded) {
			candidates = append(candidates, decoded)
		} else {
			candidates = append(candidates, filepath.Join(filepath.Dir(jsPath), decoded))
		}
	}
	candidates = append(candidates, jsPath+".map")
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	return "", nil
}
