package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/stacklens/stacklens/internal/testkit"
)

// Hostile bodies: requests built to cost the server time or memory. Each
// goes to a fresh server process, which must answer it with the right
// status and a sentence, within a generous deadline (the quine used to
// loop forever, the inflate-before-token body took 24 s), and without its
// peak resident memory (VmHWM) growing by more than hostileMemoryBound.

// hostileDeadline is how long an answer may take. It is an upper bound for
// requests that used to hang or take tens of seconds, not a speed target.
const hostileDeadline = 10 * time.Second

// hostileMemoryBound is how much a hostile request may raise the server's
// peak RSS. Before the fix they cost 0.9 to 2.7 GB.
const hostileMemoryBound = 200 << 20

type hostileCase struct {
	name   string
	send   func(t *testing.T, s *server) (status int, answer []byte, took time.Duration)
	status []int  // acceptable statuses
	phrase string // the detail must contain this (case-insensitive)
}

func TestHostileBodiesCostBoundedTimeAndMemory(t *testing.T) {
	unknown := "phc_unknown_token_for_hostile_bodies"
	capture := func(path string, headers map[string]string, body func(t *testing.T, s *server) []byte) func(t *testing.T, s *server) (int, []byte, time.Duration) {
		return func(t *testing.T, s *server) (int, []byte, time.Duration) {
			return postWithin(t, s.URL+path, headers, body(t, s))
		}
	}
	plain := map[string]string{"Content-Type": "text/plain"}
	jsonGzip := map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}
	quine := testkit.GzipQuine()
	cases := []hostileCase{
		{
			name:   "gzip quine as raw gzip",
			send:   capture("/batch/", plain, func(*testing.T, *server) []byte { return quine }),
			status: []int{http.StatusBadRequest}, phrase: "compress",
		},
		{
			name:   "gzip quine with Content-Encoding gzip",
			send:   capture("/batch/", jsonGzip, func(*testing.T, *server) []byte { return quine }),
			status: []int{http.StatusBadRequest}, phrase: "compress",
		},
		{
			name: "gzip inside gzip",
			send: capture("/batch/", plain, func(t *testing.T, s *server) []byte {
				return gzipBytes(t, gzipBytes(t, batchBody(t, s.Token, newException("NestedGzipError", "nested"))))
			}),
			status: []int{http.StatusBadRequest}, phrase: "compress",
		},
		{
			name: "66 MB of tiny events, unknown api_key first",
			send: capture("/batch/", plain, func(t *testing.T, _ *server) []byte {
				return tinyEventsGzip(t, fmt.Sprintf(`{"api_key":%q,"batch":[`, unknown), `{"event":"$exception"}`, `]}`)
			}),
			status: []int{http.StatusUnauthorized}, phrase: "token",
		},
		{
			name: "66 MB of tiny events, unknown token in each event",
			send: capture("/e/", plain, func(t *testing.T, _ *server) []byte {
				return tinyEventsGzip(t, `[`, fmt.Sprintf(`{"event":"$exception","properties":{"token":%q}}`, unknown), `]`)
			}),
			status: []int{http.StatusUnauthorized}, phrase: "token",
		},
		{
			name: "66 MB of tiny events, unknown api_key after the batch",
			send: capture("/batch/", jsonGzip, func(t *testing.T, _ *server) []byte {
				return tinyEventsGzip(t, `{"batch":[`, `{"event":"$exception"}`, fmt.Sprintf(`],"api_key":%q}`, unknown))
			}),
			status: []int{http.StatusUnauthorized, http.StatusRequestEntityTooLarge}, phrase: "",
		},
		{
			name: "66 MB of tiny events for a known project",
			send: capture("/batch/", plain, func(t *testing.T, s *server) []byte {
				return tinyEventsGzip(t, fmt.Sprintf(`{"api_key":%q,"batch":[`, s.Token), `{"event":"$exception"}`, `]}`)
			}),
			status: []int{http.StatusRequestEntityTooLarge}, phrase: "events",
		},
		{
			name: "one event more than the per-request cap",
			send: capture("/batch/", jsonGzip, func(t *testing.T, s *server) []byte {
				var b bytes.Buffer
				fmt.Fprintf(&b, `{"api_key":%q,"batch":[`, s.Token)
				for i := range 10_001 {
					if i > 0 {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, `{"event":"$exception","uuid":%q,"properties":{"$exception_list":[{"type":"TooManyEventsError","value":"one of many"}]}}`, newUUID())
				}
				b.WriteString(`]}`)
				return gzipBytes(t, b.Bytes())
			}),
			status: []int{http.StatusRequestEntityTooLarge}, phrase: "10000 events",
		},
		{
			name:   "zstd bomb declaring a 1 GiB minified file (posthog-cli upload)",
			send:   uploadBlob(func(t *testing.T) []byte { return zstdBomb(t, 1<<30) }),
			status: []int{http.StatusRequestEntityTooLarge}, phrase: "limit",
		},
		{
			name:   "zstd bomb of 1 GiB of zeros after an empty source map (posthog-cli upload)",
			send:   uploadBlob(func(t *testing.T) []byte { return zstdBomb(t, 0) }),
			status: []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge}, phrase: "",
		},
	}
	for _, hc := range cases {
		t.Run(hc.name, func(t *testing.T) {
			s := startServer(t, serverOptions{})
			before := peakRSS(t, s)
			status, answer, took := hc.send(t, s)
			after := peakRSS(t, s)
			t.Logf("%s: %d in %v; server peak RSS %d MB → %d MB (+%d MB); answer %s",
				hc.name, status, took.Round(time.Millisecond), before>>20, after>>20, (after-before)>>20, truncate(string(answer), 200))
			if !containsInt(hc.status, status) {
				t.Errorf("status %d, want one of %v; body %s", status, hc.status, truncate(string(answer), 300))
			}
			checkErrorAnswer(t, hc.name, answer)
			if !strings.Contains(strings.ToLower(string(answer)), strings.ToLower(hc.phrase)) {
				t.Errorf("answer %s does not say %q", truncate(string(answer), 300), hc.phrase)
			}
			if after-before > hostileMemoryBound {
				t.Errorf("the server's peak RSS grew by %d MB, more than %d MB", (after-before)>>20, hostileMemoryBound>>20)
			}
			s.requireHealthy(t)
			// Nothing of the hostile request was stored: only the good event sent now becomes an issue.
			a := newAPI(s)
			postException(t, s, s.Token, newException("GoodAfterHostileBody", hc.name))
			for _, is := range waitForIssues(t, a, 1) {
				if is.Name != "GoodAfterHostileBody" {
					t.Errorf("an issue from the hostile request exists: %s: %q", is.Name, is.Description)
				}
			}
		})
	}
}

