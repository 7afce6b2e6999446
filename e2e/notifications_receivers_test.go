package e2e

import (
	"bufio"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// hook is one request a webhook receiver got.
type hook struct {
	Method      string
	ContentType string
	Body        []byte
}

// webhookReceiver is an HTTP server on loopback that records every request
// and answers with status (and body).
type webhookReceiver struct {
	URL  string
	got  chan hook
	mu   sync.Mutex
	seen int
}

func newWebhookReceiver(t *testing.T, status int, answer string) *webhookReceiver {
	t.Helper()
	r := &webhookReceiver{got: make(chan hook, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.seen++
		r.mu.Unlock()
		select {
		case r.got <- hook{Method: req.Method, ContentType: req.Header.Get("Content-Type"), Body: body}:
		default:
		}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/hook"
	return r
}

// next waits for the next request or fails the test after processDeadline.
func (r *webhookReceiver) next(t *testing.T, what string) hook {
	t.Helper()
	select {
	case h := <-r.got:
		return h
	case <-time.After(processDeadline):
		t.Fatalf("gave up after %s waiting for %s", processDeadline, what)
		return hook{}
	}
}

// count is how many requests arrived so far.
func (r *webhookReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen
}

// mailMessage is one message an smtpReceiver accepted.
type mailMessage struct {
	From string
	To   []string
	Data string
}

// smtpReceiver is a minimal SMTP server on loopback: enough of RFC 5321
// (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for a client to deliver.
type smtpReceiver struct {
	Host string
	Port string
	got  chan mailMessage
}

func newSMTPReceiver(t *testing.T) *smtpReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for SMTP: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	r := &smtpReceiver{Host: host, Port: port, got: make(chan mailMessage, 10)}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(conn)
		}
	}()
	return r
}

func (r *smtpReceiver) serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(processDeadline))
	in := bufio.NewReader(conn)
	reply := func(s string) { io.WriteString(conn, s+"\r\n") }
	reply("220 e2e.test ESMTP ready")
	var msg mailMessage
	for {
		line, err := in.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch {
		case verb == "EHLO":
			reply("250-e2e.test greets you")
			reply("250 8BITMIME")
		case verb == "HELO", verb == "NOOP":
			reply("250 ok")
		case verb == "RSET":
			msg = mailMessage{}
			reply("250 ok")
		case strings.HasPrefix(strings.ToUpper(line), "MAIL FROM:"):
			msg = mailMessage{From: angle(line)}
			reply("250 ok")
		case strings.HasPrefix(strings.ToUpper(line), "RCPT TO:"):
			msg.To = append(msg.To, angle(line))
			reply("250 ok")
		case verb == "DATA":
			reply("354 end with <CRLF>.<CRLF>")
			var data strings.Builder
			for {
				l, err := in.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, ".")) // undo dot-stuffing
			}
			msg.Data = data.String()
			r.got <- msg
			reply("250 queued")
		case verb == "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}

func angle(line string) string {
	if i, j := strings.Index(line, "<"), strings.LastIndex(line, ">"); i >= 0 && j > i {
		return line[i+1 : j]
	}
	return ""
}

func (r *smtpReceiver) next(t *testing.T, what string) mailMessage {
	t.Helper()
	select {
	case m := <-r.got:
		return m
	case <-time.After(processDeadline):
		t.Fatalf("gave up after %s waiting for %s", processDeadline, what)
		return mailMessage{}
	}
}

// parsedMail is a received message decoded: subject and each text part.
type parsedMail struct {
	Subject string
	Parts   map[string]string // by media type: text/plain, text/html
}

func parseMail(t *testing.T, data string) parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("parse email: %v\n%s", err, truncate(data, 2000))
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode Subject %q: %v", m.Header.Get("Subject"), err)
	}
	out := parsedMail{Subject: subject, Parts: map[string]string{}}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mediaType, "multipart/") {
		t.Fatalf("email Content-Type %q: want multipart/alternative (%v)", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read email part: %v", err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("read email part: %v", err)
		}
		partType, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out.Parts[partType] = string(body)
	}
	return out
}

// addChannel fills the add form of /settings/notifications that has field
// key (url for webhooks, email_to for email) and posts it; it returns the answer.
func addChannel(t *testing.T, b *browser, key string, set url.Values) page {
	t.Helper()
	p := b.get(t, "/settings/notifications")
	if p.Status != http.StatusOK {
		t.Fatalf("GET /settings/notifications: status %d:\n%s", p.Status, truncate(p.Body, 2000))
	}
	f, ok := findForm(t, p.Body, func(f form) bool { return f.has(key) && f.Method == http.MethodPost })
	if !ok {
		t.Fatalf("/settings/notifications: no form with field %s", key)
	}
	for k, vs := range set {
		f.Fields[k] = vs
	}
	return b.postForm(t, f.Action, f.Fields)
}

// mustAddChannel adds a channel and requires the redirect back to the list.
func mustAddChannel(t *testing.T, b *browser, key string, set url.Values) {
	t.Helper()
	if got := addChannel(t, b, key, set); got.Status != http.StatusSeeOther {
		t.Fatalf("add channel %v: status %d, want 303:\n%s", set, got.Status, truncate(pageText(t, got.Body), 2000))
	}
}

// deliveryRows returns the rows of the delivery tables of a page, each as its
// cells' text joined by " | ", e.g. "just now | Hook | New issue: TypeError | 2 | Failed 500 HTTP 500 …".
func deliveryRows(t *testing.T, doc string) []string {
	t.Helper()
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	var rows []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "tr" && strings.Contains(attr(n, "class"), "delivery-row") {
			var cells []string
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && c.Data == "td" {
					cells = append(cells, foldSpace(textOf(c)))
				}
			}
			rows = append(rows, strings.Join(cells, " | "))
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return rows
}

// hasDeliveryRow tells whether some delivery row contains every part.
func hasDeliveryRow(rows []string, parts ...string) bool {
	for _, r := range rows {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(r, p)
		}
		if all {
			return true
		}
	}
	return false
}
