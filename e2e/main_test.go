// Package e2e drives the real stacklens binary with the real SDKs (posthog-node,
// posthog-js in headless Chromium) and with the requests those SDKs were
// recorded sending (testdata/fixtures). Nothing here mocks stacklens: every test
// starts the built binary on a fresh database and talks to it over HTTP.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binaryPath is the stacklens binary TestMain builds once for every test.
// It is set once before any test runs and only read afterwards.
var binaryPath string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "stacklens-e2e-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: make temp dir: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)

	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: find repo root: %v\n", err)
		return 1
	}
	binaryPath = filepath.Join(dir, "stacklens")
	build := exec.Command("go", "build", "-o", binaryPath, "./cmd/stacklens")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/stacklens failed: %v\n%s\n", err, out)
		return 1
	}
	return m.Run()
}
