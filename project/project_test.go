package project

import (
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, bad := range []string{"", "   ", strings.Repeat("é", MaxNameLen+1), "a\nb", "tab\there", "del\x7f"} {
		if _, err := CheckName(bad); err == nil {
			t.Errorf("CheckName(%q) accepted", bad)
		}
	}
	for in, want := range map[string]string{"  Shop  ": "Shop", strings.Repeat("é", MaxNameLen): strings.Repeat("é", MaxNameLen), "Café – web": "Café – web"} {
		if got, err := CheckName(in); err != nil || got != want {
			t.Errorf("CheckName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestNewTokenIsFreshAndPostHogShaped(t *testing.T) {
	a, b := NewToken(), NewToken()
	if !strings.HasPrefix(a, "phc_") || len(a) < 20 || a == b {
		t.Errorf("NewToken gave %q and %q; want two different phc_ tokens", a, b)
	}
}

func TestSlugAndNamedBy(t *testing.T) {
	for name, slug := range map[string]string{"My App": "my-app", "  web__Front end!! ": "web-front-end", "api": "api", "Ünïcode 2": "n-code-2"} {
		if got := Slug(name); got != slug {
			t.Errorf("Slug(%q) = %q, want %q", name, got, slug)
		}
	}
	for _, c := range []struct {
		name, asked string
		want        bool
	}{
		{"My App", "my app", true}, {"My App", "my-app", true}, {"My App", " MY-APP ", true},
		{"My App", "myapp", false}, {"My App", "my-app-2", false}, {"api", "API", true},
	} {
		if got := NamedBy(c.name, c.asked); got != c.want {
			t.Errorf("NamedBy(%q, %q) = %v, want %v", c.name, c.asked, got, c.want)
		}
	}
}
