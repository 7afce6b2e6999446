// Package testkit finds what stacklens's tests need: the recorded fixtures in
// testdata/fixtures, the Node packages in e2e/node_modules, Chromium, and a
// PostgreSQL server (STACKLENS_TEST_POSTGRES) with a fresh database per test;
// Engine says which storage engine the run tests (STACKLENS_TEST_ENGINE).
// A missing tool skips the test, unless STACKLENS_E2E_REQUIRED=1 (set by CI),
// which turns every such skip into a failure. The fixtures are part of the
// repository, so a missing fixtures folder always fails.
package testkit

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RequiredEnv names the variable that turns skips for missing tools into failures.
const RequiredEnv = "STACKLENS_E2E_REQUIRED"

// RepoRoot is the module root: the nearest directory at or above the test's
// working directory (its package folder, under go test) that holds go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("testkit: working directory: %v", err)
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("testkit: no go.mod at or above %s", wd)
		}
		dir = parent
	}
}

// Fixtures is testdata/fixtures at the module root: what real SDKs and
// bundlers produced, recorded once (see its README.md).
func Fixtures(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), "testdata", "fixtures")
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Fatalf("testkit: fixtures missing from the checkout: %v", err)
	}
	return dir
}

// NodeModules is e2e/node_modules, installed by `npm ci --prefix e2e`.
func NodeModules(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), "e2e", "node_modules")
	if _, err := os.Stat(dir); err != nil {
		Missing(t, "e2e/node_modules is missing; run `npm ci --prefix e2e`")
	}
	return dir
}

// Node is the path of the node binary.
func Node(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		Missing(t, "node is not installed")
	}
	return p
}

// Chromium is the path of a Chromium binary ($STACKLENS_CHROMIUM, else /usr/bin/chromium).
func Chromium(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("STACKLENS_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Missing(t, "chromium is not installed (apt-get install chromium)")
	return ""
}

// ChromiumFlags are the flags every headless run uses on these machines.
func ChromiumFlags() []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
	}
}

// Missing skips the test, or fails it when STACKLENS_E2E_REQUIRED=1.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(RequiredEnv) == "1" {
		t.Fatalf("%s (required because %s=1)", why, RequiredEnv)
	}
	t.Skip(why)
}
