package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Credentials every test server is started with.
const (
	adminEmail    = "admin@stacklens.test"
	adminPassword = "correct horse battery staple"
	apiKey        = "phx_e2e_personal_api_key_0123456789"
	defaultToken  = "phc_e2e_project_token"
)

// How long the harness waits for things that happen in the background. These
// are deadlines for giving up, never assertions about speed.
const (
	startDeadline = 30 * time.Second
	stopDeadline  = 15 * time.Second
)

// serverOptions says how to start one stacklens process.
type serverOptions struct {
	// Token is STACKLENS_PROJECT_TOKEN; defaultToken when empty.
	Token string
	// DBPath reuses a database file (for restarts); a fresh one when empty.
	DBPath string
	// AssetsURL is STACKLENS_POSTHOG_ASSETS_URL, unset when empty.
	AssetsURL string
	// MaxBodyBytes is STACKLENS_MAX_BODY_BYTES, unset (server default) when 0.
	MaxBodyBytes int64
	// Env is more NAME=value settings, applied last (they win over the defaults above).
	Env []string
}

// server is one running stacklens process.
type server struct {
	URL    string
	Token  string
	DBPath string

	cmd     *exec.Cmd
	logs    *syncBuffer
	exited  chan struct{} // closed when the process has exited
	err     error         // the process's exit error, valid after exited is closed
	killed  bool          // set by kill9: cleanup then expects no graceful exit
	stopped bool          // set by stop: a second call (the cleanup) does nothing
}

// startServer starts the stacklens binary on a free loopback port with a fresh
// (or the given) database, waits until /healthz answers 200, and stops it at
// the end of the test with SIGTERM, checking that it exits 0.
func startServer(t *testing.T, opts serverOptions) *server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = defaultToken
	}
	if opts.DBPath == "" {
		opts.DBPath = filepath.Join(t.TempDir(), "stacklens.db")
	}
	addr := freeLoopbackAddr(t)
	s := &server{
		URL:    "http://" + addr,
		Token:  opts.Token,
		DBPath: opts.DBPath,
		logs:   &syncBuffer{},
		exited: make(chan struct{}),
	}
	env := []string{
		"STACKLENS_ADDR=" + addr,
		"STACKLENS_DB=" + opts.DBPath,
		"STACKLENS_ADMIN_EMAIL=" + adminEmail,
		"STACKLENS_ADMIN_PASSWORD=" + adminPassword,
		"STACKLENS_PROJECT_TOKEN=" + opts.Token,
		"STACKLENS_API_KEY=" + apiKey,
		"STACKLENS_FETCH_ALLOW_PRIVATE=true",
	}
	if opts.AssetsURL != "" {
		env = append(env, "STACKLENS_POSTHOG_ASSETS_URL="+opts.AssetsURL)
	}
	if opts.MaxBodyBytes > 0 {
		env = append(env, "STACKLENS_MAX_BODY_BYTES="+strconv.FormatInt(opts.MaxBodyBytes, 10))
	}
	env = append(env, opts.Env...)
	s.cmd = exec.Command(binaryPath)
	s.cmd.Env = append(baseEnv(), env...)
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start stacklens: %v", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop(t) })

	if err := s.waitHealthy(); err != nil {
		t.Fatalf("stacklens did not become healthy at %s: %v\nserver output:\n%s", s.URL, err, s.logs.String())
	}
	return s
}

// baseEnv is the environment the binary inherits: enough to run, nothing of
// the test's own STACKLENS_* settings.
func baseEnv() []string {
	return []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "TZ=UTC"}
}

func (s *server) waitHealthy() error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(startDeadline)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("process exited early: %v", s.err)
		default:
		}
		resp, err := client.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("GET /healthz: status %d", resp.StatusCode)
		} else {
			last = err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("gave up after %s: %w", startDeadline, last)
}

// stop sends SIGTERM and checks for a graceful exit with code 0. On a failed
// test it also prints what the server logged. Tests may call it to restart
// on the same database; the cleanup's call then does nothing.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if t.Failed() {
		defer func() { t.Logf("stacklens output (%s):\n%s", s.URL, s.logs.String()) }()
	}
	if s.killed {
		<-s.exited
		return
	}
	if s.stopped {
		return
	}
	s.stopped = true
	select {
	case <-s.exited:
		t.Errorf("stacklens exited before the test ended: %v", s.err)
		return
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM stacklens: %v", err)
	}
	select {
	case <-s.exited:
	case <-time.After(stopDeadline):
		_ = s.cmd.Process.Kill()
		<-s.exited
		t.Errorf("stacklens did not exit within %s of SIGTERM", stopDeadline)
		return
	}
	if s.err != nil {
		var exitErr *exec.ExitError
		if errors.As(s.err, &exitErr) {
			t.Errorf("stacklens exited with code %d after SIGTERM, want 0", exitErr.ExitCode())
		} else {
			t.Errorf("stacklens: %v", s.err)
		}
	}
}

// kill9 kills the process with SIGKILL, as a crash or an OOM killer would.
func (s *server) kill9(t *testing.T) {
	t.Helper()
	s.killed = true
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill -9 stacklens: %v", err)
	}
	<-s.exited
}

// freeLoopbackAddr returns 127.0.0.1:<port> for a port that was free a moment ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer collects the server's output; the process writes while tests read.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// healthy fails the test unless /healthz answers 200 right now.
func (s *server) requireHealthy(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/healthz", nil)
	if err != nil {
		t.Fatalf("build /healthz request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz: status %d, want 200", resp.StatusCode)
	}
}
