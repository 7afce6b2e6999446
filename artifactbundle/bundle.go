package artifactbundle

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/stacklens/stacklens/symbols"
)

// sourceBundleMagic starts the "source bundle" format sentry-cli writes
// (symbolic's SourceBundleWriter): "SYSB", a u32 LE version, then a zip.
var sourceBundleMagic = []byte("SYSB")

// Limits bound what reading one bundle may cost, whatever its entries claim.
type Limits struct {
	// MaxEntryBytes caps one file of the bundle, uncompressed.
	MaxEntryBytes int64
	// MaxTotalBytes caps all files of the bundle together, uncompressed.
	MaxTotalBytes int64
	// MaxEntries caps the number of entries of the zip.
	MaxEntries int
}

// DefaultLimits derives the bundle limits from the upload cap of one
// source map and its minified file (STACKLENS_MAX_UPLOAD_BYTES).
func DefaultLimits(maxUploadBytes int64) Limits {
	return Limits{MaxEntryBytes: maxUploadBytes, MaxTotalBytes: 4 * maxUploadBytes, MaxEntries: 10000}
}

// File is one file of a bundle as its manifest describes it.
type File struct {
	Path    string            // inside the zip
	Type    string            // minified_source, source_map, source, …
	URL     string            // "~/app.js"
	Headers map[string]string // lowercase names: debug-id, sourcemap
	Data    []byte
}

// DebugID is the file's debug id header, lowercase ("" when it has none).
func (f File) DebugID() string { return NormalizeDebugID(f.Headers["debug-id"]) }

// NormalizeDebugID writes a debug id the one way symbol sets are keyed by:
// trimmed and lowercase (sentry-cli writes UUIDs in lowercase, but SDKs
// copy whatever the bundle carries).
func NormalizeDebugID(id string) string { return strings.ToLower(strings.TrimSpace(id)) }

// Bundle is a read artifact bundle.
type Bundle struct {
	Files []File
	// Attributes of the manifest: org, project, release, dist, debug_id…
	Attributes map[string]string
}

// Problem is a bundle that cannot be used, with the sentence that says why.
type Problem struct{ Message string }

func (p *Problem) Error() string { return p.Message }

func problemf(format string, args ...any) *Problem {
	return &Problem{Message: fmt.Sprintf(format, args...)}
}

