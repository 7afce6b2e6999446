package symbols

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/stacklens/stacklens/symbols/mappings"
)

// SourceMap is a parsed, validated source map (plain or index map). It is
// immutable after ParseSourceMap and safe for concurrent use.
//
// We decode the mappings ourselves instead of answering through
// github.com/go-sourcemap/sourcemap: v2.1.4 returns stale mappings for
// columns before a line's first segment and for lines without segments,
// mishandles index maps with column offsets, ignores ignoreList and can
// panic on an out-of-range source index. Checking each of its answers would
// need the per-line segment table anyway, so we keep that table (compact,
// binary-searched) as the single answer and use go-sourcemap as an
// independent cross-check in the tests, beside @jridgewell/trace-mapping.
type SourceMap struct {
	file     string
	sources  []string // resolved like trace-mapping resolves them
	rawNames []string // sources as written (with sourceRoot prefix), for lookups by raw name
	contents []json.RawMessage
	names    []string
	ignored  []bool

	// lineStart[i]..lineStart[i+1] indexes segments of generated line i (0-based).
	lineStart []uint32
	segments  []segment
	// columns repeats segments[i].GenColumn densely: the binary search
	// touches 16 columns per cache line instead of 3 segments.
	columns []int32
	// blocks samples every blockSize-th column of each line (line i's
	// samples are blocks[blockStart[i]:blockStart[i+1]]): a first search in
	// this small, cache-resident array narrows the search to one block.
	blocks     []int32
	blockStart []uint32

	// sourceIndex finds a source by name, for resolutions stored before
	// they recorded the index; two sources may share a name, so every
	// other lookup goes by index.
	sourceIndex map[string]int
	sizeBytes   int64

	scopes scopeCache
}

// segment is one decoded mapping (see package mappings).
type segment = mappings.Segment

// Position is an original position.
type Position struct {
	Source string
	Line   int // 1-based
	Column int // 0-based
	Name   string
	// SourceIndex is Source's index in the map's sources: the way to its
	// content, since two sources may have the same name (or none).
	SourceIndex int
}

// ErrInvalidSourceMap is wrapped by every ParseSourceMap error.
var ErrInvalidSourceMap = errors.New("invalid source map")

type rawSourceMap struct {
	Version           *int              `json:"version"`
	File              string            `json:"file"`
	SourceRoot        string            `json:"sourceRoot"`
	Sources           []*string         `json:"sources"`
	SourcesContent    []json.RawMessage `json:"sourcesContent"`
	Names             []string          `json:"names"`
	Mappings          *string           `json:"mappings"`
	Sections          []rawSection      `json:"sections"`
	IgnoreList        []int             `json:"ignoreList"`
	XGoogleIgnoreList []int             `json:"x_google_ignoreList"`
}

type rawSection struct {
	Offset *struct {
		Line   int `json:"line"`
		Column int `json:"column"`
	} `json:"offset"`
	Map json.RawMessage `json:"map"`
	URL string          `json:"url"`
}

// ParseSourceMap parses and validates a version 3 source map: the JSON, the
// version, every mapping and every source and name index. A BOM and the
// ")]}'" XSSI line before the JSON are skipped (StripMapPrefix). Index maps
// (`sections`) are flattened the way trace-mapping's FlattenMap does it.
// Every failure, including a panic, becomes an error wrapping
// ErrInvalidSourceMap.
func ParseSourceMap(data []byte) (m *SourceMap, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w: parser panic: %v", ErrInvalidSourceMap, r)
		}
	}()
	raw, err := parseRawSourceMap(StripMapPrefix(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSourceMap, err)
	}
	b := &mapBuilder{}
	if err := b.add(raw, 0, 0, 0, maxGenerated, maxGenerated); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSourceMap, err)
	}
	if raw.Sections != nil {
		// trace-mapping resolves section sources once per section and once
		// more when it builds the flattened map.
		for i, s := range b.sources {
			b.sources[i] = resolveSourceName(s)
		}
	}
	return b.finish(raw.File), nil
}

// maxGenerated stands for "no stop position" when flattening sections.
const maxGenerated = mappings.MaxValue

