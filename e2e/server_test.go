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

	"github.com/jackc/pgx/v5"

	"github.com/stacklens/stacklens/internal/testkit"
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
	// DBPath reuses an SQLite database file (for restarts). DatabaseURL
	// reuses a PostgreSQL database (STACKLENS_DATABASE_URL) the same way.
	// With neither, the server gets a fresh database of the run's engine
	// (testkit.Engine): a file, or a database of its own on
	// STACKLENS_TEST_POSTGRES. A restart passes both of the first server's.
	DBPath      string
	DatabaseURL string
	// AssetsURL is STACKLENS_POSTHOG_ASSETS_URL, unset when empty.
	AssetsURL string
	// MaxBodyBytes is STACKLENS_MAX_BODY_BYTES, unset (server default) when 0.
	MaxBodyBytes int64
	// Env is more NAME=value settings, applied last (they win over the defaults above).
	Env []string
	// Addr is the address to listen on (a restart on the same port); a free
	// loopback port when empty.
	Addr string
}

// server is one running stacklens process.
type server struct {
	URL    string
	Token  string
	DBPath string // the SQLite file; empty on PostgreSQL
	// DatabaseURL is the PostgreSQL database; empty on SQLite.
	DatabaseURL string

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
	s := prepareServer(t, opts)
	if err := s.launch(); err != nil {
		t.Fatal(err)
	}
	s.await(t)
	return s
}

// prepareServer makes the command that runs one stacklens process, without
// starting it: launch starts it (tests that start several at one moment call
// it from their own goroutines), await waits until it answers.
func prepareServer(t *testing.T, opts serverOptions) *server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = defaultToken
	}
	database := chooseDatabase(t, &opts)
	addr := opts.Addr
	if addr == "" {
		addr = freeLoopbackAddr(t)
	}
	s := &server{
		URL:         "http://" + addr,
		Token:       opts.Token,
		DBPath:      opts.DBPath,
		DatabaseURL: opts.DatabaseURL,
		logs:        &syncBuffer{},
		exited:      make(chan struct{}),
	}
	env := []string{
		"STACKLENS_ADDR=" + addr,
		database,
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
	return s
}

// launch starts the prepared process and returns at once. It touches no
// testing.T, so several goroutines may launch servers at the same moment.
func (s *server) launch() error {
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start stacklens: %w", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	return nil
}

// await registers the launched server's stop with the test's cleanup and
// waits until /healthz answers 200.
func (s *server) await(t *testing.T) {
	t.Helper()
	t.Cleanup(func() { s.stop(t) })
	s.awaitHealthy(t)
}

// awaitHealthy waits until /healthz answers 200 and, on PostgreSQL, checks
// the server made its schema there.
func (s *server) awaitHealthy(t *testing.T) {
	t.Helper()
	if err := s.waitHealthy(); err != nil {
		t.Fatalf("stacklens did not become healthy at %s: %v\nserver output:\n%s", s.URL, err, s.logs.String())
	}
	if s.DatabaseURL != "" {
		requireSchemaIn(t, s.DatabaseURL)
	}
}

// chooseDatabase settles which database the server runs on (see
// serverOptions) and returns the setting that names it to the binary.
func chooseDatabase(t *testing.T, opts *serverOptions) string {
	t.Helper()
	switch {
	case opts.DBPath != "" && opts.DatabaseURL != "":
		t.Fatalf("serverOptions names both an SQLite file (%s) and a PostgreSQL database; a server runs on one", opts.DBPath)
	case opts.DatabaseURL != "":
	case opts.DBPath != "":
		if testkit.Engine() == testkit.Postgres {
			t.Fatalf("serverOptions names the SQLite file %s in the PostgreSQL run: a restart passes the first server's "+
				"DatabaseURL as well, and a test of the SQLite file itself begins with testkit.SQLiteOnly", opts.DBPath)
		}
	case testkit.Engine() == testkit.Postgres:
		opts.DatabaseURL = testkit.PostgresDatabase(t)
	default:
		opts.DBPath = filepath.Join(t.TempDir(), "stacklens.db")
	}
	if opts.DatabaseURL != "" {
		return "STACKLENS_DATABASE_URL=" + opts.DatabaseURL
	}
	return "STACKLENS_DB=" + opts.DBPath
}

// requireSchemaIn fails the test unless a healthy server's PostgreSQL
// database holds tables: a binary that ignored STACKLENS_DATABASE_URL and
// ran on a SQLite file would otherwise pass the PostgreSQL run unseen.
func requireSchemaIn(t *testing.T, databaseURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatalf("connect to the server's PostgreSQL database: %v", err)
	}
	defer conn.Close(context.Background())
	var tables int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`).Scan(&tables); err != nil {
		t.Fatalf("count the tables of the server's PostgreSQL database: %v", err)
	}
	if tables == 0 {
		t.Fatalf("stacklens is healthy but its PostgreSQL database has no tables: did it use STACKLENS_DATABASE_URL?")
	}
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
