// Package testserver runs the real stacklens server — web's echo instance
// with its middleware and route table, the inbox writer and the pipeline
// worker — on a SQLite file in a test's temporary directory, and drives it
// as a browser or a script would: sign in through the setup form, post forms
// with the session's CSRF token, call the API with a personal key. Handler
// tests use it so that a change to a page is caught in seconds.
package testserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/handlers"
	"github.com/stacklens/stacklens/internal/teststore"
	"github.com/stacklens/stacklens/pipeline"
	"github.com/stacklens/stacklens/symbols"
	"github.com/stacklens/stacklens/web"
)

// Credentials of the admin SignIn creates.
const (
	AdminEmail    = "admin@example.test"
	AdminPassword = "correct horse battery staple"
	ProjectToken  = "phc_testserver_token"
)

// Server is a running stacklens for one test. Its client keeps cookies and
// does not follow redirects, so tests see the 303s the pages answer.
type Server struct {
	URL    string
	DB     *db.DB
	Client *http.Client
	t      testing.TB
	csrf   string
	apiKey string
	// captureSeq numbers the events CaptureException sends.
	captureSeq int
}

// New starts a server on a fresh database; options adjust handlers.Options.
func New(t testing.TB, options ...func(*handlers.Options)) *Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store := teststore.Open(t)
	if _, err := store.EnsureDefaultProject(ctx, ProjectToken, ""); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	resolver := symbols.NewResolver(store, symbols.ResolverConfig{Fetch: symbols.DefaultFetchConfig()})
	worker := pipeline.New(store, resolver, log)
	opts := handlers.Options{MaxBodyBytes: 20 << 20, EventLimits: event.DefaultLimits()}
	for _, o := range options {
		o(&opts)
	}
	srv := web.New(store, worker, resolver, opts, log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
		store.Close()
	})
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Server{URL: "http://" + ln.Addr().String(), DB: store, Client: client, t: t}
}

// Response is an answer with its body read.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Has reports whether the body, with HTML entities decoded, contains text:
// pages escape quotes and apostrophes in their sentences.
func (r Response) Has(text string) bool { return strings.Contains(html.UnescapeString(r.Body), text) }

// Location is where a redirect points.
func (r Response) Location() string { return r.Header.Get("Location") }

