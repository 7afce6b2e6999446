// Package testkit finds what stacklens's tests need outside the Go module:
// the shared fixtures, the Node packages in e2e/node_modules and Chromium.
// A missing tool skips the test, unless STACKLENS_E2E_REQUIRED=1 (set by CI),
// which turns every such skip into a failure.
package testkit

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RequiredEnv names the variable that turns skips for missing tools into failures.
const RequiredEnv = "STACKLENS_E2E_REQUIRED"

// RepoRoot is the directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testkit: cannot locate source file")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Fixtures is the shared fixtures folder: $STACKLENS_FIXTURES, else
// ../shared/fixtures beside the checkout.
func Fixtures(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("STACKLENS_FIXTURES")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared", "fixtures")
	}
	if _, err := os.Stat(dir); err != nil {
		Missing(t, "shared fixtures not found at "+dir+" (set STACKLENS_FIXTURES)")
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
