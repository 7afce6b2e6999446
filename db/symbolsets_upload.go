package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stacklens/stacklens/symbols"
)

// Storage of uploads (symbols.UploadStore): the service in symbols decides,
// these statements persist, and InUploadTx makes one request's writes one
// transaction.

// InUploadTx runs fn in one write transaction (symbols.UploadStore): its
// writes commit together when fn returns nil, none otherwise.
func (d *DB) InUploadTx(ctx context.Context, fn func(symbols.UploadTx) error) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin upload: %w", err)
	}
	defer tx.Rollback()
	if err := fn(uploadTx{d: d, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit upload: %w", err)
	}
	return nil
}

// uploadTx is symbols.UploadTx over one transaction.
type uploadTx struct {
	d  *DB
	tx *txn
}

func (t uploadTx) SymbolSet(ctx context.Context, projectID int64, ref string) (symbols.SymbolSet, error) {
	return symbolSetByRef(ctx, t.tx, projectID, ref)
}

func (t uploadTx) SymbolSetByID(ctx context.Context, projectID, id int64) (symbols.SymbolSet, error) {
	return symbolSetByID(ctx, t.tx, projectID, id)
}

func (t uploadTx) SaveSymbolSet(ctx context.Context, s symbols.SymbolSet, sourceMap, minified []byte) (symbols.SymbolSet, error) {
	return t.d.saveSymbolSet(ctx, t.tx, s, sourceMap, minified)
}

func (t uploadTx) UploadInfo(ctx context.Context, projectID, id int64) (symbols.UploadInfo, error) {
	var info symbols.UploadInfo
	err := t.tx.QueryRowContext(ctx, "SELECT release, upload_hash FROM symbol_sets WHERE project_id = ? AND id = ?",
		projectID, id).Scan(&info.Release, &info.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return info, symbols.ErrNoSymbolSet
	}
	if err != nil {
		return info, fmt.Errorf("load upload of symbol set %d: %w", id, err)
	}
	return info, nil
}

func (t uploadTx) SetUploadInfo(ctx context.Context, projectID, id int64, info symbols.UploadInfo) error {
	if _, err := t.tx.ExecContext(ctx, "UPDATE symbol_sets SET release = ?, upload_hash = ? WHERE project_id = ? AND id = ?",
		info.Release, info.Hash, projectID, id); err != nil {
		return fmt.Errorf("record upload of symbol set %d: %w", id, err)
	}
	return nil
}

func (t uploadTx) CreatePendingUpload(ctx context.Context, projectID, symbolSetID int64, release string, expires time.Time) (int64, error) {
	now := time.Now()
	if _, err := t.tx.ExecContext(ctx, "DELETE FROM symbol_set_uploads WHERE expires_at < ?", millis(now)); err != nil {
		return 0, fmt.Errorf("drop expired uploads: %w", err)
	}
	var newID int64
	err := t.tx.QueryRowContext(ctx, `INSERT INTO symbol_set_uploads(project_id, symbol_set_id, release, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, projectID, symbolSetID, release, millis(now), millis(expires)).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("start upload of symbol set %d: %w", symbolSetID, err)
	}
	return newID, nil
}

func (t uploadTx) FinishPendingUploads(ctx context.Context, projectID, symbolSetID int64) error {
	if _, err := t.tx.ExecContext(ctx, "DELETE FROM symbol_set_uploads WHERE project_id = ? AND symbol_set_id = ?", projectID, symbolSetID); err != nil {
		return fmt.Errorf("finish uploads of symbol set %d: %w", symbolSetID, err)
	}
	return nil
}

// MissingSymbolSets lists a project's symbol sets without a map, most recently used first.
func (d *DB) MissingSymbolSets(ctx context.Context, projectID int64) ([]symbols.PairTarget, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT id, ref, ref_kind FROM symbol_sets WHERE project_id = ? AND state = 'missing'
		ORDER BY last_used_at IS NULL, last_used_at DESC, id DESC`, projectID)
	if err != nil {
		return nil, fmt.Errorf("missing symbol sets: %w", err)
	}
	defer rows.Close()
	var out []symbols.PairTarget
	for rows.Next() {
		var t symbols.PairTarget
		var kind string
		if err := rows.Scan(&t.ID, &t.Ref, &kind); err != nil {
			return nil, fmt.Errorf("missing symbol sets: %w", err)
		}
		t.Kind = symbols.RefKind(kind)
		out = append(out, t)
	}
	return out, rows.Err()
}

const pendingColumns = "id, project_id, symbol_set_id, release, blob_hash, expires_at, uploaded_at IS NOT NULL"

func scanPending(row interface{ Scan(...any) error }) (symbols.PendingUpload, error) {
	var p symbols.PendingUpload
	var expires int64
	err := row.Scan(&p.ID, &p.ProjectID, &p.SymbolSetID, &p.Release, &p.BlobHash, &expires, &p.Uploaded)
	if errors.Is(err, sql.ErrNoRows) {
		return p, symbols.ErrNoPendingUpload
	}
	p.ExpiresAt = fromMillis(expires)
	return p, err
}

// PendingUpload loads an open API upload; symbols.ErrNoPendingUpload when there is none.
func (d *DB) PendingUpload(ctx context.Context, id int64) (symbols.PendingUpload, error) {
	p, err := scanPending(d.read.QueryRowContext(ctx, "SELECT "+pendingColumns+" FROM symbol_set_uploads WHERE id = ?", id))
	if err != nil && !errors.Is(err, symbols.ErrNoPendingUpload) {
		return p, fmt.Errorf("load upload %d: %w", id, err)
	}
	return p, err
}

// SavePendingBlob stores the file that arrived for an open upload.
func (d *DB) SavePendingBlob(ctx context.Context, id int64, blob []byte, hash string) error {
	if _, err := d.write.ExecContext(ctx, "UPDATE symbol_set_uploads SET blob = ?, blob_hash = ?, uploaded_at = ? WHERE id = ?",
		blob, hash, millis(time.Now()), id); err != nil {
		return fmt.Errorf("store uploaded file of upload %d: %w", id, err)
	}
	return nil
}

// LatestUploadedBlob returns the newest file uploaded for a symbol set and
// not yet finished, with its upload; symbols.ErrNoPendingUpload when none arrived.
func (d *DB) LatestUploadedBlob(ctx context.Context, projectID, symbolSetID int64) (symbols.PendingUpload, []byte, error) {
	var blob []byte
	p, err := scanPending(withExtra{row: d.read.QueryRowContext(ctx, "SELECT "+pendingColumns+`, blob FROM symbol_set_uploads
		WHERE project_id = ? AND symbol_set_id = ? AND uploaded_at IS NOT NULL AND expires_at >= ?
		ORDER BY uploaded_at DESC, id DESC LIMIT 1`, projectID, symbolSetID, millis(time.Now())), extra: []any{&blob}})
	if err != nil && !errors.Is(err, symbols.ErrNoPendingUpload) {
		return p, nil, fmt.Errorf("load uploaded file of symbol set %d: %w", symbolSetID, err)
	}
	return p, blob, err
}
