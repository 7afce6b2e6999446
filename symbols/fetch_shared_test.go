package symbols

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stacklens/stacklens/internal/testkit"
)

// waitingInFetch counts goroutines blocked in Fetch's select, i.e. callers
// that have joined a flight and wait for its result.
func waitingInFetch() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, " [select") && strings.Contains(g, "symbols.(*Fetcher).Fetch(") {
			n++
		}
	}
	return n
}

func TestFetchSharesOneDownloadPerURL(t *testing.T) {
	const callers = 20
	release := make(chan struct{})
	s := newSite(t, map[string]http.HandlerFunc{
		"/app.js": func(w http.ResponseWriter, r *http.Request) {
			<-release // hold the flight open until every caller has joined it
			w.Write([]byte("x()\n//# sourceMappingURL=app.js.map"))
		},
		"/app.js.map": serve(validMap),
	})
	f := NewFetcher(testConfig())

	var wg sync.WaitGroup
	results := make([]*Fetched, callers)
	failures := make([]*Failure, callers)
	for i := range callers {
		wg.Go(func() { results[i], failures[i] = f.Fetch(t.Context(), s.URL+"/app.js") })
	}
	deadline := time.Now().Add(10 * time.Second)
	for waitingInFetch() < callers {
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("only %d of %d callers reached Fetch", waitingInFetch(), callers)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	wg.Wait()

	for i := range callers {
		if failures[i] != nil || string(results[i].Map) != validMap {
			t.Fatalf("caller %d: %v", i, failures[i])
		}
	}
	if n := s.count("/app.js"); n != 1 {
		t.Errorf("server saw %d requests for the minified file, want 1", n)
	}
	if n := s.count("/app.js.map"); n != 1 {
		t.Errorf("server saw %d requests for the map, want 1", n)
	}
	// Each caller owns its Steps.
	results[0].Steps[0].Error = "changed"
	if results[1].Steps[0].Error != "" {
		t.Errorf("callers share the Steps slice")
	}

	// A later fetch, after the flight ended, downloads again.
	mustFetch(t, f, s.URL+"/app.js")
	if n := s.count("/app.js"); n != 2 {
		t.Errorf("server saw %d requests after a second fetch, want 2", n)
	}
}

func TestFetchRealBundleFixture(t *testing.T) {
	dir := filepath.Join(testkit.Fixtures(t), "bundles", "posthog-browser")
	wantMap, err := os.ReadFile(filepath.Join(dir, "app.js.map"))
	if err != nil {
		t.Fatal(err)
	}
	s := newSite(t, map[string]http.HandlerFunc{"/": http.FileServer(http.Dir(dir)).ServeHTTP})

	got := mustFetch(t, NewFetcher(defaultConfigForLoopback()), s.URL+"/app.js")
	if got.MapURL != s.URL+"/app.js.map" || got.Steps[0].Found != FoundComment {
		t.Fatalf("MapURL %s, steps %+v", got.MapURL, got.Steps)
	}
	if !bytes.Equal(got.Map, wantMap) {
		t.Fatalf("map differs from the fixture (%d vs %d bytes)", len(got.Map), len(wantMap))
	}
	if !MapHasSourcesContent(got.Map) {
		t.Errorf("the esbuild fixture map carries sourcesContent")
	}
}

// defaultConfigForLoopback is the production configuration with only
// the guard relaxed, so the real limits are exercised on the fixture.
func defaultConfigForLoopback() FetchConfig {
	cfg := DefaultFetchConfig()
	cfg.AllowPrivate = true
	return cfg
}
