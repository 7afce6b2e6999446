package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Invite is a pending invitation to join as a user.
type Invite struct {
	ID        int64
	Email     string
	IsAdmin   bool
	InvitedBy int64 // 0 when that user was removed
	CreatedAt time.Time
	ExpiresAt time.Time
}

const inviteColumns = "id, email, is_admin, COALESCE(invited_by, 0), created_at, expires_at"

// pendingInvite is the condition of an invite that can still be accepted.
const pendingInvite = "accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?"

func scanInvite(row interface{ Scan(...any) error }) (Invite, error) {
	var in Invite
	var created, expires int64
	if err := row.Scan(&in.ID, &in.Email, &in.IsAdmin, &in.InvitedBy, &created, &expires); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Invite{}, ErrNotFound
		}
		return Invite{}, err
	}
	in.CreatedAt, in.ExpiresAt = fromMillis(created), fromMillis(expires)
	return in, nil
}

// CreateInvite stores an invitation by the hash of its token. An email
// that already has an account is refused with ErrExists; an earlier
// pending invite of the same email is revoked, so only the newest link works.
func (d *DB) CreateInvite(ctx context.Context, tokenHash, email string, admin bool, invitedBy int64, expires time.Time) (Invite, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return Invite{}, fmt.Errorf("create invite: %w", err)
	}
	defer tx.Rollback()
	var users int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE email = ?", email).Scan(&users); err != nil {
		return Invite{}, fmt.Errorf("create invite: %w", err)
	}
	if users > 0 {
		return Invite{}, ErrExists
	}
	now := millis(time.Now())
	if _, err := tx.ExecContext(ctx, "UPDATE invites SET revoked_at = ? WHERE email = ? AND "+pendingInvite, now, email, now); err != nil {
		return Invite{}, fmt.Errorf("create invite: %w", err)
	}
	var newID int64
	err = tx.QueryRowContext(ctx, `INSERT INTO invites(token_hash, email, is_admin, invited_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, tokenHash, email, admin, invitedBy, now, millis(expires)).Scan(&newID)
	if err != nil {
		return Invite{}, fmt.Errorf("create invite: %w", err)
	}
	id := newID
	in, err := scanInvite(tx.QueryRowContext(ctx, "SELECT "+inviteColumns+" FROM invites WHERE id = ?", id))
	if err != nil {
		return Invite{}, fmt.Errorf("create invite: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Invite{}, fmt.Errorf("create invite: %w", err)
	}
	return in, nil
}

// PendingInvites lists invitations that can still be accepted, newest first.
func (d *DB) PendingInvites(ctx context.Context, now time.Time) ([]Invite, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT "+inviteColumns+" FROM invites WHERE "+pendingInvite+" ORDER BY id DESC", millis(now))
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	defer rows.Close()
	var out []Invite
	for rows.Next() {
		in, err := scanInvite(rows)
		if err != nil {
			return nil, fmt.Errorf("list invites: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// PendingInvite finds the invitation with tokenHash if it can still be
// accepted; ErrNotFound when it is unknown, used, revoked or expired.
func (d *DB) PendingInvite(ctx context.Context, tokenHash string, now time.Time) (Invite, error) {
	in, err := scanInvite(d.write.QueryRowContext(ctx, "SELECT "+inviteColumns+" FROM invites WHERE token_hash = ? AND "+pendingInvite, tokenHash, millis(now)))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Invite{}, fmt.Errorf("find invite: %w", err)
	}
	return in, err
}

// AcceptInvite turns a pending invitation into a user with passwordHash,
// in one transaction: the link works once. ErrNotFound when the invite can
// no longer be accepted, ErrExists when the email got an account meanwhile.
func (d *DB) AcceptInvite(ctx context.Context, tokenHash, passwordHash string, now time.Time) (User, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return User{}, fmt.Errorf("accept invite: %w", err)
	}
	defer tx.Rollback()
	in, err := scanInvite(tx.QueryRowContext(ctx, "SELECT "+inviteColumns+" FROM invites WHERE token_hash = ? AND "+pendingInvite, tokenHash, millis(now)))
	if errors.Is(err, ErrNotFound) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("accept invite: %w", err)
	}
	var users int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE email = ?", in.Email).Scan(&users); err != nil {
		return User{}, fmt.Errorf("accept invite: %w", err)
	}
	if users > 0 {
		return User{}, ErrExists
	}
	var newID int64
	err = tx.QueryRowContext(ctx, "INSERT INTO users(email, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?) RETURNING id",
		in.Email, passwordHash, in.IsAdmin, millis(now)).Scan(&newID)
	if err != nil {
		return User{}, fmt.Errorf("accept invite: %w", err)
	}
	id := newID
	if _, err := tx.ExecContext(ctx, "UPDATE invites SET accepted_at = ? WHERE id = ?", millis(now), in.ID); err != nil {
		return User{}, fmt.Errorf("accept invite: %w", err)
	}
	u, err := scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
	if err != nil {
		return User{}, fmt.Errorf("accept invite: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return User{}, fmt.Errorf("accept invite: %w", err)
	}
	return u, nil
}

// RevokeInvite cancels a pending invitation; ErrNotFound when there is none.
func (d *DB) RevokeInvite(ctx context.Context, id int64) error {
	now := millis(time.Now())
	res, err := d.write.ExecContext(ctx, "UPDATE invites SET revoked_at = ? WHERE id = ? AND "+pendingInvite, now, id, now)
	if err != nil {
		return fmt.Errorf("revoke invite %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
