package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// SMTPConfig is the server's outgoing mail account (STACKLENS_SMTP_*).
type SMTPConfig struct {
	Host     string
	Port     int // 465 means TLS from the start; other ports use STARTTLS when the server offers it
	Username string
	Password string
	From     string // the From address, e.g. "stacklens <alerts@example.com>"
}

// Configured tells whether email can be sent at all.
func (c SMTPConfig) Configured() bool { return c.Host != "" }

// mailSender speaks SMTP to the configured server. The server is set by the
// operator, not by users, so it is not subject to the address guard.
type mailSender struct {
	cfg     SMTPConfig
	timeout time.Duration
}

// errNoSMTP is the failure of every email delivery while SMTP is not set up.
var errNoSMTP = permanent(errors.New("email is not configured: set STACKLENS_SMTP_HOST (and STACKLENS_SMTP_FROM) on the server"))

// send delivers msg to every recipient and reports the last SMTP reply code
// on failure (0 when the server never answered).
func (s mailSender) send(ctx context.Context, to []string, msg []byte) (int, error) {
	if !s.cfg.Configured() {
		return 0, errNoSMTP
	}
	from, err := mail.ParseAddress(s.cfg.From)
	if err != nil {
		return 0, permanent(fmt.Errorf("STACKLENS_SMTP_FROM %q is not an email address: %w", s.cfg.From, err))
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	dialer := &net.Dialer{Timeout: s.timeout}
	var conn net.Conn
	if s.cfg.Port == 465 {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: &tls.Config{ServerName: s.cfg.Host}}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return 0, fmt.Errorf("connect to SMTP server %s: %w", addr, err)
	}
	// net/smtp knows no contexts: closing the connection ends whatever step is waiting.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		conn.Close()
		return smtpCode(err), fmt.Errorf("SMTP greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.Hello("stacklens"); err != nil {
		return smtpCode(err), fmt.Errorf("SMTP EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && s.cfg.Port != 465 {
		if err := c.StartTLS(&tls.Config{ServerName: s.cfg.Host}); err != nil {
			return smtpCode(err), fmt.Errorf("SMTP STARTTLS: %w", err)
		}
	}
	if s.cfg.Username != "" {
		// PlainAuth refuses to send the password over an unencrypted
		// connection to anything but localhost.
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return smtpCode(err), permanent(fmt.Errorf("SMTP AUTH: %w", err))
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return smtpCode(err), fmt.Errorf("SMTP MAIL FROM: %w", err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return smtpCode(err), fmt.Errorf("SMTP RCPT TO %s: %w", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return smtpCode(err), fmt.Errorf("SMTP DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return 0, fmt.Errorf("SMTP send message: %w", err)
	}
	if err := w.Close(); err != nil {
		return smtpCode(err), fmt.Errorf("SMTP end of message: %w", err)
	}
	// The message was accepted at the end of DATA; a failed QUIT does not undo that.
	_ = c.Quit()
	return 250, nil
}

func smtpCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

var emailHTML = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html><body style="font-family: system-ui, sans-serif; color: #1f2328;">
<p style="color: #59636e; margin: 0 0 8px;">{{.What}} in {{.Project}}</p>
<h1 style="font-size: 20px; margin: 0 0 8px;">{{if .Link}}<a href="{{.Link}}">{{.Name}}</a>{{else}}{{.Name}}{{end}}</h1>
{{if .Description}}<pre style="white-space: pre-wrap; background: #f6f8fa; padding: 8px; border-radius: 6px;">{{.Description}}</pre>{{end}}
<p style="color: #59636e;">{{.Facts}}</p>
<p>{{if .Link}}<a href="{{.Link}}">Open the issue in stacklens</a>{{else}}In stacklens: {{.Path}}{{end}}</p>
</body></html>
`))

// emailMessage builds the whole RFC 5322 message: headers, then a plain-text
// and an HTML alternative, both quoted-printable.
func emailMessage(m Message, from string, to []string, now time.Time) ([]byte, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	header := func(k, v string) { fmt.Fprintf(&buf, "%s: %s\r\n", k, v) }
	header("From", from)
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine("[stacklens] "+m.headline())))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+rand.Text()+"@stacklens>")
	header("MIME-Version", "1.0")
	header("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	header("Auto-Submitted", "auto-generated")
	buf.WriteString("\r\n")

	what, _, _ := strings.Cut(m.headline(), " in ")
	link := ""
	if strings.HasPrefix(m.IssueURL, "http://") || strings.HasPrefix(m.IssueURL, "https://") {
		link = m.IssueURL
	}
	var text strings.Builder
	fmt.Fprintf(&text, "%s\n\n", m.headline())
	if m.Issue.Description != "" {
		fmt.Fprintf(&text, "%s\n\n", visible(m.Issue.Description))
	}
	fmt.Fprintf(&text, "%s\n\n", strings.Join(m.facts(), " · "))
	fmt.Fprintf(&text, "Open it in stacklens: %s\n", m.IssueURL)
	var html bytes.Buffer
	if err := emailHTML.Execute(&html, map[string]any{
		"What": what, "Project": name(m.Project.Name), "Name": name(m.Issue.Name), "Description": visible(m.Issue.Description),
		"Facts": strings.Join(m.facts(), " · "), "Link": template.URL(link), "Path": m.IssueURL,
	}); err != nil {
		return nil, fmt.Errorf("render email: %w", err)
	}
	for _, part := range []struct {
		contentType string
		body        []byte
	}{{"text/plain; charset=utf-8", []byte(text.String())}, {"text/html; charset=utf-8", html.Bytes()}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type": {part.contentType}, "Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("build email: %w", err)
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := qp.Write(part.body); err != nil {
			return nil, fmt.Errorf("build email: %w", err)
		}
		if err := qp.Close(); err != nil {
			return nil, fmt.Errorf("build email: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("build email: %w", err)
	}
	return buf.Bytes(), nil
}
