package notify

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"

	"github.com/stacklens/stacklens/db"
)

// InvalidChannelError says, in a sentence for the person filling the form,
// why a channel's settings cannot be saved.
type InvalidChannelError struct{ Reason string }

func (e *InvalidChannelError) Error() string { return e.Reason }

func invalid(format string, args ...any) error {
	return &InvalidChannelError{Reason: fmt.Sprintf(format, args...)}
}

// maxRecipients bounds one email channel; a mailing list is the tool for more.
const maxRecipients = 20

// CheckChannel validates a channel's settings and tidies them in place
// (trimmed name, recipients as bare addresses). The address a webhook URL
// points at is checked when it is dialled, not here: DNS can change.
func CheckChannel(ch *db.NotificationChannel) error {
	ch.Name = strings.TrimSpace(ch.Name)
	if len([]rune(ch.Name)) > 100 {
		return invalid("The name is too long: keep it under 100 characters.")
	}
	switch ch.Kind {
	case db.ChannelWebhook:
		ch.EmailTo = nil
		ch.URL = strings.TrimSpace(ch.URL)
		u, err := url.Parse(ch.URL)
		if ch.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid("The webhook URL must be a full http:// or https:// address, like https://hooks.slack.com/services/….")
		}
		if len(ch.URL) > 2000 {
			return invalid("The webhook URL is too long.")
		}
		if ch.Format != db.WebhookSlack && ch.Format != db.WebhookJSON {
			return invalid("Choose the webhook format: Slack-compatible or plain JSON.")
		}
		if ch.Name == "" {
			ch.Name = u.Host
		}
	case db.ChannelEmail:
		ch.URL, ch.Format = "", ""
		if len(ch.EmailTo) == 0 {
			return invalid("Give at least one email address to send to.")
		}
		if ch.Name == "" {
			ch.Name = strings.Join(ch.EmailTo, ", ")
		}
	default:
		return invalid("Unknown channel kind %q: use webhook or email.", ch.Kind)
	}
	if !ch.OnNewIssue && !ch.OnRegression {
		return invalid("Pick at least one trigger: new issues, regressions or both.")
	}
	return nil
}

// ParseRecipients reads addresses separated by commas, semicolons or line
// breaks and returns them bare ("ops@example.com"), without duplicates.
func ParseRecipients(s string) ([]string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' })
	seen := map[string]bool{}
	var out []string
	for _, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		addr, err := mail.ParseAddress(f)
		if err != nil {
			return nil, invalid("%q is not an email address.", f)
		}
		key := strings.ToLower(addr.Address)
		if !seen[key] {
			seen[key] = true
			out = append(out, addr.Address)
		}
	}
	if len(out) > maxRecipients {
		return nil, invalid("At most %d addresses per channel; use a mailing list for more.", maxRecipients)
	}
	return out, nil
}