// maxSectionLine bounds section line offsets (real bundles have far fewer lines).
const maxSectionLine = 1 << 22

// maxSectionDepth bounds nested index maps so junk cannot recurse forever.
const maxSectionDepth = 8

// mapBuilder accumulates the flattened map: sources, names and per-line
// segments of every section.
type mapBuilder struct {
	sources  []string
	rawNames []string
	contents []json.RawMessage
	names    []string
	ignored  []bool
	// lines collects the segments of index-map sections; plain is the
	// decoded table of a plain map.
	lines [][]segment
	plain *mappings.Mappings
}

func (b *mapBuilder) add(raw *rawSourceMap, depth, lineOffset, columnOffset, stopLine, stopColumn int) error {
	if raw.Version == nil || *raw.Version != 3 {
		if raw.Version == nil {
			return errors.New("missing version")
		}
		return fmt.Errorf("unsupported version %d", *raw.Version)
	}
	if raw.Sections != nil {
		return b.addSections(raw, depth, lineOffset, columnOffset, stopLine, stopColumn)
	}
	if raw.Mappings == nil {
		return errors.New("missing mappings")
	}
	sourceOffset, nameOffset := len(b.sources), len(b.names)
	b.appendSources(raw)
	b.names = append(b.names, raw.Names...)

	decoded, err := mappings.Decode(*raw.Mappings, len(raw.Sources), len(raw.Names))
	if err != nil {
		return err
	}
	if depth == 0 {
		// A plain map: the decoded table is the answer, no copy needed.
		b.plain = &decoded
		return nil
	}
	for i := range decoded.Lines() {
		line := decoded.Line(i)
		genLine := lineOffset + i
		if genLine > stopLine {
			break
		}
		for len(b.lines) <= genLine {
			b.lines = append(b.lines, nil)
		}
		shift := 0
		if i == 0 {
			shift = columnOffset
		}
		for _, s := range line {
			column := int(s.GenColumn) + shift
			if genLine == stopLine && column >= stopColumn {
				return nil
			}
			if column > maxGenerated {
				return fmt.Errorf("generated column %d out of range", column)
			}
			s.GenColumn = int32(column)
			if s.Source >= 0 {
				s.Source += int32(sourceOffset)
				if s.Name >= 0 {
					s.Name += int32(nameOffset)
				}
			}
			b.lines[genLine] = append(b.lines[genLine], s)
		}
	}
	return nil
}

func (b *mapBuilder) appendSources(raw *rawSourceMap) {
	first := len(b.sources)
	for i, s := range raw.Sources {
		name := ""
		if s != nil {
			name = *s
		}
		// trace-mapping treats a non-empty sourceRoot as a directory.
		if raw.SourceRoot != "" {
			name = raw.SourceRoot + "/" + name
		}
		b.rawNames = append(b.rawNames, name)
		b.sources = append(b.sources, resolveSourceName(name))
		var content json.RawMessage
		if i < len(raw.SourcesContent) {
			content = raw.SourcesContent[i]
		}
		b.contents = append(b.contents, content)
		b.ignored = append(b.ignored, false)
	}
	ignore := raw.IgnoreList
	if ignore == nil {
		ignore = raw.XGoogleIgnoreList
	}
	for _, idx := range ignore {
		if idx >= 0 && idx < len(raw.Sources) {
			b.ignored[first+idx] = true
		}
	}
}

