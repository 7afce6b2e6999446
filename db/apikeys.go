package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// EnsureAPIKey makes sure a personal API key with keyHash exists for userID
// (used for STACKLENS_API_KEY). It is idempotent across restarts.
func (d *DB) EnsureAPIKey(ctx context.Context, userID int64, label, keyHash, mask string) error {
	if _, err := d.write.ExecContext(ctx, `INSERT INTO api_keys(user_id, label, key_hash, mask, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT(key_hash) DO UPDATE SET revoked_at = NULL`,
		userID, label, keyHash, mask, millis(time.Now())); err != nil {
		return fmt.Errorf("ensure api key: %w", err)
	}
	return nil
}

// UserByAPIKey finds the user owning the unrevoked key with keyHash and marks the key used.
func (d *DB) UserByAPIKey(ctx context.Context, keyHash string) (User, error) {
	row := d.read.QueryRowContext(ctx, `SELECT u.id, u.email, u.password_hash, u.is_admin, u.created_at
		FROM api_keys k JOIN users u ON u.id = k.user_id
		WHERE k.key_hash = ? AND k.revoked_at IS NULL`, keyHash)
	u, err := scanUser(row)
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, sql.ErrNoRows) {
			return User{}, ErrNotFound
		}
		return User{}, fmt.Errorf("find api key: %w", err)
	}
	return u, nil
}
