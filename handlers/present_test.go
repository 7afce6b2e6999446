package handlers

import "testing"

func TestDisplaySource(t *testing.T) {
	for in, want := range map[string]string{
		"../src/orders.js":               "src/orders.js",
		"./src/app.js":                   "src/app.js",
		"../../node_modules/x/index.js":  "node_modules/x/index.js",
		"webpack://app/./src/orders.js":  "src/orders.js",
		"webpack:///./src/orders.js":     "src/orders.js",
		"http://127.0.0.1/src/orders.js": "http://127.0.0.1/src/orders.js",
		"src/orders.js":                  "src/orders.js",
	} {
		if got := displaySource(in); got != want {
			t.Errorf("displaySource(%q) = %q, want %q", in, got, want)
		}
	}
}
