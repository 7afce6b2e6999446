package symbols

import (
	"bytes"
	"context"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFetchTimeout(t *testing.T) {
	// Handlers wait for the client to give up; they never sleep a fixed time.
	s := newSite(t, map[string]http.HandlerFunc{
		"/silent.js": func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
		"/stalls.js": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("x()\n"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		},
		"/app.js":     serve("x()\n//# sourceMappingURL=app.js.map"),
		"/app.js.map": func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
	})
	cfg := testConfig()
	cfg.TotalTimeout = 300 * time.Millisecond
	f := NewFetcher(cfg)
	for _, path := range []string{"/silent.js", "/stalls.js", "/app.js"} {
		fail := mustFail(t, f, s.URL+path, FailureFetchTimeout)
		if !strings.Contains(fail.Message, "did not finish within 300ms") {
			t.Errorf("%s: message %q", path, fail.Message)
		}
	}
}

func TestFetchCallerDeadline(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{
		"/silent.js": func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
	})
	cfg := testConfig()
	cfg.TotalTimeout = 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, fail := NewFetcher(cfg).Fetch(ctx, s.URL+"/silent.js")
	if fail == nil || fail.Code != FailureFetchTimeout {
		t.Fatalf("fail = %v, want fetch_timeout from the caller's deadline", fail)
	}
}

// endless streams data without a Content-Length until the client hangs up.
func endless(w http.ResponseWriter, r *http.Request) {
	chunk := bytes.Repeat([]byte("a"), 32<<10)
	for i := 0; i < 64<<20/len(chunk); i++ {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

func TestFetchTooLarge(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{
		"/endless.js": endless,
		"/declared.js": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(2<<20))
			w.Write(make([]byte, 2<<20))
		},
		"/app.js":     serve("x()\n//# sourceMappingURL=app.js.map"),
		"/app.js.map": endless,
	})
	cfg := testConfig()
	cfg.MaxBytes = 1 << 20
	f := NewFetcher(cfg)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fail := mustFail(t, f, s.URL+"/endless.js", FailureTooLarge)
	runtime.ReadMemStats(&after)
	// Reading the whole 64 MiB stream would allocate at least 64 MiB.
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 16<<20 {
		t.Errorf("fetching a stream capped at 1 MiB allocated %s", formatBytes(int64(allocated)))
	}
	if fail.Message != s.URL+"/endless.js is larger than the 1 MiB limit" {
		t.Errorf("message = %q", fail.Message)
	}
	if step := fail.Steps[0]; step.Bytes != 1<<20 || step.Error == "" {
		t.Errorf("step = %+v, want the capped byte count and an error", step)
	}

	fail = mustFail(t, f, s.URL+"/declared.js", FailureTooLarge)
	if !strings.Contains(fail.Message, "(2 MiB)") || fail.Steps[0].Bytes != 0 {
		t.Errorf("a declared oversize body should fail before reading: %q %+v", fail.Message, fail.Steps)
	}
	fail = mustFail(t, f, s.URL+"/app.js", FailureTooLarge)
	if !strings.HasPrefix(fail.Message, s.URL+"/app.js.map ") {
		t.Errorf("message should name the map: %q", fail.Message)
	}
}

func TestReadCappedLyingContentLength(t *testing.T) {
	body := bytes.Repeat([]byte("b"), 5000)
	got, err := readCapped(bytes.NewReader(body), 10, 1<<20)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("short Content-Length: %d bytes, err %v", len(got), err)
	}
	if _, err := readCapped(bytes.NewReader(body), 10, 4999); err != errTooLarge {
		t.Fatalf("over the cap with a lying Content-Length: err = %v", err)
	}
	if got, err := readCapped(bytes.NewReader(body), -1, 5000); err != nil || len(got) != 5000 {
		t.Fatalf("exactly at the cap: %d bytes, err %v", len(got), err)
	}
}

func TestFetchRedirects(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{
		"/old/app.js": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/new/app.js", http.StatusMovedPermanently)
		},
		"/new/app.js":     serve("x()\n//# sourceMappingURL=app.js.map"),
		"/new/app.js.map": serve(validMap),
		"/a.js":           func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/b.js", http.StatusFound) },
		"/b.js":           func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/a.js", http.StatusFound) },
		"/hop/": func(w http.ResponseWriter, r *http.Request) {
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
			http.Redirect(w, r, "/hop/"+strconv.Itoa(n+1), http.StatusFound)
		},
	})
	f := NewFetcher(testConfig()) // MaxRedirects 3

	got := mustFetch(t, f, s.URL+"/old/app.js")
	if got.MapURL != s.URL+"/new/app.js.map" {
		t.Errorf("a relative map URL resolves against the final URL: got %s", got.MapURL)
	}
	if len(got.Steps) != 3 || got.Steps[0].Status != 301 || got.Steps[1].Action != StepRedirect ||
		got.Steps[1].URL != s.URL+"/new/app.js" || got.Steps[1].Status != 200 || got.Steps[1].Found != FoundComment {
		t.Errorf("steps = %+v", got.Steps)
	}

	fail := mustFail(t, f, s.URL+"/a.js", FailureNetworkError)
	if !strings.Contains(fail.Message, "redirect loop: "+s.URL+"/a.js → "+s.URL+"/b.js → "+s.URL+"/a.js") {
		t.Errorf("loop message = %q", fail.Message)
	}
	fail = mustFail(t, f, s.URL+"/hop/0", FailureNetworkError)
	if !strings.Contains(fail.Message, "more than 3 redirects") || s.count("/hop/4") != 0 {
		t.Errorf("message %q; /hop/4 requested %d times", fail.Message, s.count("/hop/4"))
	}
}

func TestFetchRefusesLoopbackWithGuardOn(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{"/app.js": serve("x()")})
	cfg := testConfig()
	cfg.AllowPrivate = false
	fail := mustFail(t, NewFetcher(cfg), s.URL+"/app.js", FailureBlockedAddress)
	if !strings.Contains(fail.Message, "loopback") || !strings.Contains(fail.Message, "STACKLENS_FETCH_ALLOW_PRIVATE") {
		t.Errorf("message = %q", fail.Message)
	}
	if n := s.count("/app.js"); n != 0 {
		t.Errorf("the guarded fetcher reached the server %d times", n)
	}
}

func TestFetchUnresolvableHost(t *testing.T) {
	fail := mustFail(t, NewFetcher(testConfig()), "http://no-such-host.invalid/app.js", FailureNetworkError)
	if !strings.Contains(fail.Message, "no-such-host.invalid") {
		t.Errorf("message = %q", fail.Message)
	}
}