// Do sends a request and reads the answer.
func (s *Server) Do(req *http.Request) Response {
	s.t.Helper()
	res, err := s.Client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatalf("%s %s: read: %v", req.Method, req.URL, err)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

func (s *Server) request(method, path string, body io.Reader, contentType string) *http.Request {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// Get fetches a path with the client's cookies.
func (s *Server) Get(path string) Response {
	s.t.Helper()
	return s.Do(s.request(http.MethodGet, path, nil, ""))
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// CSRFFrom finds the form token in a page.
func CSRFFrom(page string) string {
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// SignIn signs in as the admin, creating them through the setup form
// first when no user exists yet; the session's CSRF token is kept for
// PostForm.
func (s *Server) SignIn() {
	s.t.Helper()
	if page := s.Get("/setup"); page.Status == http.StatusOK {
		res := s.postForm("/setup", url.Values{"_csrf": {CSRFFrom(page.Body)}, "email": {AdminEmail},
			"password": {AdminPassword}, "password_confirm": {AdminPassword}})
		if res.Status != http.StatusSeeOther {
			s.t.Fatalf("POST /setup: %d %s", res.Status, res.Body)
		}
	}
	if s.Get("/settings/project").Status != http.StatusOK { // setup signs in; else sign in now
		page := s.Get("/login")
		res := s.postForm("/login", url.Values{"_csrf": {CSRFFrom(page.Body)}, "email": {AdminEmail}, "password": {AdminPassword}})
		if res.Status != http.StatusSeeOther {
			s.t.Fatalf("POST /login: %d %s", res.Status, res.Body)
		}
	}
	settings := s.Get("/settings/project")
	if s.csrf = CSRFFrom(settings.Body); s.csrf == "" {
		s.t.Fatalf("signed in, but /settings/project (%d) has no form token", settings.Status)
	}
}

// Browser is another browser on the same server: no cookies, no session.
func (s *Server) Browser() *Server {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: s.Client.CheckRedirect}
	return &Server{URL: s.URL, DB: s.DB, Client: client, t: s.t, apiKey: s.apiKey}
}

// CSRF is the signed-in session's form token.
func (s *Server) CSRF() string { return s.csrf }

func (s *Server) postForm(path string, form url.Values) Response {
	s.t.Helper()
	return s.Do(s.request(http.MethodPost, path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"))
}

// PostForm posts a form as the signed-in person's browser would, with the
// session's CSRF token.
func (s *Server) PostForm(path string, form url.Values) Response {
	s.t.Helper()
	with := url.Values{"_csrf": {s.csrf}}
	for k, v := range form {
		with[k] = v
	}
	return s.postForm(path, with)
}

// PostFormWithoutCSRF posts a form without a token, as a forged one would arrive.
func (s *Server) PostFormWithoutCSRF(path string, form url.Values) Response {
	s.t.Helper()
	return s.postForm(path, form)
}

// File is a file part of a multipart form.
type File struct {
	Field, Name string
	Data        []byte
}

// PostMultipart posts a multipart form with files and the session's CSRF token.
func (s *Server) PostMultipart(path string, fields url.Values, files ...File) Response {
	s.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", s.csrf)
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	for _, f := range files {
		part, err := w.CreateFormFile(f.Field, f.Name)
		if err != nil {
			s.t.Fatal(err)
		}
		_, _ = part.Write(f.Data)
	}
	_ = w.Close()
	return s.Do(s.request(http.MethodPost, path, &body, w.FormDataContentType()))
}

// APIKey returns a personal API key of the admin (signing in first if needed).
func (s *Server) APIKey() string {
	s.t.Helper()
	if s.apiKey != "" {
		return s.apiKey
	}
	if s.csrf == "" {
		s.SignIn()
	}
	user, err := s.DB.UserByEmail(context.Background(), AdminEmail)
	if err != nil {
		s.t.Fatal(err)
	}
	key := "phx_testserver_" + strings.Repeat("k", 32)
	if err := s.DB.EnsureAPIKey(context.Background(), user.ID, "tests", handlers.HashSecret(key), "phx_…kkkk"); err != nil {
		s.t.Fatal(err)
	}
	s.apiKey = key
	return key
}

// API calls the JSON API with the personal key; body is sent as JSON when not nil.
func (s *Server) API(method, path, body string) Response {
	s.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := s.request(method, path, r, "application/json")
	req.Header.Set("Authorization", "Bearer "+s.APIKey())
	return s.Do(req)
}

// CaptureException sends one $exception event as posthog-js does and
// waits (at most 10 s) until the worker stored it, so that pages and the API
// show it. It returns the id of the issue the event went into.
func (s *Server) CaptureException(typ, value string) int64 {
	s.t.Helper()
	s.captureSeq++
	uuid := fmt.Sprintf("0190a1b2-c3d4-7e5f-8a9b-%012d", s.captureSeq)
	ev, _ := json.Marshal(map[string]any{"api_key": ProjectToken, "event": "$exception", "uuid": uuid, "distinct_id": "tester",
		"properties": map[string]any{"$exception_list": []any{map[string]any{"type": typ, "value": value,
			"mechanism": map[string]any{"handled": false, "type": "generic"},
			"stacktrace": map[string]any{"type": "raw", "frames": []any{map[string]any{"platform": "web:javascript",
				"filename": "app.js", "function": "crash", "lineno": 1, "colno": 10, "in_app": true}}}}}}})
	res := s.Do(s.request(http.MethodPost, "/e/", bytes.NewReader(ev), "application/json"))
	if res.Status != http.StatusOK {
		s.t.Fatalf("capture: %d %s", res.Status, res.Body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := s.API(http.MethodGet, "/api/projects/1/error_tracking/issues?limit=100", "")
		var list struct {
			Results []struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
			} `json:"results"`
		}
		_ = json.Unmarshal([]byte(got.Body), &list)
		for _, is := range list.Results {
			if is.Name == typ {
				return is.ID
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the captured %s was not stored within 10 s: %s", typ, got.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
