package symbols

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// validMap is a small but real version 3 source map.
const validMap = `{"version":3,"file":"app.js","sources":["src/a.js"],"sourcesContent":["let a = 1;\n"],"names":["a"],"mappings":"AAAA,IAAIA"}`

// site is a real HTTP server on 127.0.0.1 that counts requests per path.
type site struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newSite(t *testing.T, routes map[string]http.HandlerFunc) *site {
	t.Helper()
	s := &site{hits: map[string]int{}}
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.HandleFunc(pattern, h)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *site) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// serve answers with body and the given header pairs.
func serve(body string, headerPairs ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headerPairs); i += 2 {
			w.Header().Set(headerPairs[i], headerPairs[i+1])
		}
		w.Write([]byte(body))
	}
}

// testConfig allows loopback (the servers are on 127.0.0.1) and keeps
// timeouts short so failing paths stay fast.
func testConfig() FetchConfig {
	return FetchConfig{
		AllowPrivate:   true,
		ConnectTimeout: time.Second,
		TotalTimeout:   3 * time.Second,
		MaxBytes:       1 << 20,
		MaxRedirects:   3,
		UserAgent:      "stacklens-test",
	}
}

// mustFetch fetches and fails the test on a failure.
func mustFetch(t *testing.T, f *Fetcher, url string) *Fetched {
	t.Helper()
	got, fail := f.Fetch(t.Context(), url)
	if fail != nil {
		t.Fatalf("Fetch(%s) failed: %v\nsteps: %+v", url, fail, fail.Steps)
	}
	return got
}

// mustFail fetches and checks the failure code.
func mustFail(t *testing.T, f *Fetcher, url, code string) *Failure {
	t.Helper()
	got, fail := f.Fetch(t.Context(), url)
	if fail == nil {
		t.Fatalf("Fetch(%s) = map from %s, want failure %s", url, got.MapURL, code)
	}
	if fail.Code != code {
		t.Fatalf("Fetch(%s) failed with %s (%s), want %s\nsteps: %+v", url, fail.Code, fail.Message, code, fail.Steps)
	}
	if len(fail.Steps) == 0 && code != FailureNoReference {
		t.Fatalf("failure %s carries no steps", code)
	}
	return fail
}
