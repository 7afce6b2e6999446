package symbols

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestFetchFindsTheMap(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{
		"/header.js":              serve("x()", "SourceMap", "/maps/header.js.map"),
		"/xheader.js":             serve("x()", "X-SourceMap", "maps/xheader.js.map"),
		"/both.js":                serve("x()\n//# sourceMappingURL=comment.map", "SourceMap", "/maps/header.js.map"),
		"/comment.js":             serve("x()\n//# sourceMappingURL=first.map\ny()\n//# sourceMappingURL=last.map\n"),
		"/legacy.js":              serve("x()\n//@ sourceMappingURL=legacy.map"),
		"/literal.js":             serve("x()\n//# sourceMappingURL=real.map\nvar s = \"//# sourceMappingURL=\" + n;\n"),
		"/static/js/app.js":       serve("x()\n//# sourceMappingURL=../maps/app.js.map \r\n"),
		"/maps/":                  serve(validMap),
		"/last.map":               serve(validMap),
		"/legacy.map":             serve(validMap),
		"/real.map":               serve(validMap),
		"/static/maps/app.js.map": serve(validMap),
	})
	cases := []struct {
		path, mapPath, found string
	}{
		{"/header.js", "/maps/header.js.map", FoundSourceMapHeader},
		{"/xheader.js", "/maps/xheader.js.map", FoundXSourceMapHeader},
		{"/both.js", "/maps/header.js.map", FoundSourceMapHeader},
		{"/comment.js", "/last.map", FoundComment},
		{"/legacy.js", "/legacy.map", FoundLegacyComment},
		{"/literal.js", "/real.map", FoundComment},
		{"/static/js/app.js", "/static/maps/app.js.map", FoundComment},
	}
	f := NewFetcher(testConfig())
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			got := mustFetch(t, f, s.URL+c.path)
			if got.MapURL != s.URL+c.mapPath {
				t.Errorf("MapURL = %s, want %s", got.MapURL, s.URL+c.mapPath)
			}
			if string(got.Map) != validMap {
				t.Errorf("Map = %q", got.Map)
			}
			if got.MinifiedURL != s.URL+c.path || !strings.HasPrefix(string(got.Minified), "x()") {
				t.Errorf("minified %s = %q", got.MinifiedURL, got.Minified)
			}
			if len(got.Steps) != 2 || got.Steps[0].Found != c.found || got.Steps[0].Status != 200 ||
				got.Steps[1].Action != StepFetchMap || got.Steps[1].Bytes != int64(len(validMap)) {
				t.Errorf("steps = %+v, want the minified step found by %q then the map", got.Steps, c.found)
			}
		})
	}
	if n := s.count("/first.map"); n != 0 {
		t.Errorf("the earlier comment's map was fetched %d times; the last comment wins", n)
	}
}

func TestFetchAbsoluteMapURLOnAnotherServer(t *testing.T) {
	maps := newSite(t, map[string]http.HandlerFunc{"/m/app.js.map": serve(validMap)})
	s := newSite(t, map[string]http.HandlerFunc{
		"/app.js": serve("x()\n//# sourceMappingURL=" + maps.URL + "/m/app.js.map#ignored"),
	})
	got := mustFetch(t, NewFetcher(testConfig()), s.URL+"/app.js")
	if got.MapURL != maps.URL+"/m/app.js.map" {
		t.Fatalf("MapURL = %s", got.MapURL)
	}
}

