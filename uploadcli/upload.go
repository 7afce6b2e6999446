package uploadcli

import (
	"crypto/sha512"
	"encoding/hex"
	"fmt"

	"github.com/stacklens/stacklens/symbols"
)

// Upload is one symbol set ready to send: the blob posthog-cli would upload
// for a pair, and what bulk_start_upload is told about it.
type Upload struct {
	Path        string // the minified file, for messages
	ChunkID     string
	ReleaseID   *string
	Data        []byte
	ContentHash string // SHA-512 hex of Data
}

// maxUploadBytes is posthog-cli's limit; larger sets are skipped.
const maxUploadBytes = 100 << 20

// BuildUpload makes the upload of an injected pair. With a release, the map
// carries it as release_id (posthog-cli's symbol-set release mode stamps the
// map it uploads the same way); the files on disk are not changed.
func BuildUpload(p *Pair, release string) (Upload, error) {
	id, ok := ChunkIDOf(p.Source)
	if !ok {
		return Upload{}, fmt.Errorf("%s has no chunk id: run 'stacklens sourcemap inject' before 'upload', or 'process' to do both", p.JSPath)
	}
	m := *p.Map
	var rel *string
	if release != "" {
		rel = &release
		m.ReleaseID = rel
	} else {
		rel = m.ReleaseID
	}
	data := symbols.EncodeUploadBlob(2, true, []byte(p.Source), m.Bytes())
	sum := sha512.Sum512(data)
	return Upload{Path: p.JSPath, ChunkID: id, ReleaseID: rel, Data: data, ContentHash: hex.EncodeToString(sum[:])}, nil
}

// isEmpty reports a map with nothing to symbolicate (no mappings, sources or
// names); posthog-cli skips those.
func (m *SourceMap) isEmpty() bool {
	mappings, _ := m.Fields["mappings"].(string)
	sources, _ := m.Fields["sources"].([]any)
	names, _ := m.Fields["names"].([]any)
	return mappings == "" && len(sources) == 0 && len(names) == 0
}

// BuildUploads makes the uploads of every pair, at most one per chunk id, and
// lists the pairs left out (empty maps, too large).
func BuildUploads(pairs []*Pair, release string) ([]Upload, []Skipped, error) {
	var out []Upload
	var skipped []Skipped
	seen := map[string]bool{}
	for _, p := range pairs {
		if p.Map.isEmpty() {
			skipped = append(skipped, Skipped{Path: p.JSPath, Reason: "its source map is empty"})
			continue
		}
		u, err := BuildUpload(p, release)
		if err != nil {
			return nil, nil, err
		}
		if seen[u.ChunkID] {
			skipped = append(skipped, Skipped{Path: p.JSPath, Reason: "another file has the same chunk id " + u.ChunkID})
			continue
		}
		seen[u.ChunkID] = true
		if len(u.Data) > maxUploadBytes {
			skipped = append(skipped, Skipped{Path: p.JSPath, Reason: fmt.Sprintf("its upload is %d bytes, over the %d limit", len(u.Data), maxUploadBytes)})
			continue
		}
		out = append(out, u)
	}
	return out, skipped, nil
}
