package handlers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Short-lived links handed to posthog-cli (where PostHog hands out S3
// presigned URLs) carry a token signed with a server secret kept in the
// database: "<purpose>.<project>.<id>.<expiry unix>.<HMAC-SHA256>".
const (
	signingSecretName = "signed-links"
	purposeUpload     = "upload"
	purposeDownload   = "download"
	uploadLinkTTL     = time.Hour
	downloadLinkTTL   = 10 * time.Minute
)

var errBadToken = errors.New("invalid or expired link")

func (h *Handlers) signToken(ctx context.Context, purpose string, projectID, id int64, expires time.Time) (string, error) {
	secret, err := h.db.ServerSecret(ctx, signingSecretName)
	if err != nil {
		return "", err
	}
	payload := fmt.Sprintf("%s.%d.%d.%d", purpose, projectID, id, expires.Unix())
	return payload + "." + tokenMAC(secret, payload), nil
}

// verifyToken checks a token's signature, purpose and expiry.
func (h *Handlers) verifyToken(ctx context.Context, purpose, token string) (projectID, id int64, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 5 || parts[0] != purpose {
		return 0, 0, errBadToken
	}
	secret, err := h.db.ServerSecret(ctx, signingSecretName)
	if err != nil {
		return 0, 0, err
	}
	payload := strings.Join(parts[:4], ".")
	if !hmac.Equal([]byte(parts[4]), []byte(tokenMAC(secret, payload))) {
		return 0, 0, errBadToken
	}
	projectID, err1 := strconv.ParseInt(parts[1], 10, 64)
	id, err2 := strconv.ParseInt(parts[2], 10, 64)
	expires, err3 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || time.Now().Unix() > expires {
		return 0, 0, errBadToken
	}
	return projectID, id, nil
}

func tokenMAC(secret []byte, payload string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
