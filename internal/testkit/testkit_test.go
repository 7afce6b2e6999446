package testkit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRepoRootIsTheModuleRoot(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(RepoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "module github.com/stacklens/stacklens\n") {
		t.Errorf("go.mod at %s is not stacklens's:\n%.80s", RepoRoot(t), b)
	}
}

// The fixtures come with the checkout: no test reads outside it.
func TestFixturesAreInTheCheckout(t *testing.T) {
	dir := Fixtures(t)
	rel, err := filepath.Rel(RepoRoot(t), dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		t.Fatalf("fixtures at %s, outside the checkout %s", dir, RepoRoot(t))
	}
	for _, f := range []string{"sdk/posthog-js/full-config.manual.json", "bundles/posthog-browser/app.js.map"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}
