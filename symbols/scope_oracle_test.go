package symbols

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stacklens/stacklens/internal/testkit"
)

// namingCase is a minified file, its map, and where the original text of
// each source can be read (sourcesContent, or files shipped beside it).
type namingCase struct {
	name     string
	minified string
	sm       *SourceMap
	// original returns the path of source i's original text, "" when it
	// is not to be checked.
	original func(i int) string
}

// framePosition is a generated position that maps onto a call in the
// original source, where a stack frame would point, and the true name of
// the function around it.
type framePosition struct {
	line, column int // generated, column 0-based
	orig         Position
	want         string
}

// oracleFrames finds every generated segment start that maps onto a call
// in the original text, and asks testdata/function_names.mjs (acorn) which
// function the original source says each lies in. Positions at top level
// are left out.
func oracleFrames(t *testing.T, c namingCase) []framePosition {
	t.Helper()
	node := testkit.Node(t)
	modules := testkit.NodeModules(t)
	type request struct {
		File      string   `json:"file"`
		Positions [][2]int `json:"positions"`
	}
	bySource := map[int][]framePosition{}
	for line := 1; line < len(c.sm.lineStart); line++ {
		for _, seg := range c.sm.segments[c.sm.lineStart[line-1]:c.sm.lineStart[line]] {
			if seg.Source < 0 {
				continue
			}
			pos, ok := c.sm.Lookup(line, int(seg.GenColumn))
			if !ok {
				continue
			}
			bySource[pos.SourceIndex] = append(bySource[pos.SourceIndex], framePosition{line: line, column: int(seg.GenColumn), orig: pos})
		}
	}
	var sources []int
	for i := range bySource {
		if c.original(i) != "" {
			sources = append(sources, i)
		}
	}
	sort.Ints(sources)
	reqs := make([]request, len(sources))
	for k, i := range sources {
		reqs[k].File = c.original(i)
		for _, f := range bySource[i] {
			reqs[k].Positions = append(reqs[k].Positions, [2]int{f.orig.Line, f.orig.Column})
		}
	}
	input, err := json.Marshal(reqs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "testdata/function_names.mjs", filepath.Dir(modules))
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("function_names.mjs: %v\n%s", err, stderr.String())
	}
	var answers [][]*struct {
		Call bool    `json:"call"`
		Name *string `json:"name"`
	}
	if err := json.Unmarshal(out, &answers); err != nil || len(answers) != len(sources) {
		t.Fatalf("function_names.mjs answered %d of %d files: %v", len(answers), len(sources), err)
	}
	var frames []framePosition
	parsed := 0
	for k, i := range sources {
		if len(answers[k]) > 0 && answers[k][0] != nil {
			parsed++
		}
		for j, a := range answers[k] {
			if a == nil || !a.Call || a.Name == nil {
				continue
			}
			f := bySource[i][j]
			f.want = *a.Name
			frames = append(frames, f)
		}
	}
	if parsed < len(sources) {
		t.Logf("%s: %d of %d original sources parse", c.name, parsed, len(sources))
	}
	return frames
}

// namingScore counts how EnclosingFunction compares with the original
// sources' own names: right, missing (no name where the source has one)
// and wrong (a name the source does not give that function).
type namingScore struct {
	frames, right, missing, wrong int
	examples                      []string
}

func (s namingScore) String() string {
	return fmt.Sprintf("%d frames: %d right, %d without a name, %d named wrong", s.frames, s.right, s.missing, s.wrong)
}

func checkNaming(c namingCase, frames []framePosition, minified string) namingScore {
	var s namingScore
	for _, f := range frames {
		s.frames++
		got := c.sm.EnclosingFunction(minified, f.line, f.column)
		switch {
		case got == f.want:
			s.right++
			continue
		case got == "":
			s.missing++
		default:
			s.wrong++
		}
		if len(s.examples) < 20 {
			s.examples = append(s.examples, fmt.Sprintf("%d:%d → %s:%d:%d: %q, the source says %q", f.line, f.column,
				c.sm.sources[f.orig.SourceIndex], f.orig.Line, f.orig.Column, got, f.want))
		}
	}
	return s
}

// writeSourcesContent writes each embedded source to a file for the oracle.
func writeSourcesContent(t *testing.T, m *SourceMap) func(i int) string {
	t.Helper()
	dir := t.TempDir()
	return func(i int) string {
		content, ok := m.SourceContent(i)
		if !ok {
			return ""
		}
		path := filepath.Join(dir, fmt.Sprintf("%d.js", i))
		if _, err := os.Stat(path); err != nil {
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return path
	}
}
