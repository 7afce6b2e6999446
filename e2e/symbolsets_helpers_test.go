package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/internal/testkit"
)

// recordedBundleOrigin is where the posthog-js fixture payloads say app.js was served.
const recordedBundleOrigin = "http://127.0.0.1:8790"

func fixtureBundle(t *testing.T, build, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testkit.Fixtures(t), "bundles", build, name))
	if err != nil {
		t.Fatalf("read fixture bundle: %v", err)
	}
	return b
}

// serveBundleWithoutMap serves the posthog-browser fixture's app.js with its
// sourceMappingURL comment removed, and nothing else: stacklens finds no map
// for it, so its symbol set stays missing until someone uploads the map.
func serveBundleWithoutMap(t *testing.T) *httptest.Server {
	t.Helper()
	js := fixtureBundle(t, "posthog-browser", "app.js")
	if i := bytes.LastIndex(js, []byte("//# sourceMappingURL=")); i >= 0 {
		js = js[:i]
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/app.js" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(js)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// manualCaptureEvents are the $exception events posthog-js sent in the
// full-config.manual recording, with the bundle URL moved to bundleOrigin,
// the token to the test server's, and edit applied to every frame.
func manualCaptureEvents(t *testing.T, token, bundleOrigin string, edit func(frame map[string]any)) []any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testkit.Fixtures(t), "sdk", "posthog-js", "full-config.manual.json"))
	if err != nil {
		t.Fatalf("read recording: %v", err)
	}
	var rec recording
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatalf("decode recording: %v", err)
	}
	var out []any
	for _, r := range rec.Requests {
		if !r.captureRequest() || len(r.Decoded.JSON) == 0 {
			continue
		}
		text := strings.ReplaceAll(string(r.Decoded.JSON), recordedBundleOrigin, bundleOrigin)
		text = strings.ReplaceAll(text, "phc_testtoken_browser", token)
		var events []map[string]any
		if err := json.Unmarshal([]byte(text), &events); err != nil {
			var one map[string]any
			if err := json.Unmarshal([]byte(text), &one); err != nil {
				t.Fatalf("decode recorded body: %v", err)
			}
			if batch, ok := one["batch"].([]any); ok {
				for _, ev := range batch {
					events = append(events, ev.(map[string]any))
				}
			} else {
				events = append(events, one)
			}
		}
		for _, ev := range events {
			if ev["event"] != "$exception" {
				continue
			}
			props := ev["properties"].(map[string]any)
			for _, ex := range props["$exception_list"].([]any) {
				for _, f := range ex.(map[string]any)["stacktrace"].(map[string]any)["frames"].([]any) {
					if edit != nil {
						edit(f.(map[string]any))
					}
				}
			}
			out = append(out, ev)
		}
	}
	if len(out) != 2 {
		t.Fatalf("the manual recording holds %d $exception events, want 2 (boom, and a payment error with its cause)", len(out))
	}
	return out
}

// postEvents sends events as one JSON batch to /batch/ and requires 200.
func postEvents(t *testing.T, s *server, events []any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"api_key": s.Token, "batch": events})
	if err != nil {
		t.Fatal(err)
	}
	status, answer := postCapture(t, s, "/batch/", map[string]string{"Content-Type": "application/json"}, body)
	if status != http.StatusOK {
		t.Fatalf("POST /batch/: %d %s", status, answer)
	}
}

// apiSymbolSet is a symbol set as the posthog-cli-compatible API shows it.
type apiSymbolSet struct {
	ID              string  `json:"id"`
	Ref             string  `json:"ref"`
	HasUploadedFile bool    `json:"has_uploaded_file"`
	FailureReason   *string `json:"failure_reason"`
	FailureCode     *string `json:"failure_code"`
	Release         *string `json:"release"`
	ContentHash     *string `json:"content_hash"`
	Frames          int     `json:"frames"`
	Issues          int     `json:"issues"`
}

// rawCall sends one API request with the admin's key and returns status and body.
func rawCall(t *testing.T, method, url string, body any) (int, []byte) {
	t.Helper()
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, reader)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// symbolSetsAPI is the base URL of the symbol-set API of project 1.
func symbolSetsAPI(s *server) string {
	return s.URL + "/api/projects/1/error_tracking/symbol_sets"
}

// waitForSymbolSet waits until the symbol set with ref exists and no fetch
// of it is under way, and returns it: on a loaded machine a background fetch
// can outlast the batch that stored the set as fetch_pending.
func waitForSymbolSet(t *testing.T, s *server, ref string) apiSymbolSet {
	t.Helper()
	var found apiSymbolSet
	waitFor(t, "symbol set "+ref, func(ctx context.Context) (bool, string, error) {
		status, body := rawCall(t, http.MethodGet, symbolSetsAPI(s)+"/?status=all&limit=100", nil)
		if status != http.StatusOK {
			return false, "", fmt.Errorf("list: %d %s", status, body)
		}
		var page struct {
			Results []apiSymbolSet `json:"results"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return false, "", err
		}
		for _, r := range page.Results {
			if r.Ref == ref {
				found = r
				pending := r.FailureCode != nil && *r.FailureCode == "fetch_pending"
				return !pending, fmt.Sprintf("%+v", r), nil
			}
		}
		return false, string(body), nil
	})
	return found
}

func getSymbolSet(t *testing.T, s *server, id string) apiSymbolSet {
	t.Helper()
	status, body := rawCall(t, http.MethodGet, symbolSetsAPI(s)+"/"+id+"/", nil)
	if status != http.StatusOK {
		t.Fatalf("GET symbol set %s: %d %s", id, status, body)
	}
	var out apiSymbolSet
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// crashFrames returns, per event uuid, the crash-site frame of its first exception.
func crashFrames(t *testing.T, a *api) map[string]apiFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	events, err := allEvents(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]apiFrame{}
	for uuid, ev := range events {
		if len(ev.Event.ExceptionList) == 0 || len(ev.Event.ExceptionList[0].Frames) == 0 {
			continue
		}
		frames := ev.Event.ExceptionList[0].Frames
		out[uuid] = frames[len(frames)-1]
	}
	return out
}
