package db

import (
	"context"
	"fmt"
	"time"
)

// Failed sign-ins (signin.Store), kept in the database so that every
// process sharing it counts the same failures and a restart forgets none.

// RecordSignInFailure keeps one failed sign-in naming account from address
// at at, and deletes the failures at or before forgetBefore in the same
// transaction.
func (d *DB) RecordSignInFailure(ctx context.Context, account, address string, at, forgetBefore time.Time) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record a failed sign-in: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "INSERT INTO signin_failures(account_key, address_key, failed_at) VALUES (?, ?, ?)",
		account, address, millis(at)); err != nil {
		return fmt.Errorf("record a failed sign-in: %w", err)
	}
	if err := forgetSignInFailures(ctx, tx, forgetBefore); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record a failed sign-in: %w", err)
	}
	return nil
}

// ForgetSignInFailuresOfAccount stops counting account's failures against
// it; they still count against the addresses they came from. Failures at or
// before forgetBefore are deleted in the same transaction.
func (d *DB) ForgetSignInFailuresOfAccount(ctx context.Context, account string, forgetBefore time.Time) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("clear the failed sign-ins of an account: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "UPDATE signin_failures SET account_key = NULL WHERE account_key = ?", account); err != nil {
		return fmt.Errorf("clear the failed sign-ins of an account: %w", err)
	}
	if err := forgetSignInFailures(ctx, tx, forgetBefore); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("clear the failed sign-ins of an account: %w", err)
	}
	return nil
}

func forgetSignInFailures(ctx context.Context, tx *txn, before time.Time) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM signin_failures WHERE failed_at <= ?", millis(before)); err != nil {
		return fmt.Errorf("delete old failed sign-ins: %w", err)
	}
	return nil
}

// SignInFailuresOfAccount are the times of account's newest failures after
// since, newest first, at most n of them.
func (d *DB) SignInFailuresOfAccount(ctx context.Context, account string, since time.Time, n int) ([]time.Time, error) {
	return d.signInFailures(ctx, "account", `SELECT failed_at FROM signin_failures
		WHERE account_key = ? AND failed_at > ? ORDER BY failed_at DESC LIMIT ?`, account, since, n)
}

// SignInFailuresOfAddress are the times of the newest failures from address
// after since, for any account, newest first, at most n of them.
func (d *DB) SignInFailuresOfAddress(ctx context.Context, address string, since time.Time, n int) ([]time.Time, error) {
	return d.signInFailures(ctx, "address", `SELECT failed_at FROM signin_failures
		WHERE address_key = ? AND failed_at > ? ORDER BY failed_at DESC LIMIT ?`, address, since, n)
}

func (d *DB) signInFailures(ctx context.Context, of, query, key string, since time.Time, n int) ([]time.Time, error) {
	rows, err := d.read.QueryContext(ctx, query, key, millis(since), n)
	if err != nil {
		return nil, fmt.Errorf("count the failed sign-ins of an %s: %w", of, err)
	}
	defer rows.Close()
	var times []time.Time
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			return nil, fmt.Errorf("count the failed sign-ins of an %s: %w", of, err)
		}
		times = append(times, fromMillis(at))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count the failed sign-ins of an %s: %w", of, err)
	}
	return times, nil
}
