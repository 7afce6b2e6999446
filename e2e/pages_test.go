package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// browser is a cookie-keeping HTTP client for the server-rendered pages. It
// never follows redirects, so tests can check where a redirect points.
type browser struct {
	base string
	http *http.Client
}

func newBrowser(t *testing.T, s *server) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookie jar: %v", err)
	}
	return &browser{base: s.URL, http: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is one answer: status, Location, headers and body.
type page struct {
	Status   int
	Location string
	Header   http.Header
	Body     string
}

func (b *browser) get(t *testing.T, path string) page {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, b.base+path, nil)
	if err != nil {
		t.Fatalf("build GET %s: %v", path, err)
	}
	return b.do(t, req)
}

// postForm posts url-encoded fields to path.
func (b *browser) postForm(t *testing.T, path string, fields url.Values) page {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, b.base+path, strings.NewReader(fields.Encode()))
	if err != nil {
		t.Fatalf("build POST %s: %v", path, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(t, req)
}

// postMultipart posts fields as multipart/form-data (file inputs get a small file).
func (b *browser) postMultipart(t *testing.T, path string, fields url.Values, fileFields []string) page {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for name, values := range fields {
		for _, v := range values {
			if err := w.WriteField(name, v); err != nil {
				t.Fatalf("multipart field %s: %v", name, err)
			}
		}
	}
	for _, name := range fileFields {
		fw, err := w.CreateFormFile(name, "app.js.map")
		if err != nil {
			t.Fatalf("multipart file %s: %v", name, err)
		}
		fmt.Fprint(fw, `{"version":3,"sources":[],"names":[],"mappings":""}`)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close multipart: %v", err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, b.base+path, &body)
	if err != nil {
		t.Fatalf("build POST %s: %v", path, err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(t, req)
}

func (b *browser) do(t *testing.T, req *http.Request) page {
	t.Helper()
	resp, err := b.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", req.Method, req.URL.Path, err)
	}
	return page{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Header: resp.Header, Body: string(raw)}
}

// login signs in as the admin through the real form and checks the redirect.
func (b *browser) login(t *testing.T) {
	t.Helper()
	login := b.get(t, "/login")
	if login.Status != http.StatusOK {
		t.Fatalf("GET /login: status %d, want 200", login.Status)
	}
	form, ok := findForm(t, login.Body, func(f form) bool { return f.has("password") })
	if !ok {
		t.Fatalf("GET /login: no form with a password field in:\n%s", truncate(login.Body, 2000))
	}
	fields := form.Fields
	fields.Set("email", adminEmail)
	fields.Set("password", adminPassword)
	got := b.postForm(t, "/login", fields)
	if got.Status != http.StatusSeeOther {
		t.Fatalf("POST /login: status %d, want 303; body:\n%s", got.Status, truncate(got.Body, 2000))
	}
}

// form is one <form> of a page: where it posts and the values it would send.
type form struct {
	Method  string
	Action  string
	Enctype string
	Fields  url.Values
	Files   []string
}

func (f form) has(name string) bool {
	_, ok := f.Fields[name]
	return ok
}

// forms parses every <form> in an HTML page, with the values of its inputs,
// textareas and selects as a browser would submit them unchanged.
func forms(t *testing.T, doc string, pagePath string) []form {
	t.Helper()
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("parse HTML of %s: %v", pagePath, err)
	}
	var out []form
	var walk func(n *html.Node, cur *form)
	walk = func(n *html.Node, cur *form) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				f := form{
					Method:  strings.ToUpper(attr(n, "method")),
					Action:  attr(n, "action"),
					Enctype: attr(n, "enctype"),
					Fields:  url.Values{},
				}
				if f.Method == "" {
					f.Method = http.MethodGet
				}
				if f.Action == "" {
					f.Action = pagePath
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c, &f)
				}
				out = append(out, f)
				return
			case "input":
				if cur != nil && attr(n, "name") != "" {
					switch strings.ToLower(attr(n, "type")) {
					case "file":
						cur.Files = append(cur.Files, attr(n, "name"))
					case "checkbox", "radio":
						if hasAttr(n, "checked") {
							cur.Fields.Add(attr(n, "name"), valueOr(n, "on"))
						}
					case "submit", "button", "image", "reset":
					default:
						cur.Fields.Add(attr(n, "name"), attr(n, "value"))
					}
				}
			case "textarea":
				if cur != nil && attr(n, "name") != "" {
					cur.Fields.Add(attr(n, "name"), textOf(n))
				}
			case "select":
				if cur != nil && attr(n, "name") != "" {
					cur.Fields.Add(attr(n, "name"), selectedOption(n))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, cur)
		}
	}
	walk(root, nil)
	return out
}

// findForm returns the first form of the page that match accepts.
func findForm(t *testing.T, doc string, match func(form) bool) (form, bool) {
	t.Helper()
	for _, f := range forms(t, doc, "") {
		if match(f) {
			return f, true
		}
	}
	return form{}, false
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func valueOr(n *html.Node, def string) string {
	if hasAttr(n, "value") {
		return attr(n, "value")
	}
	return def
}

func selectedOption(sel *html.Node) string {
	first, chosen := "", ""
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "option" {
			v := valueOr(n, textOf(n))
			if first == "" {
				first = v
			}
			if hasAttr(n, "selected") && chosen == "" {
				chosen = v
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(sel)
	if chosen != "" {
		return chosen
	}
	return first
}

func textOf(n *html.Node) string {
	var sb strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			sb.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return sb.String()
}

// pageText is the visible text of an HTML page (scripts and styles left out),
// entities decoded and every run of whitespace folded to one space, so tests
// can look for source lines however the page splits them into elements.
func pageText(t *testing.T, doc string) string {
	t.Helper()
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	var sb strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "style" || n.Data == "head") {
			return
		}
		if n.Type == html.TextNode {
			sb.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return foldSpace(sb.String())
}

var spaceRun = regexp.MustCompile(`\s+`)

func foldSpace(s string) string {
	return strings.TrimSpace(spaceRun.ReplaceAllString(s, " "))
}
