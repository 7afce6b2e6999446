package highlight

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated block of static/app.css")

// TestAppCSSHasCurrentTokenColours keeps static/app.css in step with CSS().
// Run `go test ./highlight -run AppCSS -update` after changing styles.
func TestAppCSSHasCurrentTokenColours(t *testing.T) {
	want, err := CSS()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "static", "app.css")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	css := string(raw)
	begin := strings.Index(css, CSSBegin)
	end := strings.Index(css, CSSEnd)
	if *update {
		if begin >= 0 && end > begin {
			css = css[:begin] + want + css[end+len(CSSEnd):]
		} else {
			css = strings.TrimRight(css, "\n") + "\n" + want
		}
		if err := os.WriteFile(path, []byte(css), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if begin < 0 || end < begin || css[begin:end+len(CSSEnd)] != want {
		t.Fatalf("%s is out of date with highlight.CSS(); run: go test ./highlight -run AppCSS -update", path)
	}
}

func TestCSSCoversEveryEmittedClass(t *testing.T) {
	css, err := CSS()
	if err != nil {
		t.Fatal(err)
	}
	for _, class := range []string{"k", "kd", "nx", "s1", "sb", "c1", "cm", "mi", "o"} {
		if !strings.Contains(css, ".chroma ."+class+" {") {
			t.Errorf("no light rule for .%s", class)
		}
		if !strings.Contains(css, "  .chroma ."+class+" {") {
			t.Errorf("no dark rule for .%s", class)
		}
	}
	if strings.Contains(css, "background-color: #ffffff") {
		t.Error("the light style's page background leaked into token rules")
	}
}