func (b *mapBuilder) addSections(raw *rawSourceMap, depth, lineOffset, columnOffset, stopLine, stopColumn int) error {
	if depth >= maxSectionDepth {
		return errors.New("index maps nested too deeply")
	}
	for i, sec := range raw.Sections {
		if sec.Offset == nil {
			return fmt.Errorf("section %d: missing offset", i)
		}
		// Offsets are bounded so a tiny map cannot make us allocate
		// billions of empty lines.
		if sec.Offset.Line < 0 || sec.Offset.Column < 0 || lineOffset+sec.Offset.Line > maxSectionLine || sec.Offset.Column > maxGenerated {
			return fmt.Errorf("section %d: offset %d:%d out of range", i, sec.Offset.Line, sec.Offset.Column)
		}
		if sec.Map == nil {
			if sec.URL != "" {
				return fmt.Errorf("section %d: sections referring to a url are not supported", i)
			}
			return fmt.Errorf("section %d: missing map", i)
		}
		sl, sc := stopLine, stopColumn
		if i+1 < len(raw.Sections) && raw.Sections[i+1].Offset != nil {
			next := raw.Sections[i+1].Offset
			sl = min(stopLine, lineOffset+next.Line)
			if sl == stopLine {
				sc = min(stopColumn, columnOffset+next.Column)
			} else if sl < stopLine {
				sc = columnOffset + next.Column
			}
		}
		inner, err := parseRawSourceMap(sec.Map)
		if err != nil {
			return fmt.Errorf("section %d: %v", i, err)
		}
		if err := b.add(inner, depth+1, lineOffset+sec.Offset.Line, columnOffset+sec.Offset.Column, sl, sc); err != nil {
			return fmt.Errorf("section %d: %w", i, err)
		}
	}
	return nil
}

func (b *mapBuilder) finish(file string) *SourceMap {
	m := &SourceMap{
		file:        file,
		rawNames:    b.rawNames,
		contents:    b.contents,
		names:       b.names,
		ignored:     b.ignored,
		sourceIndex: make(map[string]int, 2*len(b.sources)),
	}
	m.sources = b.sources
	if b.plain != nil {
		m.segments, m.lineStart = b.plain.Segments, b.plain.LineStart
	} else {
		total := 0
		for _, line := range b.lines {
			total += len(line)
		}
		m.segments = make([]segment, 0, total)
		m.lineStart = make([]uint32, 0, len(b.lines)+1)
		for _, line := range b.lines {
			m.lineStart = append(m.lineStart, uint32(len(m.segments)))
			m.segments = append(m.segments, line...)
		}
		m.lineStart = append(m.lineStart, uint32(len(m.segments)))
	}
	// Like trace-mapping, sort lines whose segments are out of order (stable,
	// so equal columns keep their order).
	for i := 0; i+1 < len(m.lineStart); i++ {
		line := m.segments[m.lineStart[i]:m.lineStart[i+1]]
		if !sortedByColumn(line) {
			sort.SliceStable(line, func(i, j int) bool { return line[i].GenColumn < line[j].GenColumn })
		}
	}
	m.columns = make([]int32, len(m.segments))
	for i := range m.segments {
		m.columns[i] = m.segments[i].GenColumn
	}
	m.blockStart = make([]uint32, 0, len(m.lineStart))
	for i := 0; i+1 < len(m.lineStart); i++ {
		m.blockStart = append(m.blockStart, uint32(len(m.blocks)))
		for j := m.lineStart[i]; j < m.lineStart[i+1]; j += blockSize {
			m.blocks = append(m.blocks, m.columns[j])
		}
	}
	m.blockStart = append(m.blockStart, uint32(len(m.blocks)))
	for i := len(m.sources) - 1; i >= 0; i-- {
		m.sourceIndex[m.rawNames[i]] = i
	}
	for i := len(m.sources) - 1; i >= 0; i-- {
		m.sourceIndex[m.sources[i]] = i
	}
	m.sizeBytes = m.estimateSize()
	return m
}

func sortedByColumn(line []segment) bool {
	for i := 1; i < len(line); i++ {
		if line[i].GenColumn < line[i-1].GenColumn {
			return false
		}
	}
	return true
}

func (m *SourceMap) estimateSize() int64 {
	const stringHeader, sliceHeader = 16, 24
	n := int64(256)
	n += int64(cap(m.segments))*20 + int64(cap(m.columns))*4
	n += int64(cap(m.blocks))*4 + int64(cap(m.blockStart))*4
	n += int64(cap(m.lineStart)) * 4
	for i := range m.sources {
		n += 2*stringHeader + int64(len(m.sources[i])+len(m.rawNames[i]))
		n += sliceHeader + int64(len(m.contents[i])) + 1
		n += 48 // two map entries
	}
	for _, s := range m.names {
		n += stringHeader + int64(len(s))
	}
	n += int64(len(m.file))
	return n
}

