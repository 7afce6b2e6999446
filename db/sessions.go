package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Session is a logged-in browser.
type Session struct {
	TokenHash string
	UserID    int64
	ExpiresAt time.Time
}

// CreateSession stores a session; the caller keeps the token, we keep its hash.
func (d *DB) CreateSession(ctx context.Context, s Session) error {
	now := time.Now()
	if _, err := d.write.ExecContext(ctx,
		"INSERT INTO sessions(token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
		s.TokenHash, s.UserID, millis(now), millis(s.ExpiresAt)); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	// Expired sessions are swept here rather than by a timer: logins are rare and this keeps the table small.
	if _, err := d.write.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at < ?", millis(now)); err != nil {
		return fmt.Errorf("sweep expired sessions: %w", err)
	}
	return nil
}

// SessionUser finds the unexpired session with tokenHash and its user.
func (d *DB) SessionUser(ctx context.Context, tokenHash string, now time.Time) (Session, User, error) {
	var s Session
	var expires int64
	row := d.read.QueryRowContext(ctx, `SELECT s.token_hash, s.user_id, s.expires_at,
		u.id, u.email, u.password_hash, u.is_admin, u.created_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.expires_at > ?`, tokenHash, millis(now))
	var u User
	var created int64
	if err := row.Scan(&s.TokenHash, &s.UserID, &expires, &u.ID, &u.Email, &u.PasswordHash, &u.IsAdmin, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Session{}, User{}, ErrNotFound
		}
		return Session{}, User{}, fmt.Errorf("find session: %w", err)
	}
	s.ExpiresAt = fromMillis(expires)
	u.CreatedAt = fromMillis(created)
	return s, u, nil
}

// DeleteSession logs a browser out.
func (d *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := d.write.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = ?", tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
