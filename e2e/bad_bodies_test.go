package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// maxBodyForTests is the STACKLENS_MAX_BODY_BYTES the bad-body test runs with.
const maxBodyForTests = 1 << 20

// badRequest is one request the server must refuse.
type badRequest struct {
	name    string
	path    string
	headers map[string]string
	body    func(t *testing.T, token string) []byte
	status  int
}

func badRequests() []badRequest {
	jsonGzip := map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}
	plainJSON := map[string]string{"Content-Type": "application/json"}
	marker := func(name string) captureEvent { return newException("BadBodyError", name) }
	return []badRequest{
		{
			name: "truncated gzip (Content-Encoding)", path: "/batch/", headers: jsonGzip, status: http.StatusBadRequest,
			body: func(t *testing.T, token string) []byte {
				z := gzipBytes(t, batchBody(t, token, marker("truncated gzip")))
				return z[:len(z)/2]
			},
		},
		{
			name: "truncated gzip (magic bytes, text/plain)", path: "/i/v0/e/", headers: map[string]string{"Content-Type": "text/plain"}, status: http.StatusBadRequest,
			body: func(t *testing.T, token string) []byte {
				z := gzipBytes(t, batchBody(t, token, marker("truncated magic gzip")))
				return z[:len(z)-12]
			},
		},
		{
			name: "invalid JSON", path: "/batch/", headers: plainJSON, status: http.StatusBadRequest,
			body: func(t *testing.T, token string) []byte {
				b := batchBody(t, token, marker("invalid json"))
				return b[:len(b)-3]
			},
		},
		{
			name: "unknown token", path: "/batch/", headers: plainJSON, status: http.StatusUnauthorized,
			body: func(t *testing.T, token string) []byte {
				return batchBody(t, "phc_not_a_project_token", marker("unknown token"))
			},
		},
		{
			name: "mixed tokens in one batch", path: "/batch/", headers: plainJSON, status: http.StatusUnauthorized,
			body: func(t *testing.T, token string) []byte {
				good, other := marker("mixed tokens, right one"), marker("mixed tokens, wrong one")
				good.Properties["token"] = token
				other.Properties["token"] = "phc_not_a_project_token"
				b, err := json.Marshal(map[string]any{"batch": []captureEvent{good, other}})
				if err != nil {
					t.Fatalf("encode: %v", err)
				}
				return b
			},
		},
		{
			name: "body over STACKLENS_MAX_BODY_BYTES", path: "/batch/", headers: plainJSON, status: http.StatusRequestEntityTooLarge,
			body: func(t *testing.T, token string) []byte {
				ev := marker("oversized body")
				ev.Properties["padding"] = strings.Repeat("x", maxBodyForTests+maxBodyForTests/2)
				return batchBody(t, token, ev)
			},
		},
		{
			name: "gzip bomb (over 100 MiB decompressed)", path: "/batch/", headers: jsonGzip, status: http.StatusRequestEntityTooLarge,
			body: func(t *testing.T, token string) []byte { return gzipBomb(t, token, 110<<20) },
		},
		{
			name: "one event over 1 MiB", path: "/batch/", headers: jsonGzip, status: http.StatusRequestEntityTooLarge,
			body: func(t *testing.T, token string) []byte {
				ev := marker("event over 1 MiB")
				ev.Properties["padding"] = strings.Repeat("y", 5<<19)
				return gzipBytes(t, batchBody(t, token, ev))
			},
		},
	}
}

// gzipBomb is a small gzip body that inflates to a valid-looking batch of more
// than size bytes.
func gzipBomb(t *testing.T, token string, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatalf("gzip writer: %v", err)
	}
	fmt.Fprintf(zw, `{"api_key":%q,"batch":[{"event":"$exception","uuid":%q,"properties":{"$exception_list":[{"type":"BadBodyError","value":"gzip bomb"}],"padding":"`, token, newUUID())
	chunk := bytes.Repeat([]byte("z"), 1<<20)
	for written := 0; written < size; written += len(chunk) {
		if _, err := zw.Write(chunk); err != nil {
			t.Fatalf("gzip: %v", err)
		}
	}
	fmt.Fprint(zw, `"}}]}`)
	if err := zw.Close(); err != nil {
		t.Fatalf("gzip: %v", err)
	}
	if buf.Len() >= maxBodyForTests {
		t.Fatalf("gzip bomb is %d bytes compressed; it must stay under the body cap to test the decompressed cap", buf.Len())
	}
	return buf.Bytes()
}

// TestBadBodiesAreRefused sends undecodable, unauthorised and oversized bodies:
// each gets its status and a JSON error, the server stays up, a good event
// sent after it still becomes an issue, and nothing of the bad ones is stored.
func TestBadBodiesAreRefused(t *testing.T) {
	s := startServer(t, serverOptions{MaxBodyBytes: maxBodyForTests})
	a := newAPI(s)
	for i, bad := range badRequests() {
		status, answer := postCapture(t, s, bad.path, bad.headers, bad.body(t, s.Token))
		if status != bad.status {
			t.Errorf("%s: POST %s answered %d, want %d; body %s", bad.name, bad.path, status, bad.status, truncate(string(answer), 300))
		}
		checkErrorAnswer(t, bad.name, answer)
		s.requireHealthy(t)

		good := newException("GoodAfterBadBody", fmt.Sprintf("sent after: %s", bad.name))
		postException(t, s, s.Token, good)
		issues := waitForIssues(t, a, i+1)
		if _, ok := issueNamed(issues, "GoodAfterBadBody", fmt.Sprintf("sent after: %s", bad.name)); !ok {
			t.Errorf("%s: the good event sent afterwards is not an issue: %s", bad.name, describeIssues(issues))
		}
	}
	issues, err := a.issues(t.Context())
	if err != nil {
		t.Fatalf("list issues: %v", err)
	}
	for _, is := range issues {
		if is.Name != "GoodAfterBadBody" {
			t.Errorf("an issue from a refused request exists: %s: %q", is.Name, is.Description)
		}
	}
}

// checkErrorAnswer checks the error body promised for refused requests:
// {"type":…,"code":…,"detail":"<sentence>"}.
func checkErrorAnswer(t *testing.T, name string, body []byte) {
	t.Helper()
	var answer struct {
		Type   string `json:"type"`
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.Type == "" || answer.Code == "" || answer.Detail == "" {
		t.Errorf(`%s: answer %s, want JSON {"type","code","detail"} all set`, name, truncate(string(body), 300))
	}
}