func TestFetchInlineDataURLs(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString([]byte(validMap))
	cases := map[string]string{
		"/base64.js":      "data:application/json;base64," + b64,
		"/charset.js":     "data:application/json;charset=utf-8;base64," + b64,
		"/unpadded.js":    "data:application/json;base64," + strings.TrimRight(b64, "="),
		"/percent.js":     "data:application/json;charset=utf-8," + url.PathEscape(validMap),
		"/header-data.js": "",
	}
	routes := map[string]http.HandlerFunc{}
	for path, ref := range cases {
		routes[path] = serve("x()\n//# sourceMappingURL=" + ref + "\n")
	}
	routes["/header-data.js"] = serve("x()", "SourceMap", "data:application/json;base64,"+b64)
	s := newSite(t, routes)
	f := NewFetcher(testConfig())
	for path := range cases {
		t.Run(path, func(t *testing.T) {
			got := mustFetch(t, f, s.URL+path)
			if string(got.Map) != validMap {
				t.Fatalf("Map = %q, want %q", got.Map, validMap)
			}
			if got.MapURL != s.URL+path {
				t.Errorf("MapURL of an inline map = %s, want the minified URL", got.MapURL)
			}
			last := got.Steps[len(got.Steps)-1]
			if last.Action != StepDecodeDataURL || last.Found != FoundDataURL || last.Bytes != int64(len(validMap)) {
				t.Errorf("last step = %+v", last)
			}
		})
	}
}

func TestFetchInvalidDataURL(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{
		"/bad64.js":   serve("x()\n//# sourceMappingURL=data:application/json;base64,!!!not*base64!!!\n"),
		"/nocomma.js": serve("x()\n//# sourceMappingURL=data:application/json;base64\n"),
		"/badpct.js":  serve("x()\n//# sourceMappingURL=data:application/json,%7B%ZZ\n"),
	})
	f := NewFetcher(testConfig())
	for _, path := range []string{"/bad64.js", "/nocomma.js", "/badpct.js"} {
		fail := mustFail(t, f, s.URL+path, FailureInvalidDataURL)
		if !strings.Contains(fail.Message, s.URL+path) || fail.Steps[len(fail.Steps)-1].Error == "" {
			t.Errorf("%s: message %q should name the file, last step should carry the error: %+v", path, fail.Message, fail.Steps)
		}
	}
	// Decodes fine but is not a map.
	s2 := newSite(t, map[string]http.HandlerFunc{
		"/notmap.js": serve("x()\n//# sourceMappingURL=data:application/json;base64," + base64.StdEncoding.EncodeToString([]byte(`{"version":2}`)) + "\n"),
	})
	mustFail(t, f, s2.URL+"/notmap.js", FailureInvalidSourcemap)
}

func TestFetchMapFallback(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{
		"/found.js":     serve("x()"),
		"/found.js.map": serve(validMap),
		"/none.js":      serve("x()"),
		"/spa.js":       serve("x()"),
		"/spa.js.map":   serve("<!doctype html><title>app</title>"),
	})
	f := NewFetcher(testConfig())

	got := mustFetch(t, f, s.URL+"/found.js")
	if got.MapURL != s.URL+"/found.js.map" || len(got.Steps) != 2 ||
		got.Steps[0].Found != FoundNothing || got.Steps[1].Action != StepFetchFallback || got.Steps[1].Found != FoundMapFallback {
		t.Fatalf("fallback: MapURL %s, steps %+v", got.MapURL, got.Steps)
	}

	fail := mustFail(t, f, s.URL+"/none.js", FailureNoSourcemapURL)
	want := s.URL + "/none.js has no SourceMap header and no sourceMappingURL comment, and " + s.URL + "/none.js.map answered 404 Not Found"
	if fail.Message != want {
		t.Errorf("message = %q\nwant      %q", fail.Message, want)
	}
	if len(fail.Steps) != 2 || fail.Steps[0].Status != 200 || fail.Steps[0].Bytes != 3 ||
		fail.Steps[1].URL != s.URL+"/none.js.map" || fail.Steps[1].Status != 404 {
		t.Errorf("steps = %+v, want the minified fetch and the 404 fallback", fail.Steps)
	}

	fail = mustFail(t, f, s.URL+"/spa.js", FailureNoSourcemapURL)
	if !strings.Contains(fail.Message, "is not a source map") || !strings.Contains(fail.Message, "<!doctype html>") {
		t.Errorf("an HTML page at <url>.map should be explained: %q", fail.Message)
	}
}

