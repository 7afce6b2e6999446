package symbols

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// A bulk upload is two requests: the files arrive and the pairing is shown,
// then the person confirms. Between the two the files wait in the database
// (BatchStore), named by an unguessable batch token, so that the confirmation
// may reach any process (re-submitting them in a hidden form would send up
// to hundreds of MiB through the browser twice); batches older than
// BatchLifetime are removed at the next upload.
const (
	BatchLifetime = time.Hour
	// BatchMaxFiles caps the files of one bulk upload.
	BatchMaxFiles = 500
)

// ErrBatchGone is returned for a batch that expired, was confirmed already,
// or belongs to someone else.
var ErrBatchGone = errors.New("bulk upload batch is gone")

var batchToken = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// BatchOwner is whose a batch is: only they may confirm it.
type BatchOwner struct {
	ProjectID int64
	UserID    int64
}

// KeptBatch is a bulk upload waiting for its confirmation, as a BatchStore keeps it.
type KeptBatch struct {
	TokenHash string // SHA-256 hex of the batch token; the token itself is not kept
	Owner     BatchOwner
	CreatedAt time.Time
	ExpiresAt time.Time
	Files     []UploadFile
}

// BatchStore keeps bulk uploads between their preview and their
// confirmation; db implements it.
type BatchStore interface {
	// SaveUploadBatch keeps a batch and its files.
	SaveUploadBatch(ctx context.Context, b KeptBatch) error
	// UploadBatch loads a batch with its files by the hash of its token;
	// ErrBatchGone when there is none.
	UploadBatch(ctx context.Context, tokenHash string) (KeptBatch, error)
	// DeleteUploadBatch removes a batch; removing one that is gone is no error.
	DeleteUploadBatch(ctx context.Context, tokenHash string) error
	// DeleteUploadBatchesExpiredBefore removes the batches whose ExpiresAt is before t.
	DeleteUploadBatchesExpiredBefore(ctx context.Context, t time.Time) error
}

func batchTokenHash(batch string) string {
	sum := sha256.Sum256([]byte(batch))
	return hex.EncodeToString(sum[:])
}

// KeepBatch keeps a bulk upload's files until it is confirmed or expires,
// and returns the batch token that names them.
func (u *Uploads) KeepBatch(ctx context.Context, owner BatchOwner, files []UploadFile) (string, error) {
	now := u.now()
	if err := u.store.DeleteUploadBatchesExpiredBefore(ctx, now); err != nil {
		return "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("batch token: %w", err)
	}
	batch := base64.RawURLEncoding.EncodeToString(b)
	if err := u.store.SaveUploadBatch(ctx, KeptBatch{TokenHash: batchTokenHash(batch), Owner: owner,
		CreatedAt: now, ExpiresAt: now.Add(BatchLifetime), Files: files}); err != nil {
		return "", err
	}
	return batch, nil
}

// LoadBatch returns the files of a batch kept for owner; ErrBatchGone when
// there is no such batch for them. An expired batch is removed.
func (u *Uploads) LoadBatch(ctx context.Context, batch string, owner BatchOwner) ([]UploadFile, error) {
	if !batchToken.MatchString(batch) {
		return nil, ErrBatchGone
	}
	kept, err := u.store.UploadBatch(ctx, batchTokenHash(batch))
	if err != nil {
		return nil, err
	}
	if u.now().After(kept.ExpiresAt) {
		if err := u.store.DeleteUploadBatch(ctx, kept.TokenHash); err != nil {
			return nil, err
		}
		return nil, ErrBatchGone
	}
	if kept.Owner != owner {
		return nil, ErrBatchGone
	}
	return kept.Files, nil
}

// DropBatch removes a batch once its files are stored.
func (u *Uploads) DropBatch(ctx context.Context, batch string) error {
	if !batchToken.MatchString(batch) {
		return nil
	}
	return u.store.DeleteUploadBatch(ctx, batchTokenHash(batch))
}