// postWithin POSTs body and gives up after hostileDeadline, failing the
// test; it returns the answer and how long it took to arrive.
func postWithin(t *testing.T, url string, headers map[string]string, body []byte) (int, []byte, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hostileDeadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("build POST %s: %v", url, err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	started := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s (%d bytes): no answer within %s: %v", url, len(body), hostileDeadline, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer of POST %s: %v", url, err)
	}
	return resp.StatusCode, answer, time.Since(started)
}

// tinyEventsGzip gzips head, then ~66 MB of event separated by commas, then
// tail: a body of about 150 KB that inflates to millions of events.
func tinyEventsGzip(t *testing.T, head, event, tail string) []byte {
	t.Helper()
	const size = 66_000_000
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(zw, 1<<20)
	bw.WriteString(head)
	for written := len(head); written < size; written += len(event) + 1 {
		if written > len(head) {
			bw.WriteByte(',')
		}
		bw.WriteString(event)
	}
	bw.WriteString(tail)
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zstdBomb is a posthog-cli version 2 blob whose zstd payload inflates to
// 1 GiB: the minified file's length field says declared, then zeros
// follow (with declared 0, an empty file and an empty map, then zeros).
func zstdBomb(t *testing.T, declared uint64) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("posthog_error_tracking")
	binary.Write(&out, binary.LittleEndian, uint32(2)) // version
	binary.Write(&out, binary.LittleEndian, uint32(2)) // source and map
	out.WriteByte(1)                                   // zstd
	enc, err := zstd.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	binary.Write(enc, binary.LittleEndian, declared)
	zeros := make([]byte, 1<<20)
	for range 1 << 10 {
		if _, err := enc.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// uploadBlob sends blob the way posthog-cli does: bulk_start_upload, the
// presigned POST, then bulk_finish_upload, whose answer is returned.
func uploadBlob(build func(t *testing.T) []byte) func(t *testing.T, s *server) (int, []byte, time.Duration) {
	return func(t *testing.T, s *server) (int, []byte, time.Duration) {
		blob := build(t)
		base := symbolSetsAPI(s)
		const chunk = "0197e2e0-b0b0-7000-8000-00000000b0b0"
		hash := sha512Hex(blob)
		status, answer := rawCall(t, http.MethodPost, base+"/bulk_start_upload",
			map[string]any{"symbol_sets": []any{map[string]any{"chunk_id": chunk, "release_id": nil, "content_hash": hash}}})
		expectStatus(t, "bulk_start_upload", status, answer, http.StatusCreated)
		var started cliStart
		decodeInto(t, "bulk_start_upload", answer, &started)
		entry, ok := started.IDMap[chunk]
		if !ok {
			t.Fatalf("bulk_start_upload: no entry for %s in %s", chunk, answer)
		}
		if status, answer := presignedPost(t, entry.PresignedURL.URL, entry.PresignedURL.Fields, blob); status/100 != 2 {
			t.Fatalf("presigned POST of the %d-byte blob: %d %s", len(blob), status, answer)
		}
		body, err := json.Marshal(map[string]any{"content_hashes": map[string]string{entry.SymbolSetID: hash}})
		if err != nil {
			t.Fatal(err)
		}
		return postWithin(t, base+"/bulk_finish_upload",
			map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + apiKey}, body)
	}
}

// peakRSS is the server process's peak resident memory so far (VmHWM).
func peakRSS(t *testing.T, s *server) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("read the server's memory use: %v", err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("parse VmHWM %q: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", s.cmd.Process.Pid)
	return 0
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