func TestFetchHTTPStatus(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{
		"/app.js": serve("x()\n//# sourceMappingURL=app.js.map"),
		"/app.js.map": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		},
	})
	f := NewFetcher(testConfig())
	fail := mustFail(t, f, s.URL+"/missing.js", FailureHTTPStatus)
	if fail.Message != "GET "+s.URL+"/missing.js answered 404 Not Found" {
		t.Errorf("message = %q", fail.Message)
	}
	fail = mustFail(t, f, s.URL+"/app.js", FailureHTTPStatus)
	if fail.Message != "GET "+s.URL+"/app.js.map answered 500 Internal Server Error" || len(fail.Steps) != 2 || fail.Steps[1].Status != 500 {
		t.Errorf("message = %q, steps %+v", fail.Message, fail.Steps)
	}
}

func TestFetchInvalidSourcemap(t *testing.T) {
	cases := map[string]struct{ body, problem string }{
		"/notjson":    {"<html>nope</html>", "not JSON"},
		"/array":      {`[1,2]`, "not an object"},
		"/version2":   {`{"version":2,"mappings":""}`, `"version" is 2`},
		"/noversion":  {`{"mappings":""}`, `no "version"`},
		"/nomappings": {`{"version":3,"sources":[]}`, `neither "mappings" nor "sections"`},
		"/mapnum":     {`{"version":3,"mappings":12}`, `"mappings" is not a string`},
	}
	routes := map[string]http.HandlerFunc{}
	for path, c := range cases {
		routes[path+".js"] = serve("x()\n//# sourceMappingURL=" + path + ".map")
		routes[path+".map"] = serve(c.body)
	}
	s := newSite(t, routes)
	f := NewFetcher(testConfig())
	for path, c := range cases {
		fail := mustFail(t, f, s.URL+path+".js", FailureInvalidSourcemap)
		if !strings.Contains(fail.Message, c.problem) || !strings.Contains(fail.Message, s.URL+path+".map") {
			t.Errorf("%s: message %q should name the map and say %q", path, fail.Message, c.problem)
		}
		if last := fail.Steps[len(fail.Steps)-1]; last.Action != StepValidateMap || last.Error == "" {
			t.Errorf("%s: last step %+v", path, last)
		}
	}
}

func TestFetchAcceptsIndexMapAndXSSIPrefix(t *testing.T) {
	index := `{"version":3,"sections":[{"offset":{"line":0,"column":0},"map":` + validMap + `}]}`
	s := newSite(t, map[string]http.HandlerFunc{
		"/index.js":  serve("x()\n//# sourceMappingURL=index.map"),
		"/index.map": serve(index),
		"/xssi.js":   serve("x()\n//# sourceMappingURL=xssi.map"),
		"/xssi.map":  serve(")]}'\n" + validMap),
	})
	f := NewFetcher(testConfig())
	if got := mustFetch(t, f, s.URL+"/index.js"); string(got.Map) != index {
		t.Errorf("index map = %q", got.Map)
	}
	if got := mustFetch(t, f, s.URL+"/xssi.js"); string(got.Map) != validMap {
		t.Errorf("XSSI prefix should be stripped: %q", got.Map)
	}
}

func TestFetchInvalidSourcemapURL(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{
		"/webpack.js": serve("x()\n//# sourceMappingURL=webpack:///app.js.map"),
		"/bad.js":     serve("x()", "SourceMap", "http://[::1/app.js.map"),
	})
	f := NewFetcher(testConfig())
	fail := mustFail(t, f, s.URL+"/webpack.js", FailureInvalidSourcemapURL)
	if !strings.Contains(fail.Message, "webpack:///app.js.map") || !strings.Contains(fail.Message, "not an http or https URL") {
		t.Errorf("message = %q", fail.Message)
	}
	mustFail(t, f, s.URL+"/bad.js", FailureInvalidSourcemapURL)
	mustFail(t, f, "file:///etc/passwd", FailureNoReference)
}
