package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// User is a person who can log in.
type User struct {
	ID           int64
	Email        string
	PasswordHash string
	IsAdmin      bool
	CreatedAt    time.Time
}

// ErrExists is returned when a unique value is taken.
var ErrExists = errors.New("already exists")

const userColumns = "id, email, password_hash, is_admin, created_at"

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var created int64
	if err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.IsAdmin, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return User{}, ErrNotFound
		}
		return User{}, err
	}
	u.CreatedAt = fromMillis(created)
	return u, nil
}

// CountUsers tells how many users exist (0 means first-run setup).
func (d *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateFirstAdmin creates an admin user only if no user exists yet, in one
// transaction so two setup forms submitted at once cannot both win.
func (d *DB) CreateFirstAdmin(ctx context.Context, email, passwordHash string) (User, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return User{}, fmt.Errorf("create first admin: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
		return User{}, fmt.Errorf("create first admin: %w", err)
	}
	if n > 0 {
		return User{}, ErrExists
	}
	var newID int64
	err = tx.QueryRowContext(ctx, "INSERT INTO users(email, password_hash, is_admin, created_at) VALUES (?, ?, 1, ?) RETURNING id",
		email, passwordHash, millis(time.Now())).Scan(&newID)
	if err != nil {
		return User{}, fmt.Errorf("create first admin: %w", err)
	}
	id := newID
	if err := tx.Commit(); err != nil {
		return User{}, fmt.Errorf("create first admin: %w", err)
	}
	return d.UserByID(ctx, id)
}

// UserByEmail finds a user by email, case-insensitively.
func (d *DB) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(d.read.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE email = ?", email))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, fmt.Errorf("find user by email: %w", err)
	}
	return u, err
}

// UserByID loads one user. It reads through the writer so a user created a
// moment ago is always visible.
func (d *DB) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(d.write.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, fmt.Errorf("load user %d: %w", id, err)
	}
	return u, err
}

// FirstAdmin is the oldest admin user.
func (d *DB) FirstAdmin(ctx context.Context) (User, error) {
	u, err := scanUser(d.write.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE is_admin = 1 ORDER BY id LIMIT 1"))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, fmt.Errorf("find first admin: %w", err)
	}
	return u, err
}

// ErrLastAdmin is returned when a change would leave no admin.
var ErrLastAdmin = errors.New("the last admin cannot be removed or made a member")

// otherAdmins counts the admins other than id, inside tx.
func otherAdmins(ctx context.Context, tx *txn, id int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE is_admin = 1 AND id <> ?", id).Scan(&n)
	return n, err
}

// SetUserAdmin makes a user an admin or a member. Demoting the last admin
// is refused with ErrLastAdmin, so someone can always manage the team.
func (d *DB) SetUserAdmin(ctx context.Context, id int64, admin bool) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("set role of user %d: %w", id, err)
	}
	defer tx.Rollback()
	if !admin {
		n, err := otherAdmins(ctx, tx, id)
		if err != nil {
			return fmt.Errorf("set role of user %d: %w", id, err)
		}
		if n == 0 {
			return ErrLastAdmin
		}
	}
	res, err := tx.ExecContext(ctx, "UPDATE users SET is_admin = ? WHERE id = ?", admin, id)
	if err != nil {
		return fmt.Errorf("set role of user %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set role of user %d: %w", id, err)
	}
	return nil
}

// DeleteUser removes a user with their sessions and API keys (the foreign
// keys cascade) in one transaction, so neither works a moment later; issues
// assigned to them become unassigned. Removing the last admin is refused
// with ErrLastAdmin.
func (d *DB) DeleteUser(ctx context.Context, id int64) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	defer tx.Rollback()
	n, err := otherAdmins(ctx, tx, id)
	if err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	if n == 0 {
		return ErrLastAdmin
	}
	// Explicit deletes rather than trusting ON DELETE CASCADE alone: they say
	// what goes, and work on a database opened without foreign_keys.
	for _, q := range []string{"DELETE FROM sessions WHERE user_id = ?", "DELETE FROM api_keys WHERE user_id = ?"} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("delete user %d: %w", id, err)
		}
	}
	res, err := tx.ExecContext(ctx, "DELETE FROM users WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	return nil
}
