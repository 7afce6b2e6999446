package symbols

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A host that holds every request gets at most MaxPerHost of them at once,
// and a fetch from another host name goes through meanwhile.
func TestFetchesPerHostAreCapped(t *testing.T) {
	release := make(chan struct{})
	var held, most atomic.Int32
	s := newSite(t, map[string]http.HandlerFunc{
		"/held/": func(w http.ResponseWriter, r *http.Request) {
			n := held.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			select {
			case <-release:
			case <-r.Context().Done():
			}
			held.Add(-1)
			http.NotFound(w, r)
		},
		"/app.js":     serve("x()\n//# sourceMappingURL=app.js.map"),
		"/app.js.map": serve(validMap),
	})
	var once sync.Once
	releaseAll := func() { once.Do(func() { close(release) }) }
	t.Cleanup(releaseAll)
	cfg := testConfig()
	cfg.TotalTimeout, cfg.FirstByteTimeout = time.Minute, time.Minute
	cfg.MaxPerHost, cfg.MaxConcurrent = 2, 8
	f := NewFetcher(cfg)

	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.Fetch(t.Context(), fmt.Sprintf("%s/held/%d.js", s.URL, i))
		}()
	}
	for held.Load() < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	other := strings.Replace(s.URL, "127.0.0.1", "localhost", 1) + "/app.js"
	if got, fail := f.Fetch(t.Context(), other); fail != nil || got.MapURL == "" {
		t.Fatalf("fetch from another host name while 127.0.0.1 is held: %v", fail)
	}
	if n := held.Load(); n != 2 {
		t.Fatalf("%d requests held at once on one host, want the cap of 2", n)
	}
	releaseAll()
	wg.Wait()
	if m := most.Load(); m != 2 {
		t.Fatalf("at most %d requests were held at once, want 2 (the per-host cap)", m)
	}
	for i := range 5 {
		if n := s.count(fmt.Sprintf("/held/%d.js", i)); n != 1 {
			t.Errorf("/held/%d.js was fetched %d times, want once (those over the cap wait for a slot)", i, n)
		}
	}
}

// A host that accepts the request and never answers fails after the
// first-byte timeout, well before the whole fetch's.
func TestFirstByteTimeout(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{
		"/silent.js": func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
	})
	cfg := testConfig()
	cfg.FirstByteTimeout, cfg.TotalTimeout = 200*time.Millisecond, time.Minute
	fail := mustFail(t, NewFetcher(cfg), s.URL+"/silent.js", FailureFetchTimeout)
	if !strings.Contains(fail.Message, "sent no answer within 200ms") {
		t.Fatalf("message %q, want it to name the first-byte timeout", fail.Message)
	}
}
