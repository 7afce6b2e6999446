package symbols

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Short-lived links handed to posthog-cli (where PostHog hands out S3
// presigned URLs) carry a token signed with a server secret kept in the
// database: "<purpose>.<project>.<id>.<expiry unix>.<HMAC-SHA256>".
const (
	LinkUpload   = "upload"   // the target of a started API upload; id is the pending upload
	LinkDownload = "download" // a symbol set's blob; id is the symbol set

	signingSecretName = "signed-links"
)

type linkSigner struct{ secret []byte }

// links loads the signing secret. It writes on first use, so it is called
// before a transaction, never inside one.
func (u *Uploads) links(ctx context.Context) (linkSigner, error) {
	secret, err := u.store.ServerSecret(ctx, signingSecretName)
	if err != nil {
		return linkSigner{}, fmt.Errorf("signing key: %w", err)
	}
	return linkSigner{secret: secret}, nil
}

func (s linkSigner) sign(purpose string, projectID, id int64, expires time.Time) string {
	payload := fmt.Sprintf("%s.%d.%d.%d", purpose, projectID, id, expires.Unix())
	return payload + "." + s.mac(payload)
}

// verify checks a token's signature, purpose and expiry.
func (s linkSigner) verify(purpose, token string, now time.Time) (projectID, id int64, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 5 || parts[0] != purpose {
		return 0, 0, false
	}
	payload := strings.Join(parts[:4], ".")
	if !hmac.Equal([]byte(parts[4]), []byte(s.mac(payload))) {
		return 0, 0, false
	}
	projectID, err1 := strconv.ParseInt(parts[1], 10, 64)
	id, err2 := strconv.ParseInt(parts[2], 10, 64)
	expires, err3 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || now.Unix() > expires {
		return 0, 0, false
	}
	return projectID, id, true
}

func (s linkSigner) mac(payload string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// SignLink makes a link token for purpose (LinkDownload) valid until expires.
func (u *Uploads) SignLink(ctx context.Context, purpose string, projectID, id int64, expires time.Time) (string, error) {
	links, err := u.links(ctx)
	if err != nil {
		return "", err
	}
	return links.sign(purpose, projectID, id, expires), nil
}

// VerifyLink checks a link token; ok is false when it is forged, of another
// purpose or expired.
func (u *Uploads) VerifyLink(ctx context.Context, purpose, token string) (projectID, id int64, ok bool, err error) {
	links, err := u.links(ctx)
	if err != nil {
		return 0, 0, false, err
	}
	projectID, id, ok = links.verify(purpose, token, u.now())
	return projectID, id, ok, nil
}
