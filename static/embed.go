// Package static holds the stylesheet, script and icons of the pages,
// embedded in the binary and served under content-hashed URLs so browsers
// can cache them forever: URL("app.css") is "/static/app.3f2a9c1b.css".
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Prefix is the URL path under which Handler serves the files.
const Prefix = "/static/"

//go:embed app.css app.js favicon.svg
var files embed.FS

// file is one embedded file and its hashed name.
type file struct {
	name   string // "app.css"
	hashed string // "app.3f2a9c1b.css"
	etag   string
	body   []byte
	ctype  string
}

// catalog indexes the embedded files by plain and by hashed name.
type catalog struct {
	byName   map[string]*file
	byHashed map[string]*file
}

// load hashes every embedded file once, at first use.
var load = sync.OnceValue(func() *catalog {
	c := &catalog{byName: map[string]*file{}, byHashed: map[string]*file{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])[:8]
		ext := path.Ext(p)
		f := &file{
			name:   p,
			hashed: strings.TrimSuffix(p, ext) + "." + hash + ext,
			etag:   `"` + hash + `"`,
			body:   body,
			ctype:  contentType(ext),
		}
		c.byName[f.name] = f
		c.byHashed[f.hashed] = f
		return nil
	})
	if err != nil {
		// The files are compiled in; failing to read them is a build defect.
		panic("static: read embedded files: " + err.Error())
	}
	return c
})

func contentType(ext string) string {
	switch ext {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// URL is the content-hashed URL of an embedded file ("app.css" →
// "/static/app.3f2a9c1b.css"). An unknown name yields its plain URL, which
// Handler answers with 404, so a typo shows as a missing asset rather than
// a broken page.
func URL(name string) string {
	if f, ok := load().byName[name]; ok {
		return Prefix + f.hashed
	}
	return Prefix + name
}

// Has reports whether path (a request path under Prefix, or a bare name)
// names one of our files, hashed or plain. The router uses it to tell our
// files from posthog-js's "/static/<version>/….js" requests.
func Has(path string) bool {
	_, _, ok := lookup(path)
	return ok
}

func lookup(p string) (f *file, hashed bool, ok bool) {
	name := strings.TrimPrefix(strings.TrimPrefix(p, Prefix), "/")
	c := load()
	if f, ok := c.byHashed[name]; ok {
		return f, true, true
	}
	if f, ok := c.byName[name]; ok {
		return f, false, true
	}
	return nil, false, false
}

// Handler serves the embedded files at their hashed paths, cached for a
// year as immutable, and at their plain paths, revalidated by ETag. It
// accepts full request paths ("/static/app.css") and paths with the prefix
// already stripped ("app.css"). Anything else is a 404.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, hashed, ok := lookup(r.URL.Path)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.ctype)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", f.etag)
		if hashed {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
	})
}
