package symbols

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stacklens/stacklens/internal/testkit"
)

// The benchmarks parse a large real map (~30 MB): esbuild bundling several
// big libraries from e2e/node_modules. The bundle is built once and cached
// under os.TempDir(), keyed by the esbuild version. Reproduce with:
//
//	go test ./symbols -run '^$' -bench SourceMap -benchtime 3x
//
// BenchmarkSourceMapVersusNode also runs testdata/bench.mjs on the same map
// and positions and reports trace-mapping's and mozilla source-map's
// numbers beside ours.

const bigBundleEntry = `export * as webpack from 'webpack';
export * as rollup from 'rollup';
export * as terser from 'terser';
export * as posthog from 'posthog-js';
export * as posthogNode from 'posthog-node';
export * as sourceMap from 'source-map';
export * as acorn from 'acorn';
export * as ajv from 'ajv';
`

// bigMap returns the path of the large map, building it if needed.
func bigMap(b *testing.B) string {
	b.Helper()
	modules := testkit.NodeModules(b)
	var pkg struct{ Version string }
	raw, err := os.ReadFile(filepath.Join(modules, "esbuild", "package.json"))
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(os.TempDir(), "stacklens-bench-sourcemap-esbuild-"+pkg.Version)
	mapPath := filepath.Join(dir, "out", "big.js.map")
	if _, err := os.Stat(mapPath); err == nil {
		return mapPath
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.js"), []byte(bigBundleEntry), 0o644); err != nil {
		b.Fatal(err)
	}
	link := filepath.Join(dir, "node_modules")
	if _, err := os.Lstat(link); err != nil {
		if err := os.Symlink(modules, link); err != nil {
			b.Fatal(err)
		}
	}
	// Build into a scratch name and rename, so an interrupted build is not cached.
	cmd := exec.Command(filepath.Join(modules, ".bin", "esbuild"), "big.js", "--bundle", "--minify", "--sourcemap",
		"--platform=node", "--format=esm", "--log-level=error",
		"--external:@napi-rs/image", "--external:sharp", "--external:svgo", "--outfile=tmp/big.js")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("esbuild: %v\n%s", err, out)
	}
	if err := os.Rename(filepath.Join(dir, "tmp"), filepath.Join(dir, "out")); err != nil {
		b.Fatal(err)
	}
	return mapPath
}

func loadBigMap(b *testing.B) ([]byte, *SourceMap, [][2]int) {
	b.Helper()
	data, err := os.ReadFile(bigMap(b))
	if err != nil {
		b.Fatal(err)
	}
	m, err := ParseSourceMap(data)
	if err != nil {
		b.Fatal(err)
	}
	return data, m, randomPositions(m, 10000, 7)
}

func BenchmarkSourceMapParse(b *testing.B) {
	data, _, _ := loadBigMap(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseSourceMap(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSourceMapLookup: one op is 10,000 lookups.
func BenchmarkSourceMapLookup(b *testing.B) {
	_, m, positions := loadBigMap(b)
	hits := 0
	for b.Loop() {
		for _, p := range positions {
			if _, ok := m.Lookup(p[0], p[1]); ok {
				hits++
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(positions)), "ns/lookup")
	b.ReportMetric(float64(m.SizeBytes())/1e6, "parsed-MB")
}

// BenchmarkSourceMapVersusNode measures cold parse and 10,000 lookups here
// and in Node (trace-mapping, mozilla source-map) on the same map and
// positions, reporting medians in milliseconds and our speed-ups.
func BenchmarkSourceMapVersusNode(b *testing.B) {
	node := testkit.Node(b)
	modules := testkit.NodeModules(b)
	data, _, positions := loadBigMap(b)
	posPath := filepath.Join(b.TempDir(), "positions.json")
	raw, err := json.Marshal(positions)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(posPath, raw, 0o644); err != nil {
		b.Fatal(err)
	}
	// Go and Node take turns, so load from other processes on this shared
	// machine hits both alike; the best time of each side is compared.
	const rounds, runs = 3, 3
	for b.Loop() {
		var goParse, goLookups, tmParse, tmLookups, smParse, smLookups []float64
		for range rounds {
			for range runs {
				start := time.Now()
				m, err := ParseSourceMap(data)
				if err != nil {
					b.Fatal(err)
				}
				goParse = append(goParse, ms(time.Since(start)))
				for range 5 {
					start = time.Now()
					for _, p := range positions {
						m.Lookup(p[0], p[1])
					}
					goLookups = append(goLookups, ms(time.Since(start)))
				}
			}
			cmd := exec.Command(node, "testdata/bench.mjs", filepath.Dir(modules), bigMap(b), posPath, fmt.Sprint(runs))
			out, err := cmd.Output()
			if err != nil {
				b.Fatalf("bench.mjs: %v", err)
			}
			var theirs struct {
				TraceMapping, SourceMap struct{ ParseMs, LookupsMs float64 }
			}
			if err := json.Unmarshal(out, &theirs); err != nil {
				b.Fatalf("bench.mjs output %q: %v", out, err)
			}
			tmParse = append(tmParse, theirs.TraceMapping.ParseMs)
			tmLookups = append(tmLookups, theirs.TraceMapping.LookupsMs)
			smParse = append(smParse, theirs.SourceMap.ParseMs)
			smLookups = append(smLookups, theirs.SourceMap.LookupsMs)
		}
		b.ReportMetric(slices.Min(goParse), "go-parse-ms")
		b.ReportMetric(slices.Min(goLookups), "go-10k-lookups-ms")
		b.ReportMetric(slices.Min(tmParse), "trace-mapping-parse-ms")
		b.ReportMetric(slices.Min(tmLookups), "trace-mapping-10k-lookups-ms")
		b.ReportMetric(slices.Min(smParse), "source-map-parse-ms")
		b.ReportMetric(slices.Min(smLookups), "source-map-10k-lookups-ms")
		b.ReportMetric(slices.Min(tmParse)/slices.Min(goParse), "parse-speedup-vs-trace-mapping")
		b.ReportMetric(slices.Min(tmLookups)/slices.Min(goLookups), "lookup-speedup-vs-trace-mapping")
		b.ReportMetric(median(goParse), "go-parse-median-ms")
		b.ReportMetric(median(tmParse), "trace-mapping-parse-median-ms")
		b.ReportMetric(float64(len(data))/1e6, "map-MB")
	}
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