// Lookup returns the original position of a generated position, line
// 1-based and column 0-based, with the semantics of trace-mapping's
// originalPositionFor (GREATEST_LOWER_BOUND): the last segment of the line
// starting at or before column (the first of several at the same column).
// ok is false where trace-mapping returns null: no such line, a column
// before the line's first segment, or a segment that maps to nothing.
func (m *SourceMap) Lookup(line, column int) (Position, bool) {
	seg, ok := m.segmentAt(line, column)
	if !ok || seg.Source < 0 {
		return Position{}, false
	}
	p := Position{Source: m.sources[seg.Source], SourceIndex: int(seg.Source), Line: int(seg.OrigLine) + 1, Column: int(seg.OrigColumn)}
	if seg.Name >= 0 {
		p.Name = m.names[seg.Name]
	}
	return p, true
}

func (m *SourceMap) segmentAt(line, column int) (segment, bool) {
	if line < 1 || column < 0 || line >= len(m.lineStart) {
		return segment{}, false
	}
	first, end := int(m.lineStart[line-1]), int(m.lineStart[line])
	columns := m.columns[first:end]
	lo, hi := 0, len(columns)
	if len(columns) > blockSize {
		blocks := m.blocks[m.blockStart[line-1]:m.blockStart[line]]
		b := lastAtOrBefore(blocks, column)
		if b < 0 {
			return segment{}, false
		}
		lo, hi = b*blockSize, min((b+1)*blockSize, len(columns))
	}
	// First segment starting after column; the one before it is the answer.
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if int(columns[mid]) <= column {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	i := lo - 1
	if i < 0 {
		return segment{}, false
	}
	if int(columns[i]) == column {
		for i > 0 && columns[i-1] == columns[i] {
			i--
		}
	}
	return m.segments[first+i], true
}

// blockSize is the number of columns per sample in SourceMap.blocks.
const blockSize = 32

// lastAtOrBefore returns the index of the last value <= column, or -1.
func lastAtOrBefore(values []int32, column int) int {
	lo, hi := 0, len(values)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if int(values[mid]) <= column {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo - 1
}

// Sources lists the resolved source names, in map order.
func (m *SourceMap) Sources() []string {
	return append([]string(nil), m.sources...)
}

// HasSourcesContent reports whether at least one source carries its content.
func (m *SourceMap) HasSourcesContent() bool {
	for _, c := range m.contents {
		if isJSONString(c) {
			return true
		}
	}
	return false
}

// SourceContent returns the embedded content of the source at index i
// (Position.SourceIndex).
func (m *SourceMap) SourceContent(i int) (string, bool) {
	if i < 0 || i >= len(m.contents) || !isJSONString(m.contents[i]) {
		return "", false
	}
	var s string
	if err := json.Unmarshal(m.contents[i], &s); err != nil {
		return "", false
	}
	return s, true
}

// Ignored reports whether the map's ignoreList (or x_google_ignoreList)
// marks the source at index i as third-party code to hide.
func (m *SourceMap) Ignored(i int) bool {
	return i >= 0 && i < len(m.ignored) && m.ignored[i]
}

// FindSource returns the index of a source given its name and, when known,
// the index it was resolved at: the index when it still names that source,
// else the first source of that name (resolved as in Position.Source, or as
// written in the map). A resolution stored before indexes were recorded
// carries index 0 and so finds its source by name, as it did then.
func (m *SourceMap) FindSource(name string, index int) (int, bool) {
	if index >= 0 && index < len(m.sources) && m.sources[index] == name {
		return index, true
	}
	i, ok := m.sourceIndex[name]
	return i, ok
}

// File is the map's `file` field.
func (m *SourceMap) File() string { return m.file }

// SizeBytes approximates the memory the parsed map holds, for a
// byte-bounded cache.
func (m *SourceMap) SizeBytes() int64 { return m.sizeBytes }

func isJSONString(raw json.RawMessage) bool {
	return len(raw) > 0 && raw[0] == '"'
}

// scopeCache remembers the function scopes of the last minified file and of
// original sources, so that resolving many frames of one bundle tokenizes it
// once.
type scopeCache struct {
	mu        sync.Mutex
	minified  string
	minScopes *scopeIndex
	originals map[int]*scopeIndex
}