type manifestFile struct {
	Type    string            `json:"type"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
}

// Read opens an artifact bundle: a zip (or "SYSB" header and zip) whose
// manifest.json lists its files. Each entry's size is checked while it is
// decompressed, not taken from the zip's headers.
func Read(data []byte, limits Limits) (Bundle, error) {
	zr, err := openZip(data)
	if err != nil {
		return Bundle{}, err
	}
	if len(zr.File) > limits.MaxEntries {
		return Bundle{}, problemf("The bundle has %d entries; at most %d are accepted.", len(zr.File), limits.MaxEntries)
	}
	entries := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		entries[f.Name] = f
	}
	var total int64
	read := func(f *zip.File) ([]byte, error) {
		b, err := readEntry(f, min(limits.MaxEntryBytes, limits.MaxTotalBytes-total))
		total += int64(len(b))
		return b, err
	}
	mf, ok := entries["manifest.json"]
	if !ok {
		return Bundle{}, problemf("The bundle has no manifest.json: it is not an artifact bundle written by sentry-cli.")
	}
	raw, err := read(mf)
	if err != nil {
		return Bundle{}, err
	}
	// {"files":{path:{type,url,headers}}, "debug_id", "org", "project", "release", "dist", …};
	// older writers put the attributes under "attributes".
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return Bundle{}, problemf("The bundle's manifest.json is not valid JSON: %v.", err)
	}
	var files map[string]manifestFile
	if err := json.Unmarshal(m["files"], &files); err != nil || files == nil {
		return Bundle{}, problemf("The bundle's manifest.json has no valid \"files\" object.")
	}
	b := Bundle{Attributes: map[string]string{}}
	var nested map[string]json.RawMessage
	if json.Unmarshal(m["attributes"], &nested) == nil {
		for k, v := range nested {
			m[k] = v
		}
	}
	for k, v := range m {
		var s string
		if json.Unmarshal(v, &s) == nil {
			b.Attributes[k] = s
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		info := files[name]
		entry, ok := entries[name]
		if !ok {
			entry, ok = entries[path.Join("files", name)]
		}
		if !ok {
			return Bundle{}, problemf("The manifest lists %s, which is not in the bundle.", name)
		}
		data, err := read(entry)
		if err != nil {
			return Bundle{}, err
		}
		headers := make(map[string]string, len(info.Headers))
		for k, v := range info.Headers {
			headers[strings.ToLower(k)] = v
		}
		b.Files = append(b.Files, File{Path: name, Type: info.Type, URL: info.URL, Headers: headers, Data: data})
	}
	return b, nil
}

func openZip(data []byte) (*zip.Reader, error) {
	candidates := [][]byte{data}
	if bytes.HasPrefix(data, sourceBundleMagic) && len(data) >= 8 {
		// Offsets in the zip may count from the header or from the zip itself.
		candidates = append(candidates, data[8:])
	}
	var err error
	for _, c := range candidates {
		var zr *zip.Reader
		if zr, err = zip.NewReader(bytes.NewReader(c), int64(len(c))); err == nil {
			return zr, nil
		}
	}
	return nil, problemf("The bundle is not a zip archive (%v).", err)
}

// readEntry decompresses one entry, refusing it once it passes limit bytes.
func readEntry(f *zip.File, limit int64) ([]byte, error) {
	if limit <= 0 {
		return nil, problemf("The bundle's files are larger together than stacklens accepts.")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, problemf("%s in the bundle cannot be read: %v.", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		if errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, problemf("%s in the bundle is damaged: %v.", f.Name, err)
		}
		return nil, problemf("%s in the bundle cannot be read: %v.", f.Name, err)
	}
	if int64(len(b)) > limit {
		return nil, problemf("%s in the bundle is larger than the %d MiB stacklens accepts (uncompressed).", f.Name, max(limit>>20, 1))
	}
	return b, nil
}

// Set is what one symbol set is made of: the source map with a debug id,
// and the minified file that carries the same id (when the bundle has it),
// so enclosing-function names can be found.
type Set = symbols.DebugIDUpload

// Sets pairs the bundle's source maps with their minified files by debug
// id (the debug-id header, else the map's own debug_id/debugId field; a
// minified file's sourcemap header names its map too). Files with no
// debug id are returned by URL in withoutID: stacklens matches uploads by
// debug id only.
func (b Bundle) Sets() (sets []Set, withoutID []string) {
	byURL := map[string]File{}
	for _, f := range b.Files {
		byURL[f.URL] = f
	}
	minifiedByID := map[string]File{}
	for _, f := range b.Files {
		if f.Type == "minified_source" && f.DebugID() != "" {
			if _, dup := minifiedByID[f.DebugID()]; !dup {
				minifiedByID[f.DebugID()] = f
			}
		}
	}
	seen := map[string]bool{}
	for _, f := range b.Files {
		if f.Type != "source_map" {
			continue
		}
		id := f.DebugID()
		if id == "" {
			id = NormalizeDebugID(mapDebugID(f.Data))
		}
		if id == "" || seen[id] {
			if id == "" {
				withoutID = append(withoutID, f.URL)
			}
			continue
		}
		seen[id] = true
		s := Set{DebugID: id, MapURL: f.URL, SourceMap: f.Data}
		if m, ok := minifiedByID[id]; ok {
			s.MinifiedURL, s.Minified = m.URL, m.Data
		}
		sets = append(sets, s)
	}
	// A minified file whose map carries no id of its own but is named by its sourcemap header.
	for id, m := range minifiedByID {
		if seen[id] {
			continue
		}
		ref := m.Headers["sourcemap"]
		if ref == "" {
			continue
		}
		mapFile, ok := byURL[resolveRef(m.URL, ref)]
		if !ok || mapFile.Type != "source_map" {
			continue
		}
		seen[id] = true
		sets = append(sets, Set{DebugID: id, MinifiedURL: m.URL, MapURL: mapFile.URL, SourceMap: mapFile.Data, Minified: m.Data})
		withoutID = removeString(withoutID, mapFile.URL)
	}
	for _, f := range b.Files {
		if f.Type == "minified_source" && f.DebugID() == "" {
			withoutID = append(withoutID, f.URL)
		}
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].MinifiedURL+sets[i].MapURL < sets[j].MinifiedURL+sets[j].MapURL })
	return sets, withoutID
}

func mapDebugID(sourceMap []byte) string {
	var ids struct {
		DebugID  string `json:"debug_id"`
		DebugId2 string `json:"debugId"`
	}
	if json.Unmarshal(sourceMap, &ids) != nil {
		return ""
	}
	if ids.DebugID != "" {
		return ids.DebugID
	}
	return ids.DebugId2
}

// resolveRef resolves a sourcemap header (relative or "~/…") against the URL of the file that carries it.
func resolveRef(fileURL, ref string) string {
	if strings.HasPrefix(ref, "~/") || strings.Contains(ref, "://") {
		return ref
	}
	dir := fileURL[:strings.LastIndexByte(fileURL, '/')+1]
	return cleanURLPath(dir + ref)
}

func cleanURLPath(u string) string {
	prefix := ""
	if strings.HasPrefix(u, "~/") {
		prefix, u = "~/", u[2:]
	}
	return prefix + strings.TrimPrefix(path.Clean("/"+u), "/")
}

func removeString(list []string, s string) []string {
	out := list[:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}
