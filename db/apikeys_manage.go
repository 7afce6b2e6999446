package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// APIKey is a personal API key as the settings page lists it; the key
// itself is never stored, only its hash and a mask to recognise it by.
type APIKey struct {
	ID         int64
	Label      string
	Mask       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero when never used
}

// CreateAPIKey stores a new personal API key of userID by its hash.
func (d *DB) CreateAPIKey(ctx context.Context, userID int64, label, keyHash, mask string) (APIKey, error) {
	now := time.Now()
	var id int64
	err := d.write.QueryRowContext(ctx, `INSERT INTO api_keys(user_id, label, key_hash, mask, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		userID, label, keyHash, mask, millis(now)).Scan(&id)
	if err != nil {
		return APIKey{}, fmt.Errorf("create api key: %w", err)
	}
	return APIKey{ID: id, Label: label, Mask: mask, CreatedAt: fromMillis(millis(now))}, nil
}

// APIKeys lists the unrevoked keys of a user, newest first.
func (d *DB) APIKeys(ctx context.Context, userID int64) ([]APIKey, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT id, label, mask, created_at, last_used_at FROM api_keys
		WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		var k APIKey
		var created int64
		var used sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Label, &k.Mask, &created, &used); err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		k.CreatedAt, k.LastUsedAt = fromMillis(created), nullMillis(used)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey revokes a key of userID; ErrNotFound when the user has no
// such unrevoked key.
func (d *DB) RevokeAPIKey(ctx context.Context, userID, id int64) error {
	res, err := d.write.ExecContext(ctx, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
		millis(time.Now()), id, userID)
	if err != nil {
		return fmt.Errorf("revoke api key %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// TouchAPIKey records that a key was just used. It writes at most once a
// minute per key, so a busy CI job does not turn every API call into a write.
func (d *DB) TouchAPIKey(ctx context.Context, keyHash string) error {
	now := millis(time.Now())
	if _, err := d.write.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ?
		WHERE key_hash = ? AND (last_used_at IS NULL OR last_used_at < ?)`, now, keyHash, now-60_000); err != nil {
		return fmt.Errorf("touch api key: %w", err)
	}
	return nil
}

// APIKeyOwner is the user an unrevoked key belongs to; ErrNotFound when
// there is no such unrevoked key.
func (d *DB) APIKeyOwner(ctx context.Context, id int64) (int64, error) {
	var owner int64
	err := d.read.QueryRowContext(ctx, "SELECT user_id FROM api_keys WHERE id = ? AND revoked_at IS NULL", id).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("find owner of api key %d: %w", id, err)
	}
	return owner, nil
}
