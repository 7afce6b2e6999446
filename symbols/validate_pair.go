package symbols

import (
	"bytes"
	"encoding/json"
	"net/url"
	"path"
	"strings"
)

// UploadFile is one file of a bulk upload; Name may include folders (a
// dropped build folder keeps its relative paths).
type UploadFile struct {
	Name string
	Data []byte
}

// PairTarget is a symbol set waiting for a map.
type PairTarget struct {
	ID   int64
	Ref  string
	Kind RefKind
}

// Pair is a source map (and its minified file when one was uploaded)
// matched to a symbol set, with how the match was made.
type Pair struct {
	Target       PairTarget
	MapName      string
	MinifiedName string
	MatchedBy    string
	Map          []byte
	Minified     []byte
}

// ChunkIDComment returns the id of the last `//# chunkId=` comment that
// `posthog-cli sourcemap inject` appends (or `//# debugId=` from
// sentry-cli), "" when there is none.
func ChunkIDComment(src []byte) string {
	for _, marker := range []string{"//# chunkId=", "//# debugId="} {
		i := bytes.LastIndex(src, []byte(marker))
		if i < 0 {
			continue
		}
		rest := src[i+len(marker):]
		if j := bytes.IndexAny(rest, "\r\n"); j >= 0 {
			rest = rest[:j]
		}
		if id := strings.TrimSpace(string(rest)); id != "" {
			return id
		}
	}
	return ""
}

// MapChunkID returns the chunk id (or debug id) a source map carries.
func MapChunkID(sourceMap []byte) string {
	var ids struct {
		ChunkID  string `json:"chunk_id"`
		DebugID  string `json:"debug_id"`
		DebugId2 string `json:"debugId"`
	}
	if json.Unmarshal(StripMapPrefix(sourceMap), &ids) != nil {
		return ""
	}
	return firstOf(ids.ChunkID, ids.DebugID, ids.DebugId2)
}

type jsFile struct {
	UploadFile
	chunkID string
	mapRef  string // as written in the sourceMappingURL comment
}

// PairUploads matches uploaded .js and .map files to symbol sets that miss
// a map: by chunk id (the map's chunk_id field, or the minified file's
// `//# chunkId=` comment), else by file name (the URL's last path segment
// is the minified file; its map is the one its sourceMappingURL comment
// names, else <name>.map). Files that match nothing are returned by name.
func PairUploads(targets []PairTarget, files []UploadFile) (pairs []Pair, unpaired []string) {
	maps := map[string]UploadFile{} // by base name
	var mapOrder []UploadFile
	var scripts []jsFile
	for _, f := range files {
		if strings.HasSuffix(strings.ToLower(f.Name), ".map") || looksLikeSourceMap(f.Data) {
			base := path.Base(f.Name)
			if _, dup := maps[base]; !dup {
				maps[base] = f
			}
			mapOrder = append(mapOrder, f)
			continue
		}
		ref, _ := mapRefFromComment(f.Data)
		scripts = append(scripts, jsFile{UploadFile: f, chunkID: ChunkIDComment(f.Data), mapRef: ref})
	}
	used := map[string]bool{}
	mapOf := func(js jsFile) (UploadFile, string, bool) {
		if js.mapRef != "" {
			if isDataURL(js.mapRef) {
				if b, err := decodeDataURL(js.mapRef); err == nil {
					return UploadFile{Name: path.Base(js.Name) + " (inline map)", Data: b}, "the inline sourceMappingURL of " + js.Name, true
				}
			} else if m, ok := maps[refBase(js.mapRef)]; ok {
				return m, "the sourceMappingURL comment of " + js.Name, true
			}
		}
		if m, ok := maps[path.Base(js.Name)+".map"]; ok {
			return m, "file name", true
		}
		return UploadFile{}, "", false
	}
	for _, t := range targets {
		var p *Pair
		switch t.Kind {
		case RefChunkID, RefDebugID:
			for _, js := range scripts {
				if js.chunkID == t.Ref {
					if m, _, ok := mapOf(js); ok {
						p = &Pair{Target: t, MapName: m.Name, Map: m.Data, MinifiedName: js.Name, Minified: js.Data,
							MatchedBy: "the //# chunkId= comment of " + js.Name}
						break
					}
				}
			}
			if p == nil {
				for _, m := range mapOrder {
					if MapChunkID(m.Data) == t.Ref {
						p = &Pair{Target: t, MapName: m.Name, Map: m.Data, MatchedBy: "the chunk_id of " + m.Name}
						break
					}
				}
			}
		case RefURL:
			base := refBase(t.Ref)
			if base == "" {
				continue
			}
			for _, js := range scripts {
				if path.Base(js.Name) != base {
					continue
				}
				if m, how, ok := mapOf(js); ok {
					p = &Pair{Target: t, MapName: m.Name, Map: m.Data, MinifiedName: js.Name, Minified: js.Data, MatchedBy: how}
					break
				}
			}
			if p == nil {
				if m, ok := maps[base+".map"]; ok {
					p = &Pair{Target: t, MapName: m.Name, Map: m.Data, MatchedBy: "file name"}
				}
			}
		}
		if p != nil {
			used[p.MapName], used[p.MinifiedName] = true, true
			pairs = append(pairs, *p)
		}
	}
	for _, f := range files {
		if !used[f.Name] {
			unpaired = append(unpaired, f.Name)
		}
	}
	return pairs, unpaired
}

// refBase is the last path segment of a URL or relative reference.
func refBase(ref string) string {
	if u, err := url.Parse(ref); err == nil && u.Path != "" {
		return path.Base(u.Path)
	}
	return path.Base(ref)
}
