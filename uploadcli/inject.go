package uploadcli

import (
	"errors"
	"fmt"
	"os"

	"github.com/google/uuid"
)

// ErrNoFiles is returned when a build holds no minified file with a map.
var ErrNoFiles = errors.New("no minified .js, .mjs or .cjs file with a source map was found")

// InjectResult lists what Inject did to each pair.
type InjectResult struct {
	Pairs    []*Pair
	Injected []*Pair // got a new chunk id
	Kept     []*Pair // already carried one
	Skipped  []Skipped
}

// NewChunkID makes a chunk id as posthog-cli's default release mode does: a
// UUIDv7.
func NewChunkID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("make a chunk id: %w", err)
	}
	return id.String(), nil
}

// Inject gives every pair under roots a chunk id (from newID) and writes the
// files back. A pair whose minified file already has one keeps it; its map is
// still rewritten in posthog-cli's form, which leaves an already written map
// unchanged.
func Inject(roots []string, newID func() (string, error)) (*InjectResult, error) {
	pairs, skipped, err := FindPairs(roots)
	if err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, ErrNoFiles
	}
	res := &InjectResult{Pairs: pairs, Skipped: skipped}
	for _, p := range pairs {
		if _, ok := ChunkIDOf(p.Source); ok {
			res.Kept = append(res.Kept, p)
			continue
		}
		id, err := newID()
		if err != nil {
			return res, err
		}
		if err := p.addChunkID(id); err != nil {
			return res, fmt.Errorf("%s: %w", p.MapPath, err)
		}
		res.Injected = append(res.Injected, p)
	}
	for _, p := range pairs {
		if err := p.save(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// addChunkID injects id into the pair in memory. A map that already has a
// chunk id is shared with another file that was injected first: it was
// shifted then and is left alone, as posthog-cli does.
func (p *Pair) addChunkID(id string) error {
	lines := generatedLineCount(p.Source)
	shift := uint32(len(Snippet(id)))
	if p.Map.ChunkID == nil {
		if err := p.Map.shiftForPrepend(shift, lines); err != nil {
			return err
		}
		p.Map.ChunkID = &id
	}
	p.Source = InjectSource(p.Source, id)
	return nil
}

func (p *Pair) save() error {
	if err := writeKeepingMode(p.JSPath, []byte(p.Source)); err != nil {
		return err
	}
	return writeKeepingMode(p.MapPath, p.Map.Bytes())
}

func writeKeepingMode(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
