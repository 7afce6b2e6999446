package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stacklens/stacklens/symbols"
)

// Storage of bulk uploads waiting for their confirmation (symbols.BatchStore).
// Files are stored compressed: they are mostly source maps, which shrink
// several times.

// SaveUploadBatch keeps a batch and its files in one transaction. The
// files are compressed before it begins: compressing a batch at the size
// cap takes seconds, which would hold the one writer from storing events.
func (d *DB) SaveUploadBatch(ctx context.Context, b symbols.KeptBatch) error {
	packed := make([][]byte, len(b.Files))
	for i, f := range b.Files {
		packed[i] = d.blobs.compress(f.Data)
	}
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("keep uploaded files: %w", err)
	}
	defer tx.Rollback()
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO upload_batches(token_hash, project_id, user_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, b.TokenHash, b.Owner.ProjectID, b.Owner.UserID, millis(b.CreatedAt), millis(b.ExpiresAt)).Scan(&id); err != nil {
		return fmt.Errorf("keep uploaded files: %w", err)
	}
	for i, f := range b.Files {
		if _, err := tx.ExecContext(ctx, "INSERT INTO upload_batch_files(batch_id, position, name, data) VALUES (?, ?, ?, ?)",
			id, i, f.Name, packed[i]); err != nil {
			return fmt.Errorf("keep uploaded file %s: %w", f.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("keep uploaded files: %w", err)
	}
	return nil
}

// UploadBatch loads a batch with its files; symbols.ErrBatchGone when there is none.
func (d *DB) UploadBatch(ctx context.Context, tokenHash string) (symbols.KeptBatch, error) {
	b := symbols.KeptBatch{TokenHash: tokenHash}
	var id, created, expires int64
	err := d.read.QueryRowContext(ctx, "SELECT id, project_id, user_id, created_at, expires_at FROM upload_batches WHERE token_hash = ?",
		tokenHash).Scan(&id, &b.Owner.ProjectID, &b.Owner.UserID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return b, symbols.ErrBatchGone
	}
	if err != nil {
		return b, fmt.Errorf("load uploaded files: %w", err)
	}
	b.CreatedAt, b.ExpiresAt = fromMillis(created), fromMillis(expires)
	rows, err := d.read.QueryContext(ctx, "SELECT name, data FROM upload_batch_files WHERE batch_id = ? ORDER BY position", id)
	if err != nil {
		return b, fmt.Errorf("load uploaded files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var data []byte
		if err := rows.Scan(&name, &data); err != nil {
			return b, fmt.Errorf("load uploaded files: %w", err)
		}
		if data, err = d.blobs.decompress(data); err != nil {
			return b, fmt.Errorf("load uploaded file %s: %w", name, err)
		}
		b.Files = append(b.Files, symbols.UploadFile{Name: name, Data: data})
	}
	if err := rows.Err(); err != nil {
		return b, fmt.Errorf("load uploaded files: %w", err)
	}
	return b, nil
}

// DeleteUploadBatch removes a batch; its files go with it (ON DELETE CASCADE).
func (d *DB) DeleteUploadBatch(ctx context.Context, tokenHash string) error {
	if _, err := d.write.ExecContext(ctx, "DELETE FROM upload_batches WHERE token_hash = ?", tokenHash); err != nil {
		return fmt.Errorf("remove uploaded files: %w", err)
	}
	return nil
}

// DeleteUploadBatchesExpiredBefore removes the batches that expired before t, with their files.
func (d *DB) DeleteUploadBatchesExpiredBefore(ctx context.Context, t time.Time) error {
	if _, err := d.write.ExecContext(ctx, "DELETE FROM upload_batches WHERE expires_at < ?", millis(t)); err != nil {
		return fmt.Errorf("remove expired uploaded files: %w", err)
	}
	return nil
}
